"""`steward config reference`: the table of every setting, printed from the settings class (bot/settings_doc.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from bot.cli_support import fail
from bot.i18n import translate
from bot.settings import Settings
from bot.settings_doc import BEGIN, END, embed, embedded_table, reference_table

config_app = typer.Typer(help="Steward's settings.", no_args_is_help=True)


@config_app.command("reference")
def reference(
    write: Annotated[
        Path | None,
        typer.Option("--write", help=f"Replace the table between {BEGIN} and {END} in this Markdown file."),
    ] = None,
    check: Annotated[
        Path | None,
        typer.Option("--check", help="Exit with status 1 when the table in this Markdown file is out of date."),
    ] = None,
) -> None:
    """Print every setting as a Markdown table: variable, default, allowed values and what it does."""
    table = reference_table()
    language = _language()
    target = write or check
    if target is None:
        typer.echo(table, nl=False)
        return
    document = target.read_text(encoding="utf-8")
    try:
        current = embedded_table(document)
    except ValueError:
        fail(translate("config.no_markers", language, path=target, begin=BEGIN, end=END))
    if current == table:
        typer.echo(translate("config.reference_current", language, path=target))
    elif write is not None:
        target.write_text(embed(document, table), encoding="utf-8")
        typer.echo(translate("config.reference_written", language, path=target))
    else:
        typer.secho(translate("config.reference_stale", language, path=target), err=True, fg=typer.colors.RED)
        raise typer.Exit(1)


def _language() -> str:
    """The operator's language when the settings can be read; the reference is also wanted when they cannot."""
    try:
        return Settings().steward_language
    except ValidationError:
        return "en"
