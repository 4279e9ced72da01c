"""When something is due, read from chat in English and German: "by Friday", "bis morgen früh", "on March 14th",
"bis zum 14.3.", "end of the week", "in zwei Tagen", "Friday 3pm", "bis 15 Uhr".

The moment is computed in the member's time zone on wall-clock days. A day without a time means the end of that
working day; a part of the day names its end ("Friday morning" is noon, "afternoon" the end of the working day).
Only expressions that name a day or a time count: "next week", "soon" or "later" name none (precision first).
Weekday and month names come from Babel's CLDR data, so both languages spell them as their speakers do.

Conventions, where chat is ambiguous: "Friday" is the next Friday (today, if it is Friday and the working day is
not over); "next Friday" / "nächsten Freitag" is the Friday of next week; "before Friday" / "vor Freitag" is the
start of Friday's working day; "3/4" counts only when one number is over 12 (then it cannot be the month).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from babel.dates import get_day_names, get_month_names


@dataclass(frozen=True, slots=True)
class Calendar:
    """Whose clock the due time is read on: the member's time zone and the community's working days."""

    timezone: str = "UTC"
    start_hour: int = 9
    end_hour: int = 17
    weekdays: frozenset[int] = frozenset(range(5))  # Monday = 0


@dataclass(frozen=True, slots=True)
class DueMatch:
    """A due time found in a text: the moment (UTC) and where the phrase stands in the normalized text."""

    at: datetime
    start: int
    end: int
    phrase: str


# Prefixes that make a phrase a deadline, and how strongly (a deadline word beats "on", which beats "for").
_STRONG = ("by", "before", "until", "till", "til", "due", "latest", "bis", "spätestens", "vor", "bis zum", "bis zur",
           "no later than", "not later than", "deadline")
_MEDIUM = ("on", "am", "zum", "zur", "this", "next", "coming", "diesen", "diese", "dieser", "nächsten", "nächste",
           "kommenden", "kommende", "at", "um", "gegen")
_WEAK = ("for", "für")
_BEFORE_WORDS = ("before", "vor")
_NEXT_WEEK = ("next", "nächsten", "nächste", "nächster")
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "ein": 1, "einem": 1,
            "einer": 1, "eine": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5}
_PARTS = {  # a part of the day, as the hour that ends it (None: the end of the working day)
    "morning": 12, "früh": 12, "vormittag": 12, "morgens": 12, "noon": 12, "midday": 12, "mittag": 12,
    "mittags": 12, "afternoon": None, "nachmittag": None, "nachmittags": None, "evening": 20, "abend": 20,
    "abends": 20, "tonight": 20, "night": 22, "nacht": 22,
}
_PART = r"morning|afternoon|evening|night|noon|früh|vormittag|mittag|nachmittag|abend|morgen|nacht"
_EN_SHORT_DAYS = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "weds": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4}
_END = r"(?=\s*(?:$|[.!,;:)\]]|\s+(?:at|um|gegen|\d)|\s*[\U0001F300-\U0001FAFF\u2600-\u27BF]))"


@cache
def _day_words() -> dict[str, int]:
    words: dict[str, int] = dict(_EN_SHORT_DAYS)
    for language in ("en", "de"):
        for index, name in get_day_names("wide", locale=language).items():
            words[str(name).lower()] = int(index)
    words["sonnabend"] = 5
    return words


@cache
def _month_words() -> dict[str, int]:
    words: dict[str, int] = {"maerz": 3, "sept": 9}
    for language in ("en", "de"):
        for width in ("wide", "abbreviated"):
            for index, name in get_month_names(width, locale=language).items():
                words[str(name).lower().rstrip(".")] = int(index)  # a month name counts only beside a day number
    return words


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    days = _alternation(list(_day_words()))
    months = _alternation(list(_month_words()))
    return {
        "iso": re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"),
        "dotted": re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})?(?![\d])"),
        "slashed": re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?(?![\d/])"),
        "day_month": re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th|\.)?\s+(?:of\s+)?({months})\b\.?(?:,?\s+(\d{{4}}))?"),
        "month_day": re.compile(rf"\b({months})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?"),
        "ordinal": re.compile(r"\bthe\s+(\d{1,2})(?:st|nd|rd|th)\b|(?:(?<=\bzum )|(?<=\bam ))(\d{1,2})\.(?![\d.])"),
        "weekday": re.compile(rf"\b({days})({_PART})?\b(?!')"),
        "relative": re.compile(
            r"\b(the day after tomorrow|day after tomorrow|übermorgen|tomorrow|tmrw|tmr|today|tonight|heute|morgen)"
            rf"(?:\s+({_PART}))?\b"
        ),
        "end_of_day": re.compile(
            r"\b(?:(?:the\s+)?end of (?:the\s+)?(?:work(?:ing)?\s?)?day|eod|cob|close of business|end of today"
            r"|feierabend|dienstschluss|tagesende|ende des tages)\b"
        ),
        "end_of_week": re.compile(
            r"\b(?:(?:the\s+)?end of (?:the\s+|this\s+)?(?:work(?:ing)?\s?)?week|eow|(?:the\s+)?weekend"
            r"|ende (?:der|dieser) woche|wochenende|this week|diese woche)\b"
        ),
        "end_of_next_week": re.compile(
            r"\b(?:(?:the\s+)?end of next week|ende (?:der )?nächsten woche|ende nächster woche)\b"
        ),
        "end_of_month": re.compile(
            r"\b(?:(?:the\s+)?end of (?:the\s+|this\s+)?month|eom|monatsende|ende (?:des|dieses) monats)\b"
        ),
        "within": re.compile(
            r"\b(?:in|within|innerhalb von|binnen)\s+(\d{1,2}|a|an|one|two|three|four|five|ein|einem|einer|eine|zwei"
            r"|drei|vier|fünf)\s+(days?|tagen?|weeks?|wochen?|working days?|arbeitstagen?|werktagen?)\b"
        ),
        "clock": re.compile(
            r"\b(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|uhr|h)(?![a-zäöü])|\b(\d{1,2}):(\d{2})\b"
        ),
        "noon": re.compile(r"\b(?:noon|midday|mittags|zu mittag|mittag)\b"),
    }


# A "morning" that is no due time: greetings, and mornings that have passed.
_NOT_TOMORROW = re.compile(r"(?:guten|am|jeden|heute|diesen|den|der|dem|einen|morgen)\s+$")
_FAREWELL = re.compile(r"(?:^|[,;.!])\s*(?:bis|see you|talk to you|cu)\s*$")


@cache
def _maybe() -> re.Pattern[str]:
    """Any word a due phrase needs (a day, a month, a relative day, a span, a part of the day) or a digit."""
    words = [*_day_words(), *_month_words(), "today", "tonight", "tomorrow", "tmrw", "tmr", "heute", "morgen",
             "übermorgen", "eod", "eow", "eom", "cob", "end of", "close of", "ende", "feierabend", "dienstschluss",
             "tagesende", "week", "woche", "monat", "month", "noon", "midday", "mittag", "abend", "weekend",
             "day", "tag", "in a", "in an", "in one", "in two", "in three", "in four", "in five", "in ein", "in zwei",
             "in drei", "in vier", "in fünf", "binnen", "innerhalb"]
    return re.compile(r"\d|\b(?:" + _alternation(words) + ")", re.IGNORECASE)


def maybe_due(text: str) -> bool:
    """A quick test before the real reading: False when the text cannot name a due time."""
    return _maybe().search(text) is not None


def normalize(text: str) -> str:
    """Lower case, one kind of apostrophe and single spaces; positions refer to this form."""
    text = text.replace("’", "'").replace("‘", "'").replace("´", "'").replace("`", "'")
    return re.sub(r"\s+", " ", text.lower())


def find_due(text: str, now: datetime, calendar: Calendar, *, loose: bool = False) -> DueMatch | None:
    """The due time a text names, or None. `text` must be `normalize`d. `loose`: a bare weekday or date anywhere
    counts (a command's "by DATE" part), not only one after a deadline word or, for a weekday, ending a clause."""
    candidates: list[tuple[int, int, int, datetime]] = []  # (strength, start, end, moment)
    zone = ZoneInfo(calendar.timezone)
    local_now = now.astimezone(zone)
    clock = _clock_times(text)
    for start, end, day, kind, part in _days(text, local_now, calendar):
        strength = _strength(text, start)
        bare = kind == "date" or (kind == "weekday" and not re.match(_END, text[end:]))
        if strength == 0 and not loose and bare:
            continue  # "version 1.5.", "the Friday meeting": no deadline
        when, start, end = _time_for(part, clock, start, end, calendar)
        if when is None and _prefix(text, start) in _BEFORE_WORDS:
            when = time(calendar.start_hour)
        moment = datetime.combine(day, when or time(calendar.end_hour), zone)
        if kind == "today" and moment <= local_now:
            moment = datetime.combine(day, time(20), zone)  # "today", late in the day: this evening
        if moment <= local_now:
            continue
        if kind in ("today", "relative", "period"):
            strength = max(strength, 2)
        candidates.append((strength, start, end, moment))
    if not candidates:
        for start, end, at in clock:  # a time alone, after a deadline word: today, or tomorrow if it has passed
            strength = _strength(text, start)
            if strength < 2:
                continue
            moment = datetime.combine(local_now.date(), at, zone)
            if moment <= local_now:
                moment += timedelta(days=1)
            candidates.append((strength, start, end, moment))
    if not candidates:
        return None
    _, start, end, moment = max(candidates, key=lambda c: (c[0], c[1]))
    prefix = _prefix(text, start)
    if prefix:
        start = text.rfind(prefix, 0, start)
    return DueMatch(at=moment.astimezone(UTC), start=start, end=end, phrase=text[start:end].strip())


def _prefix(text: str, start: int) -> str:
    """The deadline word right before a phrase ("by", "bis zum", ...), or ""."""
    before = text[max(0, start - 24):start].rstrip()
    for word in sorted(_STRONG + _MEDIUM + _WEAK, key=len, reverse=True):
        if before.endswith(" " + word) or before == word:
            return word
    return ""


def _strength(text: str, start: int) -> int:
    word = _prefix(text, start)
    if word in _STRONG:
        return 3
    if word in _MEDIUM:
        return 2
    return 1 if word in _WEAK else 0


def _clock_times(text: str) -> list[tuple[int, int, time]]:
    """Times of day in the text: "3pm", "15:00", "15 Uhr", "noon", with their spans."""
    found: list[tuple[int, int, time]] = []
    for match in _patterns()["clock"].finditer(text):
        if match.group(4) is not None:
            hour, minute, suffix = int(match.group(4)), int(match.group(5)), ""
        else:
            hour, minute, suffix = int(match.group(1)), int(match.group(2) or 0), match.group(3)
        if suffix in ("pm", "p.m.") and hour < 12:
            hour += 12
        elif suffix in ("am", "a.m.") and hour == 12:
            hour = 0
        if 0 <= hour < 24 and 0 <= minute < 60:
            found.append((match.start(), match.end(), time(hour, minute)))
    for match in _patterns()["noon"].finditer(text):
        found.append((match.start(), match.end(), time(12)))
    return found


def _time_for(
    part: str | None, clock: list[tuple[int, int, time]], start: int, end: int, calendar: Calendar
) -> tuple[time | None, int, int]:
    """The time of day for a day phrase: a clock time beside it ("Friday 3pm", "3pm on Friday", "Freitag um 15
    Uhr"), else its part of the day, else None (the end of the working day); and the phrase's span with it."""
    for at_start, at_end, at in clock:
        if 0 <= at_start - end <= 8:
            return at, start, at_end
        if 0 <= start - at_end <= 8:
            return at, at_start, end
    if part is None:
        return None, start, end
    hour = _PARTS.get(part, 12)  # "Freitagmorgen": the morning
    return (time(hour) if hour is not None else time(calendar.end_hour)), start, end


def _days(text: str, now: datetime, calendar: Calendar) -> list[tuple[int, int, date, str, str | None]]:
    """Every phrase naming a day: (start, end, the day, its kind, a part of the day or None)."""
    p = _patterns()
    today = now.date()
    found: list[tuple[int, int, date, str, str | None]] = []

    def add(match: re.Match[str], day: date | None, kind: str, part: str | None = None) -> None:
        if day is not None:
            found.append((match.start(), match.end(), day, kind, part))

    for match in p["iso"].finditer(text):
        add(match, _date(int(match.group(1)), int(match.group(2)), int(match.group(3))), "date")
    for match in p["dotted"].finditer(text):
        add(match, _dated(today, int(match.group(1)), int(match.group(2)), match.group(3)), "date")
    for match in p["slashed"].finditer(text):
        first, second = int(match.group(1)), int(match.group(2))
        if first > 12 >= second:
            add(match, _dated(today, first, second, match.group(3)), "date")
        elif second > 12 >= first:
            add(match, _dated(today, second, first, match.group(3)), "date")
    months = _month_words()
    for match in p["day_month"].finditer(text):
        add(match, _dated(today, int(match.group(1)), months[match.group(2)], match.group(3)), "date")
    for match in p["month_day"].finditer(text):
        add(match, _dated(today, int(match.group(2)), months[match.group(1)], match.group(3)), "date")
    for match in p["ordinal"].finditer(text):
        number = int(match.group(1) or match.group(2))
        add(match, _day_of_month(today, number), "date")
    days = _day_words()
    for match in p["weekday"].finditer(text):
        word, part = match.group(1), match.group(2)
        if word in _EN_SHORT_DAYS and _strength(text, match.start()) < 2:
            continue  # "wed", "mon": only as a deadline ("by wed")
        after = text[match.end():match.end() + 12]
        if re.match(r"\s*(?:" + _PART + r")\b", after) and part is None:
            part = re.match(r"\s*(" + _PART + r")\b", after).group(1)  # type: ignore[union-attr]
        add(match, _weekday(today, days[word], _prefix(text, match.start()), now, calendar), "weekday", part)
    for match in p["relative"].finditer(text):
        word, part = match.group(1), match.group(2)
        if word == "morgen" and (_NOT_TOMORROW.search(text[:match.start()]) or text[:match.start()].endswith(
                tuple(_day_words()))):
            continue  # "guten Morgen", "heute Morgen": a morning, not tomorrow
        if word in ("morgen", "tomorrow", "tmrw", "tmr") and _FAREWELL.search(text[:match.start()]) \
                and re.match(r"\s*(?:$|[!.👋🙂😊]|\W*$)", text[match.end():]):
            continue  # "Feierabend, bis morgen!": a goodbye
        if word == "heute" and part == "morgen":
            continue
        offset = {"today": 0, "heute": 0, "tonight": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1, "morgen": 1,
                  "übermorgen": 2}.get(word, 2)
        if word == "tonight":
            part = "tonight"
        add(match, today + timedelta(days=offset), "today" if offset == 0 else "relative", part)
    for match in p["end_of_day"].finditer(text):
        if match.group(0)[0] in "fdt" and _strength(text, match.start()) == 0:
            continue  # "Feierabend!" is a goodbye; "bis Feierabend" is a deadline
        add(match, today, "today")
    for match in p["end_of_week"].finditer(text):
        weekend = "weekend" in match.group(0) or "wochenende" in match.group(0)
        if weekend and _strength(text, match.start()) < 3 and not re.search(r"\bzum\s+$", text[:match.start()]):
            continue  # "at the weekend" is when, not by when; "by the weekend" / "bis zum Wochenende" count
        add(match, _last_working_day(today, calendar, weeks=0), "period")
    for match in p["end_of_next_week"].finditer(text):
        add(match, _last_working_day(today, calendar, weeks=1), "period")
    for match in p["end_of_month"].finditer(text):
        add(match, _end_of_month(today, calendar), "period")
    for match in p["within"].finditer(text):
        written, unit = str(match.group(1)), str(match.group(2))
        amount = int(written) if written.isdigit() else _NUMBERS[written]
        span = timedelta(weeks=amount) if unit.startswith(("week", "woche")) else timedelta(days=amount)
        add(match, today + span, "period")
    # "this week" inside "the end of this week" is the same phrase: keep the longest of overlapping phrases.
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    kept: list[tuple[int, int, date, str, str | None]] = []
    for item in found:
        if kept and item[0] < kept[-1][1]:
            continue
        kept.append(item)
    return kept


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _dated(today: date, day: int, month: int, year: str | None) -> date | None:
    """A day of a month; without a year, this year's, or next year's when this year's is long past."""
    if year is not None:
        full = int(year) + (2000 if len(year) == 2 else 0)
        return _date(full, month, day)
    found = _date(today.year, month, day)
    if found is not None and (today - found).days > 60:
        found = _date(today.year + 1, month, day)
    return found


def _day_of_month(today: date, day: int) -> date | None:
    """"The 14th": this month's, or next month's when this month's has passed."""
    found = _date(today.year, today.month, day)
    if found is not None and found >= today:
        return found
    month, year = (today.month % 12) + 1, today.year + (1 if today.month == 12 else 0)
    return _date(year, month, day)


def _weekday(today: date, weekday: int, prefix: str, now: datetime, calendar: Calendar) -> date:
    """The next such weekday (today if it is that day and its working day is not over); "next X": next week's."""
    if prefix in _NEXT_WEEK:
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        return monday + timedelta(days=weekday)
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and now.hour >= calendar.end_hour:
        ahead = 7
    return today + timedelta(days=ahead)


def _last_working_day(today: date, calendar: Calendar, *, weeks: int) -> date:
    """This week's (or a later week's) last working day; on a day after it, next week's."""
    last = max(calendar.weekdays) if calendar.weekdays else 4
    monday = today - timedelta(days=today.weekday())
    day = monday + timedelta(days=last, weeks=weeks)
    return day if day >= today else day + timedelta(weeks=1)


def _end_of_month(today: date, calendar: Calendar) -> date:
    first_next = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    day = first_next - timedelta(days=1)
    while calendar.weekdays and day.weekday() not in calendar.weekdays and day > today:
        day -= timedelta(days=1)
    return day
