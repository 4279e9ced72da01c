"""The portal's pages. Each handler reads through the viewer's visible channels; nothing else decides access."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from adapters.web import charts
from adapters.web.access import Viewer, enough_people, viewer_for
from adapters.web.cache import health_weeks
from adapters.web.security import csrf_ok, csrf_token
from adapters.web.texts import Texts
from bot.app.errands.lessons import curate_lesson
from bot.app.lesson_files import markdown, record, slug
from bot.core.actions import Action, PostEphemeral
from bot.core.digest_figures import WEEK, Period
from bot.core.events import CommandInvoked, Event
from bot.i18n import LANGUAGES, supported, time_of_day, translate
from bot.state import MemberState
from facilitation_rules.lessons import permalink
from facilitation_rules.own_settings import (
    BadSetting,
    Source,
    hours_text,
    language_name,
    own_settings,
    parse_quiet,
    parse_zone,
    source_text,
)
from storage import boards, metrics
from storage.lessons import Lesson, LessonStore
from storage.metrics import HealthWeek
from storage.portal import peek_sign_in, redeem_sign_in

logger = logging.getLogger(__name__)

EventSink = Callable[[Event], Awaitable[list[Action]]]  # the engine's `handle`: decides, records, replies

HEALTH_WEEKS = 12
MAX_MUTE_DAYS = 365
FORM_CHARS = 100  # what a settings form field may hold (a time zone name, an hour)
PORTAL_CHANNEL = "portal"  # where a command from the portal says it came from (its reply is shown on the page)
LISTED = 50  # lessons on one page of the list or of search results
TAGS_SECONDS = 60.0  # how long a tag list is reused (retagging shows on the lesson at once, in the list soon)
MAX_HEALTH_WEEKS = 104
LESSON_VERBS = ("edit", "retag", "verify", "merge", "delete")
_MARKUP = re.compile(
    r"<(?:(?P<sigil>[@#])!?(?P<ref>[A-Za-z0-9_.:-]+)|(?P<url>https?://[^|>\s]+))(?:\|(?P<label>[^>]*))?>"
)


# --- rendering --------------------------------------------------------------------------------------------------
def texts_for(request: Request, viewer: Viewer | None) -> Texts:
    """The reader's language (their choice, else the browser's, else the community's) and time zone."""
    chosen = request.session.get("lang")
    if chosen not in LANGUAGES:
        accepted = request.headers.get("accept-language", "")[:2].lower()
        chosen = accepted if accepted in LANGUAGES else (viewer.community.language if viewer else "en")
    return Texts(supported(chosen), viewer.community.timezone if viewer else "UTC")


def render(request: Request, template: str, viewer: Viewer | None, status: int = 200, **context: Any) -> Response:
    texts = texts_for(request, viewer)
    env = request.app.state.templates
    html = env.get_template(template).render(
        request=request, viewer=viewer, csrf=csrf_token(request), path=request.url.path,
        **texts.template_globals(), **context,
    )
    return HTMLResponse(html, status_code=status)


async def signed_in(request: Request) -> Viewer:
    """The viewer of this session; a page without one answers 401 with the way to sign in."""
    who = request.session.get("who")
    if isinstance(who, dict):
        viewer = await viewer_for(
            request.app.state.db, str(who.get("workspace")), str(who.get("member")),
            request.app.state.settings.facilitator_ids, request.app.state.settings.facilitators_channel,
        )
        if viewer is not None:
            return viewer
        request.session.pop("who", None)
    raise HTTPException(401)


def chat_markup(text: str, viewer: Viewer, names: dict[str, str]) -> Markup:
    """Text Steward wrote in chat markup (a digest) as safe HTML: `<@U1>` as @Anna, `<#C1>` as #help, a
    `<https://…|label>` link as a link; everything else escaped, line breaks kept by the stylesheet."""
    parts: list[str] = []
    position = 0
    for match in _MARKUP.finditer(text):
        parts.append(escape(text[position:match.start()]))
        sigil, ref, label = match.group("sigil"), match.group("ref"), match.group("label")
        if sigil == "@":
            parts.append(escape("@" + (label or names.get(ref, ref))))
        elif sigil == "#":
            parts.append(escape("#" + (label or viewer.channel_name(ref))))
        else:
            url = match.group("url")
            parts.append(f'<a href="{escape(url)}" rel="noopener noreferrer">{escape(label or url)}</a>')
        position = match.end()
    parts.append(escape(text[position:]))
    return Markup("".join(parts))


# --- sign-in ----------------------------------------------------------------------------------------------------
async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def sign_in_page(request: Request) -> Response:
    """Asks before using the link, so a chat app's link preview cannot spend it."""
    token = request.path_params["token"]
    found = await peek_sign_in(request.app.state.db, token, now=datetime.now(UTC))
    if found is None:
        return render(request, "message.html.j2", None, status=410, message_key="portal.link_invalid")
    async with request.app.state.db.connect() as conn:
        member = await boards.member_row(conn, found.workspace, found.member)
    name = (member.name if member is not None else "") or found.member
    return render(request, "sign_in.html.j2", None, token=token, name=name)


async def sign_in(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form):
        raise HTTPException(403)
    found = await redeem_sign_in(request.app.state.db, request.path_params["token"], now=datetime.now(UTC))
    if found is None:
        return render(request, "message.html.j2", None, status=410, message_key="portal.link_invalid")
    request.session.clear()  # a fresh session: nothing from before the sign-in carries over
    request.session["who"] = {"workspace": found.workspace, "member": found.member}
    logger.info("portal sign-in for %s in %s", found.member, found.workspace)
    return RedirectResponse("/", status_code=303)


async def sign_out(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form):
        raise HTTPException(403)
    request.session.clear()
    return render(request, "message.html.j2", None, message_key="portal.signed_out")


async def choose_language(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form):
        raise HTTPException(403)
    chosen = form.get("lang")
    if chosen in LANGUAGES:
        request.session["lang"] = chosen
    back = str(form.get("back") or "/")
    return RedirectResponse(back if back.startswith("/") and not back.startswith("//") else "/", status_code=303)


# --- pages ------------------------------------------------------------------------------------------------------
async def overview(request: Request) -> Response:
    viewer = await signed_in(request)
    db = request.app.state.db
    async with db.connect() as conn:
        end = await _figures_end(conn, viewer)
    week = await _health(request, viewer, [Period(end - WEEK, end)], None)
    async with db.connect() as conn:
        waiting = await boards.waiting_questions(conn, viewer.community.id, viewer.visible, limit=5)
        digests = await boards.posted_digests(conn, viewer.community.id, viewer.public)
        names = await boards.member_names(conn, viewer.community.id)
        lessons = await boards.recent_lessons(conn, viewer.community.id, viewer.visible, limit=5, order="created_at")
    latest: dict[str, boards.PostedDigest] = {}
    for digest in digests:
        latest.setdefault(digest.channel, digest)
    return render(
        request, "overview.html.j2", viewer, week=week[0] if week else None, week_end=end, waiting=waiting,
        recent=datetime.now(UTC) - end < timedelta(days=1),
        lessons=lessons, latest=latest, member_names=names,
        floor=request.app.state.settings.web_min_group, enough=enough_people,
    )


async def lessons_page(request: Request) -> Response:
    viewer = await signed_in(request)
    query = request.query_params.get("q", "").strip()[:200]
    tag = request.query_params.get("tag", "").strip()[:100]
    store: LessonStore = request.app.state.lessons
    async with request.app.state.db.connect() as conn:
        if query:
            hits = await store.search(viewer.community.id, query, limit=LISTED)
            found = [hit.lesson for hit in hits if hit.lesson.channel_id in viewer.visible]
        else:
            found = await boards.recent_lessons(conn, viewer.community.id, viewer.visible, limit=LISTED)
        if tag:
            found = [lesson for lesson in found if tag.lower() in (t.lower() for t in lesson.tags)]
        tags = await request.app.state.tag_cache.get_or(
            (viewer.community.id, viewer.visible), TAGS_SECONDS,
            lambda: boards.lesson_tags(conn, viewer.community.id, viewer.visible),
        )
    return render(request, "lessons.html.j2", viewer, lessons=found, query=query, tag=tag, tags=tags[:30])


async def lesson_page(request: Request) -> Response:
    viewer = await signed_in(request)
    lesson = await _lesson_for(request, viewer)
    store: LessonStore = request.app.state.lessons
    related = [
        hit for hit in await store.related(viewer.community.id, f"{lesson.title} {lesson.summary}", limit=4)
        if hit.id != str(lesson.id)
    ]
    async with request.app.state.db.connect() as conn:
        names = await boards.member_names(conn, viewer.community.id)
    notice = request.query_params.get("done", "")
    history = await store.history(viewer.community.id, lesson.id or 0)
    return render(
        request, "lesson.html.j2", viewer, lesson=lesson, related=related[:3], history=history, member_names=names,
        contributors=[names.get(member, member) for member in lesson.contributors],
        notice=f"portal.lesson_{notice}" if notice in LESSON_VERBS else "",
    )


async def lessons_json(request: Request) -> Response:
    """The lessons the viewer may see, as the JSON records `steward lessons export --format json` writes."""
    viewer = await signed_in(request)
    async with request.app.state.db.connect() as conn:
        names = await boards.member_names(conn, viewer.community.id)
    lessons = sorted(await _visible_lessons(request, viewer), key=lambda x: x.id or 0)
    body = json.dumps([record(lesson, names) for lesson in lessons], indent=2, ensure_ascii=False) + "\n"
    return Response(body, media_type="application/json",
                    headers={"content-disposition": 'attachment; filename="lessons.json"'})


async def lesson_markdown(request: Request) -> Response:
    """One lesson as the Markdown file `steward lessons export` writes."""
    viewer = await signed_in(request)
    lesson = await _lesson_for(request, viewer)
    async with request.app.state.db.connect() as conn:
        names = await boards.member_names(conn, viewer.community.id)
    texts = texts_for(request, viewer)
    name = f"{lesson.id:05d}-{slug(lesson.title)}.md"
    return PlainTextResponse(markdown(lesson, names, texts.language), media_type="text/markdown",
                             headers={"content-disposition": f'attachment; filename="{name}"'})


async def lesson_action(request: Request) -> Response:
    """A facilitator's edit, retag, verify, merge or delete: the same operation as the slash command."""
    viewer = await signed_in(request)
    form = await request.form()
    if not csrf_ok(request, form):
        raise HTTPException(403)
    if not viewer.facilitator:
        raise HTTPException(403)
    lesson = await _lesson_for(request, viewer)
    verb = str(form.get("action", ""))
    if verb not in LESSON_VERBS or lesson.id is None:
        raise HTTPException(400)
    words = str(form.get("value", "")).strip()[:500]
    into = _int(form.get("into"))
    if (verb in ("edit", "retag") and not words) or (verb == "merge" and into is None):
        raise HTTPException(400)
    if verb == "merge":
        target = await request.app.state.lessons.get(viewer.community.id, into)
        if target is None or target.channel_id not in viewer.visible:
            raise HTTPException(404)
    result = await curate_lesson(
        request.app.state.lessons, viewer.community.id, lesson.id, verb, words=words.split(" ") if words else (),
        into_id=into, by=viewer.member, now=datetime.now(UTC),
    )
    if not result:
        raise HTTPException(404)
    logger.info("portal: %s %s lesson %s in %s", viewer.member, verb, lesson.id, viewer.community.id)
    if verb == "delete":
        return RedirectResponse("/lessons", status_code=303)
    target_id = into if verb == "merge" else lesson.id
    return RedirectResponse(f"/lessons/{target_id}?done={verb}", status_code=303)


async def questions_page(request: Request) -> Response:
    viewer = await signed_in(request)
    async with request.app.state.db.connect() as conn:
        waiting = await boards.waiting_questions(conn, viewer.community.id, viewer.visible)
        names = await boards.member_names(conn, viewer.community.id)
    by_channel: dict[str, list[boards.WaitingQuestion]] = {}
    for question in waiting:
        by_channel.setdefault(question.channel, []).append(question)
    now = datetime.now(UTC)
    return render(
        request, "questions.html.j2", viewer, by_channel=by_channel, member_names=names, now=now,
        link=lambda q: permalink(viewer.community.id, q.channel, q.id),
        nudged_names=lambda q: [names.get(member, member) for member in q.nudged],
    )


async def health_page(request: Request) -> Response:
    viewer = await signed_in(request)
    if not viewer.facilitator:
        return render(request, "message.html.j2", viewer, status=403, message_key="portal.health_facilitators")
    texts = texts_for(request, viewer)
    async with request.app.state.db.connect() as conn:
        today = (await _figures_end(conn, viewer)).date()
    start = _date(request.query_params.get("from")) or today - timedelta(weeks=HEALTH_WEEKS)
    end = _date(request.query_params.get("to")) or today
    if end < start:
        start, end = end, start
    channel = request.query_params.get("channel") or None
    if channel is not None and channel not in viewer.public:
        channel = None
    periods = _weeks(start, end, viewer.community.timezone)
    weeks = await _health(request, viewer, periods, channel)
    while weeks and not weeks[0].active_members:  # the range may begin before the community did
        weeks.pop(0)
    floor = request.app.state.settings.web_min_group
    shown = [w for w in weeks if enough_people(w.active_members, floor)]
    return render(
        request, "health.html.j2", viewer, weeks=weeks, shown=shown, floor=floor, start=start, end=end,
        channel=channel, enough=enough_people,
        charts=[draw(shown, texts) for draw in (charts.response_times, charts.response_rates, charts.contributors)]
        if shown else [],
    )


async def digests_page(request: Request) -> Response:
    viewer = await signed_in(request)
    async with request.app.state.db.connect() as conn:
        digests = await boards.posted_digests(conn, viewer.community.id, viewer.public)
        names = await boards.member_names(conn, viewer.community.id)
    by_channel: dict[str, list[boards.PostedDigest]] = {}
    for digest in digests:
        by_channel.setdefault(digest.channel, []).append(digest)
    return render(
        request, "digests.html.j2", viewer, by_channel=by_channel,
        plain=lambda text: chat_markup(str(text), viewer, names),
    )


async def me_action(request: Request) -> Response:
    """Mute, unmute, forget me, quiet hours and time zone from the portal: the same command as in chat, decided by
    the engine. A quiet span or time zone it would refuse is refused here first, with the chat's line, on the page."""
    viewer = await signed_in(request)
    form = await request.form()
    if not csrf_ok(request, form):
        raise HTTPException(403)
    submit: EventSink | None = request.app.state.events
    if submit is None:
        raise HTTPException(400)
    action = str(form.get("action", ""))
    if action == "mute":
        days = _int(form.get("days"))
        if days is None or not 1 <= days <= MAX_MUTE_DAYS:
            raise HTTPException(400)
        args = f"mute {days}"
    elif action == "unmute":
        args = "unmute"
    elif action == "forget" and form.get("confirm") == "yes":
        args = "forget me"
    elif action in OWN_SETTINGS_ACTIONS:
        try:
            args = _own_settings_args(action, form)
        except BadSetting as bad:
            problem = bad.line(texts_for(request, viewer).language)
            return await _me(request, viewer, problem=problem, status=400)
    else:
        raise HTTPException(400)
    event = CommandInvoked(workspace=viewer.community.id, channel=PORTAL_CHANNEL, user=viewer.member, args=args,
                           at=datetime.now(UTC))
    replies = await submit(event)
    said = " ".join(a.text for a in replies if isinstance(a, PostEphemeral) and a.text)
    logger.info("portal: %s ran %s in %s", viewer.member, args.split()[0], viewer.community.id)
    if action == "forget":
        request.session.clear()
        return render(request, "message.html.j2", None, message_key="portal.forgotten")
    request.session["notice"] = said
    return RedirectResponse("/me", status_code=303)


async def me_page(request: Request) -> Response:
    viewer = await signed_in(request)
    return await _me(request, viewer, notice=request.session.pop("notice", ""))


async def _me(request: Request, viewer: Viewer, *, notice: str = "", problem: str = "", status: int = 200) -> Response:
    ws, member = viewer.community.id, viewer.member
    async with request.app.state.db.connect() as conn:
        asked = [q for q in await boards.own_questions(conn, ws, member) if q.channel in viewer.visible]
        answered = [q for q in await boards.own_answers(conn, ws, member) if q.channel in viewer.visible]
        row = await boards.member_row(conn, ws, member)
        lessons = await boards.lessons_with_contributor(conn, ws, viewer.visible, member)
    language = texts_for(request, viewer).language
    own = own_settings(_member_state(ws, member, row), request.app.state.settings, viewer.community.timezone,
                       datetime.now(UTC))
    platform = viewer.community.platform

    def shown(value: str, source: Source) -> str:
        return translate("own_settings.portal_value", language, value=value,
                              source=source_text(source, platform, language))

    return render(
        request, "me.html.j2", viewer, status=status, asked=asked, answered=answered, lessons=lessons, member=row,
        editable=request.app.state.events is not None, notice=notice, problem=problem,
        mute_days=(1, 3, 7, 14, 30), own=own, hours=[(h, time_of_day(time(h), language)) for h in range(24)],
        quiet_shown=shown(hours_text(own.quiet, language), own.quiet_from),
        zone_shown=shown(own.timezone, own.timezone_from),
        language_shown=shown(language_name(own.language, language), "platform") if own.language else "",
    )


OWN_SETTINGS_ACTIONS = ("quiet", "quiet_off", "timezone", "timezone_auto")


def _own_settings_args(action: str, form: Any) -> str:
    """The `/steward settings …` command a quiet-hours or time-zone form stands for; `BadSetting` if the chat would
    refuse it."""
    if action == "quiet_off":
        return "settings quiet off"
    if action == "timezone_auto":
        return "settings timezone auto"
    if action == "quiet":
        start, end = (str(form.get(name, "")).strip()[:FORM_CHARS] for name in ("start", "end"))
        span = parse_quiet(f"{start}-{end}")
        return "settings quiet off" if span is None else f"settings quiet {span[0]}-{span[1]}"
    zone = parse_zone(str(form.get("timezone", ""))[:FORM_CHARS])
    return f"settings timezone {zone or 'auto'}"


def _member_state(workspace: str, member: str, row: Any) -> MemberState:
    """The stored member as the rules see it, for what their settings are."""
    if row is None:
        return MemberState(workspace_id=workspace, id=member)
    return MemberState(
        workspace_id=workspace, id=member, timezone=row.timezone, language=row.language,
        muted_until=row.muted_until, quiet_start=row.quiet_start, quiet_end=row.quiet_end,
        chosen_timezone=row.chosen_timezone,
    )


# --- helpers ----------------------------------------------------------------------------------------------------
async def _health(request: Request, viewer: Viewer, periods: list[Period], channel: str | None) -> list[HealthWeek]:
    db, workspace = request.app.state.db, viewer.community.id
    return await health_weeks(
        request.app.state.health_cache, workspace, channel, periods,
        lambda missing: metrics.health(db, workspace, missing, channel),
    )


async def _figures_end(conn: Any, viewer: Viewer) -> datetime:
    """Where figures end by default: now, or the end of the last day with messages in a community that has been
    silent for more than a week (an imported history), so its pages show its last weeks rather than nothing."""
    now = datetime.now(UTC)
    latest = await boards.latest_message_at(conn, viewer.community.id, viewer.public)
    if latest is None or now - latest < WEEK:
        return now
    return datetime(latest.year, latest.month, latest.day, tzinfo=UTC) + timedelta(days=1)


async def _visible_lessons(request: Request, viewer: Viewer) -> list[Lesson]:
    store: LessonStore = request.app.state.lessons
    return [lesson for lesson in await store.all(viewer.community.id) if lesson.channel_id in viewer.visible]


async def _lesson_for(request: Request, viewer: Viewer) -> Lesson:
    """The lesson of the path, or 404: one the viewer may not see is indistinguishable from one that is not there."""
    lesson_id = _int(request.path_params.get("lesson_id"))
    lesson = None if lesson_id is None else await request.app.state.lessons.get(viewer.community.id, lesson_id)
    if lesson is None or lesson.channel_id not in viewer.visible:
        raise HTTPException(404)
    return lesson


def _int(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _weeks(start: date, end: date, timezone: str) -> list[Period]:
    """The community's Monday-to-Monday weeks (its own midnight) covering [start, end], at most the latest
    MAX_HEALTH_WEEKS."""
    zone = ZoneInfo(timezone)
    monday = start - timedelta(days=start.weekday())
    periods = []
    while monday <= end:
        following = monday + WEEK
        periods.append(Period(_midnight(monday, zone), _midnight(following, zone)))
        monday = following
    return periods[-MAX_HEALTH_WEEKS:]


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
