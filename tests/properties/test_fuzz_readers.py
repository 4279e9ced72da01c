"""Fuzzing the readers of history: transcripts (JSON lines), Slack exports and DiscordChatExporter files.

Files are built from valid records, records with keys dropped or values of the wrong type, and lines or files
that are no JSON at all (garbage, invalid UTF-8, nesting too deep for the parser, numbers with too many digits).
Reading never raises (but for the one documented refusal: a transcript that is a binary file); every valid
record comes through as its event; what was skipped is reported through the reader's problems, each on one line
naming the line or file.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from adapters.discord.export import DiscordExport
from adapters.slack.export import SlackExport
from bot.core.events import (
    CommandInvoked,
    Event,
    InteractionClicked,
    MemberJoined,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
)
from bot.core.markup import mentions
from bot.core.transcript import Problems, TranscriptError, read_events, read_meta
from tests.properties.strategies import (
    FUZZ,
    Target,
    chat_text,
    logged,
    mutated,
    one_line,
    reasons,
    short_text,
    slack_channels,
    slack_teams,
    slack_users,
    wrong_value,
)
from tests.properties.test_fuzz_slack import well_typed

WORKSPACE = "console:fuzz"
_SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


@contextmanager
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="steward-fuzz-", dir=_SCRATCH) as folder:
        yield Path(folder)


# --- broken lines and files ----------------------------------------------------------------------------------

no_newline = st.text(max_size=60).map(lambda t: t.replace("\n", " ").replace("\r", " ").replace("\x00", " "))
garbage_bytes = st.binary(max_size=60).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" ").replace(b"\0", b" "))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8,
)
hostile_json = st.one_of(
    st.integers(min_value=1000, max_value=200_000).map(lambda n: "[" * n),  # deeper than the parser goes
    st.integers(min_value=4301, max_value=6000).map(lambda n: "1" * n),  # more digits than int() takes
    st.integers(min_value=1000, max_value=50_000).map(lambda n: '{"a":' * n + "1" + "}" * n),
)


def broken_bytes() -> st.SearchStrategy[bytes]:
    """One line or file that no reader can use."""
    return st.one_of(
        no_newline.map(str.encode),
        garbage_bytes,
        json_values.map(lambda v: json.dumps(v).encode()),
        hostile_json.map(str.encode),
    )


# --- transcripts ---------------------------------------------------------------------------------------------

iso_times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)).map(
    lambda moment: moment.isoformat()
)
ids = st.text(min_size=1, max_size=20)
transcript_records = st.one_of(
    st.fixed_dictionaries(
        {"kind": st.just("message"), "ts": iso_times, "id": ids, "channel": ids, "user": ids, "text": chat_text},
        optional={"user_name": ids, "thread": ids, "reply_to": ids, "bot": st.booleans()},
    ),
    st.fixed_dictionaries({"kind": st.just("edit"), "ts": iso_times, "id": ids, "text": chat_text}),
    st.fixed_dictionaries({"kind": st.just("delete"), "ts": iso_times, "id": ids}),
    st.fixed_dictionaries(
        {"kind": st.just("reaction"), "ts": iso_times, "message": ids, "user": ids, "emoji": ids}
    ),
    st.fixed_dictionaries({"kind": st.just("join"), "ts": iso_times, "channel": ids, "user": ids},
                          optional={"user_name": ids}),
    st.fixed_dictionaries({"kind": st.just("command"), "ts": iso_times, "channel": ids, "user": ids,
                           "text": chat_text}, optional={"thread": ids}),
    st.fixed_dictionaries({"kind": st.just("click"), "ts": iso_times, "channel": ids, "user": ids, "action": ids,
                           "message": ids}),
)
transcript_lines = st.lists(
    st.one_of(
        transcript_records.map(lambda r: ("valid", r)),
        transcript_records.map(lambda r: ("valid", r)),
        transcript_records.flatmap(mutated).map(lambda r: ("mutated", r)),
        st.fixed_dictionaries({"kind": st.sampled_from(["typing", "topic", "Message"]), "ts": iso_times}).map(
            lambda r: ("unknown", r)
        ),
        broken_bytes().map(lambda b: ("broken", b)),
        st.sampled_from([b"", b"   ", b"\t"]).map(lambda b: ("blank", b)),
    ),
    max_size=12,
)
transcripts = st.tuples(
    st.one_of(st.none(), st.fixed_dictionaries({"kind": st.just("meta"), "ts": iso_times},
                                               optional={"platform": wrong_value, "workspace": wrong_value,
                                                         "timezone": wrong_value, "language": wrong_value,
                                                         "until": st.one_of(iso_times, wrong_value)})),
    transcript_lines,
    st.sampled_from(["plain", "plain", "ascii", "gz", "truncated gz"]),
)


def expected_transcript_event(r: dict[str, Any]) -> Event:
    at = datetime.fromisoformat(r["ts"])
    kind = r["kind"]
    if kind == "message":
        return MessagePosted(workspace=WORKSPACE, at=at, channel=r["channel"], message_id=r["id"], user=r["user"],
                             text=r["text"], thread=r.get("thread"), reply_to=r.get("reply_to"),
                             bot=r.get("bot", False), user_name=r.get("user_name"), mentions=mentions(r["text"]))
    if kind == "edit":
        return MessageEdited(workspace=WORKSPACE, at=at, message_id=r["id"], text=r["text"])
    if kind == "delete":
        return MessageDeleted(workspace=WORKSPACE, at=at, message_id=r["id"])
    if kind == "reaction":
        return ReactionAdded(workspace=WORKSPACE, at=at, message_id=r["message"], user=r["user"], emoji=r["emoji"])
    if kind == "command":
        args = re.sub(r"^\s*/steward\b\s*", "", r["text"], flags=re.IGNORECASE).strip()
        return CommandInvoked(workspace=WORKSPACE, at=at, channel=r["channel"], user=r["user"], args=args,
                              thread=r.get("thread"))
    if kind == "click":
        return InteractionClicked(workspace=WORKSPACE, at=at, channel=r["channel"], user=r["user"],
                                  action=r["action"], value=r["message"])
    return MemberJoined(workspace=WORKSPACE, at=at, channel=r["channel"], user=r["user"], user_name=r.get("user_name"))


def check_transcript(case: tuple[dict[str, Any] | None, list[tuple[str, Any]], str]) -> list[str]:
    meta, lines, form = case
    encoded = [] if meta is None else [json.dumps(meta).encode()]
    for _, value in lines:
        if isinstance(value, bytes):
            encoded.append(value)
        else:
            encoded.append(json.dumps(value, ensure_ascii=form == "ascii").encode())
    offset = len(encoded) - len(lines)  # the meta line comes first
    data = b"\n".join(encoded) + b"\n"
    with scratch() as folder:
        if "gz" in form:
            path = folder / "t.jsonl.gz"
            packed = gzip.compress(data)
            path.write_bytes(packed[: max(10, len(packed) * 2 // 3)] if form == "truncated gz" else packed)
        else:
            path = folder / "t.jsonl"
            path.write_bytes(data)
        problems = Problems()
        with logged() as records:
            try:
                read = list(read_events(path, WORKSPACE, problems))
                info = read_meta(path)
            except TranscriptError as exc:
                assert "gz" not in form and b"\0" in data[:8192], f"refused a text transcript: {exc}"
                return [str(exc)]
    for value in (info.platform, info.workspace):
        assert isinstance(value, str) and value
    assert info.timezone is None or isinstance(info.timezone, str)
    assert info.language is None or isinstance(info.language, str)
    assert info.until is None or info.until.tzinfo is not None
    events = dict(read)
    for _, event in read:
        well_typed(event)
    skipped = one_line(problems.skipped)
    warnings = one_line(problems.warnings)
    reasons(records)
    named = {int(p.split(":")[1]) for p in skipped if p.split(":")[1].isdigit()}
    if form == "truncated gz":
        assert any("rest of file skipped" in p for p in skipped) or len(read) == sum(k == "valid" for k, _ in lines)
    unknown_kinds = any("'transcript' line ignored" in w for w in warnings)
    for index, (kind, value) in enumerate(lines):
        number = index + 1 + offset
        if form == "truncated gz":
            if number in events and kind == "valid":
                assert events[number] == expected_transcript_event(value)
            continue
        if kind == "valid":
            assert events.get(number) == expected_transcript_event(value), f"line {number} was lost"
        elif kind == "unknown":
            assert number not in events and unknown_kinds
        elif number not in events and kind in ("broken", "mutated"):
            parsed = _parsed(value) if kind == "broken" else value
            if kind == "broken" and not value.decode("utf-8", "replace").strip():
                continue  # a blank line
            is_meta = isinstance(parsed, dict) and parsed.get("kind") == "meta"
            assert number in named or unknown_kinds or is_meta, f"line {number} was dropped without a reason"
    return skipped + warnings


def _parsed(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


# --- Slack exports -------------------------------------------------------------------------------------------

person_names = st.sampled_from(["", "Anna", "Jürgen Groß", "سارا", "<!channel>", "\u202eevil", "🧑🏽\u200d💻"])
slack_folder_names = st.from_regex(r"[a-z0-9äöü][a-z0-9_äöü\-]{0,15}", fullmatch=True)
export_times = st.integers(min_value=1_600_000_000, max_value=1_800_000_000)


@st.composite
def slack_exports(draw: st.DrawFn) -> dict[str, Any]:
    """An export as files: a pristine core (users, channels, messages), mutated entries and broken files."""
    team = draw(slack_teams)
    users = draw(st.lists(slack_users, min_size=1, max_size=4, unique=True))
    names = draw(st.lists(slack_folder_names, min_size=1, max_size=3, unique=True))
    channel_ids = draw(st.lists(slack_channels, min_size=len(names), max_size=len(names), unique=True))
    seconds = draw(st.lists(export_times, min_size=0, max_size=8, unique=True))
    messages: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for second in seconds:
        message: dict[str, Any] = {
            "type": "message",
            "user": draw(st.sampled_from([*users, "U0GHOST00"])),
            "text": draw(chat_text),
            "ts": f"{second}.{draw(st.integers(0, 999_999)):06d}",
        }
        if draw(st.booleans()):
            message["thread_ts"] = f"{draw(export_times)}.000100"
        if draw(st.integers(0, 3)) == 0:
            message["reactions"] = [{"name": "white_check_mark", "users": users[:1], "count": 1}]
        if draw(st.integers(0, 3)) == 0:
            message["subtype"] = draw(st.sampled_from(["thread_broadcast", "file_share", "me_message"]))
        messages[draw(st.sampled_from(names))].append(message)
    mutants = draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(
        [m for ms in messages.values() for m in ms] or [{"type": "message", "ts": "1700000000.000100"}]
    ).flatmap(mutated)), max_size=4))
    broken = draw(st.lists(st.tuples(st.sampled_from(names), broken_bytes()), max_size=2))
    return {
        "users": [
            {"id": u, "team_id": team, "name": u.lower(), "real_name": draw(person_names), "tz": "Europe/Berlin",
             "profile": {"display_name": draw(person_names), "real_name": draw(person_names), "team": team},
             "is_bot": False}
            for u in users
        ] + draw(st.lists(st.fixed_dictionaries({"id": slack_users, "name": short_text}).flatmap(mutated),
                          max_size=2)),
        "channels": [
            {"id": cid, "name": name, "created": 1_600_000_000, "is_private": False}
            for cid, name in zip(channel_ids, names, strict=True)
        ] + draw(st.lists(st.fixed_dictionaries({"id": slack_channels, "name": slack_folder_names}).flatmap(mutated),
                          max_size=2)),
        "channel_ids": dict(zip(names, channel_ids, strict=True)),
        "messages": messages,
        "mutants": mutants,
        "broken": broken,
        "zip": draw(st.sampled_from(["folder", "zip", "zip with a top folder"])),
    }


def _day(ts: str) -> str:
    return datetime.fromtimestamp(float(ts), UTC).strftime("%Y-%m-%d")


def _write_slack_export(folder: Path, export: dict[str, Any]) -> tuple[Path, dict[str, bytes]]:
    files: dict[str, bytes] = {
        "users.json": json.dumps(export["users"]).encode(),
        "channels.json": json.dumps(export["channels"]).encode(),
    }
    days: dict[str, list[Any]] = {}
    for name, messages in export["messages"].items():
        for message in messages:
            days.setdefault(f"{name}/{_day(message['ts'])}.json", []).append(message)
    for n, (name, mutant) in enumerate(export["mutants"]):
        days.setdefault(f"{name}/2099-01-0{n + 1}.json", []).append(mutant)
    for day, messages in days.items():
        files[day] = json.dumps(messages).encode()
    broken = {}
    for n, (name, data) in enumerate(export["broken"]):
        broken[f"{name}/2098-12-0{n + 1}.json"] = data
        files[f"{name}/2098-12-0{n + 1}.json"] = data
    if export["zip"] == "folder":
        root = folder / "export"
        for name, data in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        return root, broken
    path = folder / "export.zip"
    top = "Acme Slack export/" if export["zip"] == "zip with a top folder" else ""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(top + name, data)
    return path, broken


def check_slack_export(export: dict[str, Any]) -> list[str]:
    with scratch() as folder:
        path, broken = _write_slack_export(folder, export)
        with logged() as records:
            reader = SlackExport(path)
            events = list(reader.events())
    for event in events:
        well_typed(event)
    skipped, warnings = one_line(reader.problems.skipped), one_line(reader.problems.warnings)
    reasons(records)
    posted = [e for e in events if isinstance(e, MessagePosted)]
    found = {(e.message_id, e.channel, e.user, e.text, e.thread) for e in posted}
    pristine_order = []
    for name, messages in export["messages"].items():
        for message in messages:
            text = message["text"] if message["text"].strip() else ""
            thread = message.get("thread_ts")
            key = (message["ts"], export["channel_ids"][name], message["user"], text,
                   thread if thread != message["ts"] else None)
            assert key in found, f"message {message['ts']} was lost"
            pristine_order.append(message["ts"])
    first_seen = list(dict.fromkeys(e.message_id for e in posted if e.message_id in set(pristine_order)))
    times = [float(ts) for ts in first_seen]
    assert times == sorted(times), "messages out of time order"
    for day, data in broken.items():
        if _parsed(data) != []:
            assert any(day in problem for problem in skipped), f"{day} is broken and went unreported"
    return skipped + warnings


# --- DiscordChatExporter exports ----------------------------------------------------------------------------

dce_snowflakes = st.integers(min_value=10**17, max_value=10**19).map(str)
dce_times = st.datetimes(min_value=datetime(2016, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC))


@st.composite
def discord_exports(draw: st.DrawFn) -> dict[str, Any]:
    guild = {"id": draw(dce_snowflakes), "name": draw(person_names), "iconUrl": "https://cdn.example/x.png"}
    authors = [
        {"id": a, "name": draw(person_names), "discriminator": "0000", "nickname": draw(person_names), "isBot": False}
        for a in draw(st.lists(dce_snowflakes, min_size=1, max_size=3, unique=True))
    ]
    files = []
    for n in range(draw(st.integers(min_value=1, max_value=3))):
        thread = draw(st.booleans())
        channel = {
            "id": draw(dce_snowflakes),
            "type": "GuildPublicThread" if thread else "GuildTextChat",
            "categoryId": draw(dce_snowflakes),
            "category": draw(person_names),
            "name": f"channel-{n}",
            "topic": None,
        }
        messages = []
        for mid in draw(st.lists(dce_snowflakes, max_size=5, unique=True)):
            moment = draw(dce_times)
            message: dict[str, Any] = {
                "id": mid,
                "type": draw(st.sampled_from(["Default", "Default", "Reply"])),
                "timestamp": moment.isoformat(),
                "timestampEdited": None,
                "isPinned": False,
                "content": draw(chat_text),
                "author": draw(st.sampled_from(authors)),
                "attachments": [],
                "embeds": [],
                "reactions": [],
                "mentions": [],
            }
            if message["type"] == "Reply":
                message["reference"] = {"messageId": draw(dce_snowflakes), "channelId": channel["id"],
                                        "guildId": guild["id"]}
            if draw(st.integers(0, 3)) == 0:
                message["timestampEdited"] = (moment + timedelta(minutes=5)).isoformat()
            if draw(st.integers(0, 3)) == 0:
                message["reactions"] = [{"emoji": {"id": None, "name": "✅", "code": "white_check_mark"}, "count": 1,
                                         "users": [{"id": authors[0]["id"], "name": "x"}]}]
            messages.append(message)
        mutants = draw(st.lists(st.sampled_from(messages or [{"id": "1", "type": "Default"}]).flatmap(mutated),
                                max_size=3))
        files.append({"guild": guild, "channel": channel, "messages": messages, "mutants": mutants})
    broken = draw(st.lists(broken_bytes(), max_size=2))
    broken_header = draw(st.lists(st.fixed_dictionaries({"guild": wrong_value, "channel": wrong_value,
                                                         "messages": wrong_value}), max_size=1))
    return {"files": files, "broken": broken, "broken_header": broken_header}


def check_discord_export(export: dict[str, Any]) -> list[str]:
    with scratch() as folder:
        for n, item in enumerate(export["files"]):
            body = {"guild": item["guild"], "channel": item["channel"], "dateRange": {"after": None, "before": None},
                    "messages": item["messages"] + item["mutants"], "messageCount": len(item["messages"])}
            (folder / f"channel-{n}.json").write_text(json.dumps(body), encoding="utf-8")
        for n, data in enumerate(export["broken"]):
            (folder / f"broken-{n}.json").write_bytes(data)
        for n, header in enumerate(export["broken_header"]):
            (folder / f"odd-{n}.json").write_text(json.dumps(header), encoding="utf-8")
        with logged() as records:
            reader = DiscordExport(folder)
            events = list(reader.events())
    for event in events:
        well_typed(event)
    skipped, warnings = one_line(reader.problems.skipped), one_line(reader.problems.warnings)
    reasons(records)
    times = [e.at for e in events]
    assert times == sorted(times), "events out of time order"
    posted = {(e.message_id, e.channel, e.thread, e.user, e.text, e.reply_to) for e in events
              if isinstance(e, MessagePosted)}
    for item in export["files"]:
        channel = item["channel"]
        thread = channel["id"] if channel["type"] == "GuildPublicThread" else None
        where = channel["categoryId"] if thread else channel["id"]
        for message in item["messages"]:
            reference = message.get("reference")
            content = message["content"] if message["content"].strip() else ""
            key = (message["id"], where, thread if thread != message["id"] else None, message["author"]["id"],
                   content, reference["messageId"] if reference else None)
            assert key in posted, f"message {message['id']} was lost"
    for n in range(len(export["broken"])):
        assert any(f"broken-{n}.json" in p for p in skipped), "a broken file went unreported"
    return skipped + warnings


TARGETS = [
    Target("transcript reader (JSON lines)", transcripts, check_transcript),
    Target("slack export reader", slack_exports(), check_slack_export),
    Target("discord export reader (DiscordChatExporter)", discord_exports(), check_discord_export),
]


@FUZZ
@given(transcripts)
def test_a_transcript_keeps_every_valid_line_and_names_every_skipped_one(case: Any) -> None:
    check_transcript(case)


@FUZZ
@given(slack_exports())
def test_a_slack_export_keeps_every_valid_message_and_reports_broken_files(export: dict[str, Any]) -> None:
    check_slack_export(export)


@FUZZ
@given(discord_exports())
def test_a_discord_export_keeps_every_valid_message_and_reports_broken_files(export: dict[str, Any]) -> None:
    check_discord_export(export)


def test_hostile_json_lines_are_skipped_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    valid = {"kind": "message", "ts": "2026-03-02T09:00:00+00:00", "id": "m1", "channel": "c", "user": "u",
             "text": "hi"}
    path.write_text("\n".join(["[" * 100_000, "1" * 5000, '{"kind": ["message"]}', json.dumps(valid)]) + "\n")
    problems = Problems()
    events = list(read_events(path, WORKSPACE, problems))
    assert [n for n, _ in events] == [4]
    assert [p.split(":")[1] for p in problems.skipped] == ["1", "2", "3"]


def test_an_odd_timestamp_is_named_briefly(tmp_path: Path) -> None:
    root = tmp_path / "export"
    (root / "help").mkdir(parents=True)
    (root / "users.json").write_text('[{"id": "U1", "name": "ana"}]')
    (root / "channels.json").write_text('[{"id": "C1", "name": "help"}]')
    odd = "\U000b8291¶Ö" * 300
    (root / "help" / "2024-03-04.json").write_text(json.dumps([{"type": "message", "user": "U1", "ts": odd}]))
    reader = SlackExport(root)
    assert list(reader.events()) == []
    (problem,) = reader.problems.skipped
    assert "unparsable timestamp" in problem and len(problem) < 120
