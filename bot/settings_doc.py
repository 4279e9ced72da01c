"""The configuration reference, written from the settings class itself.

Each setting's description, default and limits live once, in its `Field` in `bot/settings.py`; the table in
docs/operations.md is printed from there (`steward config reference`), so the reference cannot drift from the
code. A test fails when the document holds an older table.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

from bot.settings import Settings

BEGIN = "<!-- settings:begin -->"
END = "<!-- settings:end -->"

_KINDS: dict[type, str] = {int: "integer", float: "number", str: "text", bool: "`true` or `false`"}


@dataclass(frozen=True)
class SettingDoc:
    """One row of the reference: what an operator writes, what it is without them, and what it may be."""

    variable: str
    default: str
    allowed: str
    description: str
    secret: bool


def describe(settings_class: type[BaseSettings] = Settings) -> list[SettingDoc]:
    """The settings in the order the class declares them."""
    prefix = str(settings_class.model_config.get("env_prefix") or "")
    rows = []
    for name, field in settings_class.model_fields.items():
        secret = _is_secret(field.annotation)
        rows.append(
            SettingDoc(
                variable=_variable(name, field, prefix),
                default="" if secret else _default(field),
                allowed=_allowed(field, secret),
                description=" ".join((field.description or "").split()),  # a field without one: an empty cell
                secret=secret,
            )
        )
    return rows


def reference_table(settings_class: type[BaseSettings] = Settings) -> str:
    """The Markdown table, ending with a newline."""
    lines = ["| variable | default | allowed values | description |", "|---|---|---|---|"]
    for row in describe(settings_class):
        cells = (f"`{row.variable}`", row.default, row.allowed, row.description)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def embedded_table(document: str) -> str:
    """The text between the markers of a Markdown document (ValueError when they are missing)."""
    start, end = _markers(document)
    return document[start:end].strip("\n") + "\n"


def embed(document: str, table: str) -> str:
    """The document with the text between its markers replaced by `table`."""
    start, end = _markers(document)
    return document[:start] + "\n" + table.strip("\n") + "\n" + document[end:]


def _markers(document: str) -> tuple[int, int]:
    begin = document.find(BEGIN)
    end = document.find(END, begin + len(BEGIN)) if begin >= 0 else -1
    if begin < 0 or end < 0:
        raise ValueError(f"the document has no {BEGIN} … {END} markers")
    return begin + len(BEGIN), end


def _variable(name: str, field: FieldInfo, prefix: str) -> str:
    alias = field.validation_alias if isinstance(field.validation_alias, str) else field.alias
    return (alias or f"{prefix}{name}").upper()


def _default(field: FieldInfo) -> str:
    value: Any = field.default
    if value is PydanticUndefined:
        if field.default_factory is None:
            return "*required*"
        value = field.default_factory()  # type: ignore[call-arg]
    if value is None:
        return "*unset*"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    if value == "":
        return "*empty*"
    return f"`{value}`"


def _allowed(field: FieldInfo, secret: bool) -> str:
    """The type in words and the limits the field declares (ge, gt, le, lt, lengths, a Literal's values)."""
    if secret:
        return "secret text"
    kind = _base(field.annotation)
    if get_origin(kind) is Literal:
        return " or ".join(f"`{v}`" for v in get_args(kind))
    words = _KINDS.get(kind, getattr(kind, "__name__", str(kind))) if isinstance(kind, type) else str(kind)
    lower = upper = ""
    lengths: list[str] = []
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge):
            lower = f"≥ {item.ge}"
        elif isinstance(item, annotated_types.Gt):
            lower = f"> {item.gt}"
        elif isinstance(item, annotated_types.Le):
            upper = f"≤ {item.le}"
        elif isinstance(item, annotated_types.Lt):
            upper = f"< {item.lt}"
        elif isinstance(item, annotated_types.MinLen):
            lengths.append(f"at least {item.min_length} characters")
        elif isinstance(item, annotated_types.MaxLen):
            lengths.append(f"at most {item.max_length} characters")
    if lower.startswith("≥") and upper.startswith("≤"):  # the common closed range reads best as "0 to 23"
        limits = [f"{lower[2:]} to {upper[2:]}"]
    else:
        limits = [x for x in (lower, upper) if x]
    limits += lengths
    return ", ".join([words, *limits])


def _base(annotation: Any) -> Any:
    """`X | None` is X: an unset optional setting shows as *unset* in the default column."""
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _is_secret(annotation: Any) -> bool:
    kind = _base(annotation)
    return isinstance(kind, type) and issubclass(kind, SecretStr)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
