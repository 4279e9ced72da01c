"""Crash injection: a busy community replayed through a real `steward run` process against the local Slack fake,
killed with SIGKILL at chosen moments and restarted, and compared with a clean run of the same events.

Shared by `tests/e2e/slack/test_chaos.py` (a short run in the suite) and `benchmarks/chaos.py` (10,000 events).

The community comes in waves. In a wave's first seconds (`Timing.burst`) members ask, answer, thank, react, say
they are stuck and ask for digests; then the community is quiet while Steward's clock runs: unanswered questions
are flagged, experts nudged, waiting askers helped, askers asked whether an answer helped, questions escalated.
The next wave starts when all of that is decided (and a restart would have had time to catch up). So what
Steward decides does not depend on how fast it runs, only on the events and their order, and two runs of the same
plan, with or without kills, must make Slack see the same messages: every post exactly as often, every update,
reaction and pin at least once.

Slack's side is the fake's `deliver`: an envelope the dying process had not acknowledged is pushed again to the
next process, with `retry_attempt`, as Slack does. What a process acknowledged it must not lose.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.slack.fake_slack import TEAM, FakeSlack

ROOT = Path(__file__).resolve().parents[3]
FACILITATOR = "UFAC"
CHANNELS = ("CHELP", "CTOOLS", "CROLLOUT", "CDATA", "CSITES", "CWANDEL")  # CWANDEL speaks German
GERMAN = "CWANDEL"
KILL_KINDS = ("batch", "delivery", "digest", "sweep")


# --- the community -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Topic:
    name: str
    questions: tuple[str, ...]
    answers: tuple[str, ...]
    steps: str  # an answer worth a lesson


TOPICS = (
    Topic("SAP roles", ("How do I request the SAP role for approving purchase orders?",
                        "Who approves SAP role requests for the new plant?",
                        "Where do I see which SAP roles I already have?"),
          ("Requests go through the access request app in the launchpad; your line manager approves them.",
           "Open the launchpad, choose My Roles, and the list shows every role with its validity."),
          "Step 1: open the launchpad. Step 2: search the approver role. Step 3: submit, your manager approves."),
    Topic("Teams channels", ("How do I create a private channel in Teams for three people?",
                             "Can guests join a Teams channel from outside the company?",
                             "Why can't I rename the general channel in Teams?"),
          ("Click the three dots next to the team, add channel, and set privacy to private.",
           "Guests need the guest access switch on; the service desk turns it on per team."),
          "Step 1: click the dots next to the team. Step 2: add a channel. Step 3: choose private and add people."),
    Topic("SharePoint migration", ("When does the finance drive move to SharePoint?",
                                   "How do I sync a SharePoint library to my laptop?",
                                   "Where did the old shared drive folders go after the SharePoint move?"),
          ("The finance drive moves on Tuesday night; the old drive stays read-only for a month.",
           "Open the library in the browser and click sync; it then shows up in the file explorer."),
          "Step 1: open the library. Step 2: click sync. Step 3: wait for the files to appear in the explorer."),
    Topic("Jira boards", ("How do I add a swimlane to our Jira board?",
                          "Who can give me admin rights on the Jira project?",
                          "Can a Jira board show issues from two projects?"),
          ("Board settings, then swimlanes; choose queries and add one per lane.",
           "A board can use a filter across projects; edit the board filter to include both."),
          "Step 1: open the board settings. Step 2: pick swimlanes. Step 3: add a query per lane and save."),
    Topic("VPN access", ("Why does the VPN drop every hour on my home network?",
                         "How do I get VPN access for a new contractor?",
                         "Which VPN profile do I use from the factory network?"),
          ("Update the VPN client; the hourly drop was fixed in the latest version.",
           "Contractors get VPN through their sponsor's request in the service portal."),
          "Step 1: uninstall the old client. Step 2: install the new one from the portal. Step 3: sign in again."),
    Topic("Power BI reports", ("How do I share a Power BI report with the regional managers?",
                               "Why does my Power BI dashboard show yesterday's numbers?",
                               "Can I export a Power BI report to PowerPoint?"),
          ("Publish it to the workspace and share the app with the managers' group.",
           "The dataset refreshes at six; a manual refresh picks up today's numbers."),
          "Step 1: publish the report. Step 2: create an app for the workspace. Step 3: share it with the group."),
)
TOPICS_DE = (
    Topic("Zeiterfassung", ("Weiß jemand, wie ich in der neuen Zeiterfassung Urlaub eintrage?",
                            "Wer gibt die Stunden in der Zeiterfassung frei?",
                            "Wo finde ich meine Überstunden in der neuen Zeiterfassung?"),
          ("Unter Abwesenheiten auf Urlaub klicken und den Zeitraum wählen, dann geht es an die Führungskraft.",
           "Die Freigabe macht die Teamleitung am Monatsende, vorher kannst du alles ändern."),
          "Schritt 1: Abwesenheiten öffnen. Schritt 2: Urlaub wählen. Schritt 3: Zeitraum eintragen und absenden."),
    Topic("Schulungen", ("Gibt es eine Schulung für das neue Ticketsystem?",
                         "Wie melde ich mich für die Teams-Schulung an?",
                         "Wer hält die Schulung zum neuen Einkaufsprozess?"),
          ("Ja, jeden Donnerstag um zehn, die Anmeldung läuft über das Lernportal.",
           "Im Lernportal nach dem Kurs suchen und auf Anmelden klicken."),
          "Schritt 1: Lernportal öffnen. Schritt 2: Kurs suchen. Schritt 3: Termin wählen und anmelden."),
)
FIRST_NAMES = ("Anna", "Ben", "Carla", "David", "Elif", "Finn", "Greta", "Hannah", "Ivan", "Jana", "Karl", "Lena",
               "Marc", "Nora", "Omar", "Paula", "Quentin", "Rosa", "Sven", "Tara", "Uwe", "Vera", "Wim", "Yara")
LAST_NAMES = ("Becker", "Okafor", "Weber", "Schneider", "Fischer", "Wolf", "Novak", "Rossi", "Kaya", "Berg")
CHATTER = ("Good morning everyone!", "The rollout newsletter is out, have a look when you have a minute.",
           "Reminder: the change café is on Friday at two.", "Great session yesterday, thanks all.",
           "Our pilot team moved to the new tools this week.")
CHATTER_DE = ("Guten Morgen zusammen!", "Kurzer Hinweis: die Sprechstunde ist diese Woche am Donnerstag.",
              "Danke für die Infos gestern, sehr hilfreich.")
THANKS = ("Thanks, that worked!", "Thank you, sorted now.", "Perfect, that did it, thanks!")
THANKS_DE = ("Danke, hat geklappt!", "Vielen Dank, funktioniert jetzt.")
STUCK = ("I'm stuck with the {topic} setup, no idea what to do.", "Still blocked on {topic}, going in circles.")
STUCK_DE = ("Ich komme mit {topic} nicht weiter.",)


@dataclass(frozen=True)
class Post:
    at: float  # seconds into the wave
    id: str  # the message's name in the plan ("m12"); its Slack ts is given when the wave starts
    channel: str
    user: str
    text: str
    thread: str | None = None  # the name of the thread's root


@dataclass(frozen=True)
class React:
    at: float
    id: str
    user: str
    target: str  # the name of the message reacted to
    channel: str
    emoji: str


@dataclass(frozen=True)
class Slash:
    at: float
    id: str
    user: str
    channel: str
    text: str


Item = Post | React | Slash


@dataclass
class Wave:
    items: list[Item]
    length: float  # seconds from this wave's start to the next one's
    digest: bool = False


@dataclass(frozen=True)
class Timing:
    """Steward's clock, sped up (seconds): what the environment sets, and the pace of the waves."""

    answer: float = 8.0  # ANSWER_TIME_HOURS: unanswered this long, a question is flagged; twice, its asker helped
    escalation: float = 4.0  # ESCALATION_HOURS: flagged this long, it goes to the facilitators
    confirm: float = 5.0  # CONFIRM_AFTER_HOURS: answered but not resolved this long, the asker is asked
    burst: float = 2.5  # the human part of a wave
    restart: float = 4.0  # room for a kill and a restart after a wave's last deadline

    def wave_length(self) -> float:
        last = max(self.burst + 2 * self.answer, self.burst + self.answer + 1 + self.escalation,
                   self.burst + self.confirm)
        return last + 1.5 + self.restart  # a sweep a second, plus room to catch up after a restart


@dataclass
class Plan:
    waves: list[Wave]
    members: dict[str, dict[str, Any]]  # users.info answers

    @property
    def events(self) -> int:
        return sum(len(w.items) for w in self.waves)


def community(seed: int, events: int, timing: Timing, *, per_wave: int = 90, digest_every: int = 3) -> Plan:
    """A deterministic community of about `events` envelopes (messages, reactions, commands) in waves of
    `per_wave`; every `digest_every`-th wave opens with a facilitator's `/steward digest now`."""
    rng = random.Random(seed)
    members: dict[str, dict[str, Any]] = {}
    people = max(30, min(600, per_wave * 2))
    for n in range(people):
        uid = f"U{n:03d}"
        name = f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]}"
        german = n % 5 == 0
        members[uid] = {"id": uid, "name": name.split()[0].lower(), "real_name": name, "tz": "UTC",
                        "locale": "de-DE" if german else "en-US"}
    members[FACILITATOR] = {"id": FACILITATOR, "name": "fac", "real_name": "Frieda Facilitator", "tz": "UTC",
                            "locale": "en-US", "is_admin": True}
    ids = sorted(m for m in members if m != FACILITATOR)
    experts = {topic.name: rng.sample(ids, 3) for topic in (*TOPICS, *TOPICS_DE)}
    plan = Plan([], members)
    counter = iter(range(1, 10**9))
    history: list[tuple[str, str]] = []  # (message name, channel) of earlier top-level posts
    wave_no = 0
    produced = 0
    while produced < events:
        items: list[Item] = []
        if wave_no == 0:  # the registry: one expert per topic signs up
            for i, topic in enumerate((*TOPICS, *TOPICS_DE)):
                expert = experts[topic.name][0]
                items.append(Slash(0.05 * i, f"s{next(counter)}", expert, rng.choice(CHANNELS),
                                   f"expert add {topic.name.lower()}"))
        digest = wave_no > 0 and wave_no % digest_every == 0
        if digest:
            channel = CHANNELS[(wave_no // digest_every) % len(CHANNELS)]
            items.append(Slash(0.0, f"s{next(counter)}", FACILITATOR, channel, "digest now"))
        budget = min(per_wave, events - produced) - len(items)
        while budget > 0:
            made = _conversation(rng, counter, timing, ids, experts, history)
            items.extend(made[: max(1, budget)])
            budget -= len(made)
        items.sort(key=lambda item: item.at)
        plan.waves.append(Wave(items, timing.wave_length(), digest))
        produced += len(items)
        wave_no += 1
    return plan


def _conversation(rng: random.Random, counter: Iterator[int], timing: Timing, ids: list[str],
                  experts: dict[str, list[str]], history: list[tuple[str, str]]) -> list[Item]:
    """One conversation of a wave: a question and what follows, a stuck member, or chatter."""
    channel = rng.choice(CHANNELS)
    german = channel == GERMAN
    topic = rng.choice(TOPICS_DE if german else TOPICS)
    who = experts[topic.name]
    asker = rng.choice([m for m in ids if m not in who])
    start = rng.uniform(0.0, timing.burst * 0.55)
    step = timing.burst * 0.4 / 5

    def later(n: float) -> float:
        return round(start + n * step + rng.uniform(0.0, step * 0.5), 3)

    def name() -> str:
        return f"m{next(counter)}"

    kind = rng.choices(
        ("thanked", "checked", "open", "unanswered", "lesson", "stuck", "chatter"),
        weights=(22, 14, 10, 12, 5, 5, 32),
    )[0]
    if kind == "stuck":
        text = rng.choice(STUCK_DE if german else STUCK).format(topic=topic.name)
        return [Post(later(0), name(), channel, asker, text)]
    if kind == "chatter":
        root = name()
        items: list[Item] = [Post(later(0), root, channel, rng.choice(ids), rng.choice(CHATTER_DE if german
                                                                                     else CHATTER))]
        for n, fan in enumerate(rng.sample(ids, rng.randint(0, 2))):
            items.append(React(later(1 + n), f"r{next(counter)}", fan, root, channel, rng.choice(("+1", "tada"))))
        if history and rng.random() < 0.5:
            old, old_channel = rng.choice(history)
            items.append(React(later(3), f"r{next(counter)}", rng.choice(ids), old, old_channel, "eyes"))
        history.append((root, channel))
        return items
    question = name()
    expert = rng.choice(who)
    items = [Post(later(0), question, channel, asker, rng.choice(topic.questions))]
    history.append((question, channel))
    if kind == "unanswered":
        return items
    answer = topic.steps if kind == "lesson" else rng.choice(topic.answers)
    items.append(Post(later(1), name(), channel, expert, answer, thread=question))
    if kind in ("thanked", "lesson"):
        items.append(Post(later(2), name(), channel, asker, rng.choice(THANKS_DE if german else THANKS),
                          thread=question))
    if kind == "checked":
        items.append(React(later(2), f"r{next(counter)}", asker, question, channel, "white_check_mark"))
    if kind == "lesson":
        for n, fan in enumerate(rng.sample([m for m in ids if m != asker], 3)):
            items.append(React(later(3 + n * 0.3), f"r{next(counter)}", fan, question, channel, "bulb"))
    return items


# --- Steward, the process ---------------------------------------------------------------------------------------
def environment(database_url: str, fake: FakeSlack, timing: Timing) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("SLACK_", "DISCORD_", "OPENAI_", "WEB_"))}
    hours = 1 / 3600
    return env | {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_APP_TOKEN": "xapp-1-test",
        "SLACK_API_URL": fake.api_url,
        "STEWARD_TIMEZONE": "UTC",
        "ANSWER_TIME_HOURS": f"{timing.answer * hours:.9f}",
        "ESCALATION_HOURS": f"{timing.escalation * hours:.9f}",
        "CONFIRM_AFTER_HOURS": f"{timing.confirm * hours:.9f}",
        "WORK_START_HOUR": "0",
        "WORK_END_HOUR": "24",
        "WORK_DAYS": "mon,tue,wed,thu,fri,sat,sun",
        "QUIET_START_HOUR": "0",
        "QUIET_END_HOUR": "0",
        "NUDGES_PER_DAY": "40",
        "NUDGES_PER_WEEK": "200",
        "FACILITATORS": FACILITATOR,
        "SWEEP_SECONDS": "1",
        "LEASE_SECONDS": "3",
        "LOG_LEVEL": "INFO",
    }


class Steward:
    """`python -m bot.cli run` as a child process, killed and started again at will; one log file per start."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    def start(self) -> None:
        self.starts += 1
        log = (self.logs / f"steward-{self.starts:02d}.log").open("wb")
        self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=self.env,
                                        stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def kill(self) -> None:
        """SIGKILL: no `finally`, no flush, no checkpoint."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self) -> int:
        """A clean stop (SIGTERM); its exit status."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return -9

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        return "".join(path.read_text(errors="replace") for path in sorted(self.logs.glob("steward-*.log")))


# --- the run -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kill:
    wave: int
    kind: str  # migration, batch, delivery, digest, sweep, database
    at: float = 0.0  # batch: the share of the wave's items delivered first; sweep, database: seconds into the wave


def kill_plan(seed: int, plan: Plan, kills: int, timing: Timing, *, database_restart: bool = False) -> list[Kill]:
    """`kills` moments: the first start mid-migration, then one per wave at most in the burst and one after it,
    of every kind in turn (mid-batch, mid-delivery, mid-digest, mid-sweep), in random waves; and with
    `database_restart`, one restart of the database server, from the second half of a burst to a wave's flags."""
    rng = random.Random(seed * 7919 + 1)
    chosen = [Kill(0, "migration")] if kills else []
    digests = [n for n, wave in enumerate(plan.waves) if wave.digest]
    slots = [(n, phase) for n in range(1, len(plan.waves)) for phase in ("burst", "quiet")]
    rng.shuffle(slots)
    kinds = list(KILL_KINDS)
    rng.shuffle(kinds)
    taken: set[tuple[int, str]] = set()
    while len(chosen) < kills:
        kind = kinds[len(chosen) % len(kinds)]
        free_digests = [n for n in digests if (n, "burst") not in taken]
        if kind == "digest" and free_digests:
            wave = rng.choice(free_digests)
            taken.add((wave, "burst"))
            chosen.append(Kill(wave, "digest", round(rng.random(), 3)))  # < 0.5: while computed, else posted
            continue
        if kind == "digest":
            kind = "batch"
        phase = "burst" if kind in ("batch", "delivery") else "quiet"
        free = [slot for slot in slots if slot[1] == phase and slot not in taken]
        if not free:
            break
        wave = free[0][0]
        taken.add((wave, phase))
        chosen.append(Kill(wave, kind, round(rng.uniform(0.1, 0.9), 3)))
    if database_restart and len(plan.waves) > 1:
        wave = rng.randrange(1, len(plan.waves))
        chosen.append(Kill(wave, "database", round(rng.uniform(timing.burst / 2, timing.burst + timing.answer), 3)))
    return sorted(chosen, key=lambda kill: (kill.wave, kill.kind))


@dataclass
class Result:
    events: int = 0
    kills: int = 0
    kills_by_kind: Counter[str] = field(default_factory=Counter)
    missed: list[str] = field(default_factory=list)  # planned kills that found nothing to interrupt
    database_restarts: int = 0
    redelivered: int = 0
    seconds: float = 0.0
    downtime: list[float] = field(default_factory=list)  # seconds from each kill to the new process's connection
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # Slack ts -> the plan's name for the message
    log: str = ""
    exit_status: int = 0
    # What the database holds after the clean stop: the plan's messages it never stored, events still waiting in
    # the inbox, and outbox rows never delivered. Losses in the strict sense, whatever the timing did.
    unstored: list[str] = field(default_factory=list)
    inbox_left: int = 0
    outbox_unsent: int = 0


class ChaosRun:
    """One run of a plan against a fresh database, with the given kills (none: the clean run)."""

    def __init__(self, plan: Plan, database_url: str, workdir: Path, timing: Timing, kills: list[Kill],
                 *, restart_database: Callable[[], None] | None = None, say: Callable[[str], None] | None = None):
        self.plan, self.database_url, self.timing = plan, database_url, timing
        self.workdir = workdir
        self.kills = kills
        self.restart_database = restart_database
        self.say = say or (lambda _: None)
        self.fake = FakeSlack()
        self.result = Result(events=plan.events)
        self.steward: Steward | None = None
        self._armed: str | None = None  # "delivery" or "digest": kill at the next matching chat.postMessage
        self._killed_at: float | None = None
        self._kill_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._ts: dict[str, str] = {}  # the plan's message names -> their Slack ts

    async def run(self) -> Result:
        self.workdir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        await self.fake.start()
        self.fake.users.update(self.plan.members)
        self.fake.retry_seconds = 2.0 if self.restart_database else None
        self.fake.on_call = self._on_call
        self.steward = Steward(environment(self.database_url, self.fake, self.timing), self.workdir)
        try:
            await self._first_start()
            for number, wave in enumerate(self.plan.waves):
                await self._wave(number, wave)
            await self._settle()
            self.result.exit_status = self.steward.stop()
            await self._account()
        finally:
            for task in self._tasks:
                task.cancel()
            if self.steward.alive():
                self.steward.process.kill()  # type: ignore[union-attr]
            self.result.calls = list(self.fake.calls)
            self.result.responses = list(self.fake.responses)
            self.result.redelivered = self.fake.redelivered
            await self.fake.close()
            self.result.log = self.steward.log_text()
            self.result.seconds = time.monotonic() - started
        return self.result

    # --- starting, killing -----------------------------------------------------------------------------------
    async def _first_start(self) -> None:
        assert self.steward is not None
        self.steward.start()
        if any(kill.kind == "migration" for kill in self.kills):
            if await self._until_migrating():
                await self._kill("migration")
            else:
                self.result.missed.append("migration")
        await self._until_connected()

    async def _until_migrating(self, timeout: float = 30.0) -> bool:
        """Wait until the first start is inside its migration (the database's write lock held by it)."""
        deadline = time.monotonic() + timeout
        probe = _postgres_migrating if self.database_url.startswith("postgres") else _sqlite_migrating
        while time.monotonic() < deadline and self.steward is not None and self.steward.alive():
            if self.fake.open_connections:
                return False  # it got through before the probe saw it
            if await probe(self.database_url):
                return True
            await asyncio.sleep(0.002)
        return False

    async def _until_connected(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.fake.open_connections:
            if time.monotonic() > deadline:
                raise AssertionError(f"steward run did not connect within {timeout:.0f} s")
            await asyncio.sleep(0.01)

    async def _kill(self, kind: str) -> None:
        """SIGKILL, then start again at once (the fake queues envelopes until the new process connects)."""
        assert self.steward is not None
        async with self._kill_lock:
            if not self.steward.alive():
                return
            self.steward.kill()
            killed = time.monotonic()
            self.result.kills += 1
            self.result.kills_by_kind[kind] += 1
            self.say(f"  kill {self.result.kills} ({kind})")
            self.steward.start()
            self._killed_at = killed
            self._tasks.append(asyncio.create_task(self._measure_downtime(killed)))

    async def _measure_downtime(self, killed: float) -> None:
        await asyncio.sleep(0.2)  # the dead connection closes
        while not self.fake.open_connections:
            await asyncio.sleep(0.01)
        self.result.downtime.append(time.monotonic() - killed)

    async def _on_call(self, method: str, params: dict[str, Any]) -> None:
        """The fake received a Web API call: a kill armed for it happens now, before Slack's answer."""
        if self._armed is None or method != "chat.postMessage":
            return
        key = str(((params.get("metadata") or {}).get("event_payload") or {}).get("key", ""))
        if self._armed == "digest" and not key.startswith("digest"):
            return
        kind, self._armed = self._armed, None
        await self._kill(f"mid-{kind}")

    # --- waves -----------------------------------------------------------------------------------------------
    async def _wave(self, number: int, wave: Wave) -> None:
        kills = [kill for kill in self.kills if kill.wave == number and kill.kind != "migration"]
        base = time.time()
        clock = time.monotonic()
        self._name_messages(wave, base)
        batch_at = next((round(k.at * len(wave.items)) for k in kills if k.kind == "batch"), None)
        for kill in kills:
            if kill.kind == "delivery" or (kill.kind == "digest" and kill.at >= 0.5):
                self._armed = kill.kind
            elif kill.kind == "sweep":
                self._tasks.append(asyncio.create_task(self._kill_later(clock + self.timing.burst + kill.at *
                                                                        (wave.length - self.timing.burst
                                                                         - self.timing.restart), "mid-sweep")))
            elif kill.kind == "database":
                self._tasks.append(asyncio.create_task(self._restart_database_at(clock + kill.at)))
        digest_work = any(k.kind == "digest" and k.at < 0.5 for k in kills)
        for index, item in enumerate(wave.items):
            delay = clock + item.at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            delivered = await self.fake.deliver(*self._envelope(item, base))
            if index + 1 == batch_at:
                await self._kill("mid-batch")
            if digest_work and isinstance(item, Slash) and item.text == "digest now":
                self._tasks.append(asyncio.create_task(self._kill_when_acked(delivered, "mid-digest")))
        await asyncio.sleep(max(0.0, clock + wave.length - time.monotonic()))
        if self._armed is not None:
            self.result.missed.append(f"{self._armed} in wave {number}")
            self._armed = None
        await self._caught_up()

    async def _kill_when_acked(self, envelope: Any, kind: str) -> None:
        """Kill as soon as the process acknowledged the envelope: it is being handled (a digest computed)."""
        while not envelope.acked:
            await asyncio.sleep(0.001)
        await self._kill(kind)

    async def _kill_later(self, when: float, kind: str) -> None:
        await asyncio.sleep(max(0.0, when - time.monotonic()))
        await self._kill(kind)

    async def _restart_database_at(self, when: float) -> None:
        assert self.restart_database is not None
        await asyncio.sleep(max(0.0, when - time.monotonic()))
        self.say("  restarting the database server")
        await asyncio.to_thread(self.restart_database)
        self.result.database_restarts += 1

    async def _caught_up(self) -> None:
        """After a late kill, the next wave waits until the new process runs and got what was owed to it."""
        deadline = time.monotonic() + 60
        while (not self.fake.open_connections or self.fake.undelivered) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self._killed_at is not None and time.monotonic() - self._killed_at < self.timing.restart + 2:
            await asyncio.sleep(self.timing.restart + 2 - (time.monotonic() - self._killed_at))

    async def _settle(self) -> None:
        """After the last wave: every envelope acknowledged, every outbox row delivered, and then quiet."""
        deadline = time.monotonic() + 300
        quiet_since, seen = time.monotonic(), len(self.fake.calls)
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            if len(self.fake.calls) != seen:
                quiet_since, seen = time.monotonic(), len(self.fake.calls)
                continue
            if self.fake.undelivered or not self.fake.open_connections:
                continue
            if await _outbox_open(self.database_url) == 0 and time.monotonic() - quiet_since > 3:
                return
        self.result.missed.append("settling: the outbox did not drain within 300 s")

    async def _account(self) -> None:
        """After the stop: which of the plan's messages the database lacks, and what it still owes."""
        facts = await _stored_facts(self.database_url)
        self.result.unstored = sorted(name for ts, name in self.result.names.items() if ts not in facts.messages)
        self.result.inbox_left, self.result.outbox_unsent = facts.inbox, facts.unsent

    # --- envelopes -----------------------------------------------------------------------------------------
    def _name_messages(self, wave: Wave, base: float) -> None:
        """Slack timestamps for the wave's messages: the wave's start plus each message's moment (unique)."""
        start = int(base * 1_000_000)
        for n, item in enumerate(wave.items):
            micros = start + round(item.at * 1_000_000) + n  # items share a millisecond at most: unique
            ts = f"{micros // 1_000_000}.{micros % 1_000_000:06d}"
            self._ts[item.id] = ts
            if isinstance(item, Post):
                self.result.names[ts] = item.id

    def _envelope(self, item: Item, base: float) -> tuple[str, dict[str, Any]]:
        ts = self._ts[item.id]
        if isinstance(item, Slash):
            return "slash_commands", {
                "token": "t", "team_id": TEAM, "channel_id": item.channel, "user_id": item.user,
                "command": "/steward", "text": item.text, "response_url": self.fake.response_url(item.id),
                "trigger_id": f"tr-{item.id}",
            }
        if isinstance(item, Post):
            event: dict[str, Any] = {"type": "message", "channel": item.channel, "user": item.user, "text": item.text,
                                     "ts": ts, "event_ts": ts, "channel_type": "channel"}
            if item.thread:
                event["thread_ts"] = self._ts[item.thread]
        else:
            event = {"type": "reaction_added", "user": item.user, "reaction": item.emoji, "event_ts": ts,
                     "item": {"type": "message", "channel": item.channel, "ts": self._ts[item.target]}}
        return "events_api", {"token": "t", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
                              "event": event, "event_id": f"Ev{item.id}", "event_time": int(base)}


async def _sqlite_migrating(url: str) -> bool:
    path = url.split("///", 1)[1]
    if not Path(path + "-wal").exists():
        return False
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True  # somebody holds the write lock: the migration, this early
    finally:
        conn.close()


async def _postgres_migrating(url: str) -> bool:
    import asyncpg

    database = url.rsplit("/", 1)[1]
    try:
        conn = await asyncpg.connect(_plain(url), timeout=2)
    except (OSError, asyncpg.PostgresError):
        return False
    try:
        held = await conn.fetchval(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE d.datname = $1 AND l.mode = 'AccessExclusiveLock' AND l.pid <> pg_backend_pid()", database)
        return bool(held)
    finally:
        await conn.close()


async def _outbox_open(url: str) -> int:
    """Outbox rows not yet delivered (pending or being sent); -1 while the database does not answer."""
    query = "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
    if url.startswith("postgres"):
        import asyncpg

        try:
            conn = await asyncpg.connect(_plain(url), timeout=2)
        except (OSError, asyncpg.PostgresError):
            return -1
        try:
            return int(await conn.fetchval(query))
        except asyncpg.PostgresError:
            return -1
        finally:
            await conn.close()
    try:
        with contextlib.closing(sqlite3.connect(url.split("///", 1)[1], timeout=5)) as conn:
            return int(conn.execute(query).fetchone()[0])
    except sqlite3.Error:
        return -1


@dataclass
class StoredFacts:
    messages: set[str]
    inbox: int
    unsent: int


async def _stored_facts(url: str) -> StoredFacts:
    """The message ids stored, the inbox rows left, and the outbox rows not delivered (pending, sending, failed)."""
    queries = ("SELECT id FROM message", "SELECT count(*) FROM inbox",
               "SELECT count(*) FROM outbox WHERE status <> 'sent'")
    if url.startswith("postgres"):
        import asyncpg

        conn = await asyncpg.connect(_plain(url), timeout=10)
        try:
            ids = {str(row[0]) for row in await conn.fetch(queries[0])}
            return StoredFacts(ids, int(await conn.fetchval(queries[1])), int(await conn.fetchval(queries[2])))
        finally:
            await conn.close()
    with contextlib.closing(sqlite3.connect(url.split("///", 1)[1], timeout=5)) as conn:
        ids = {str(row[0]) for row in conn.execute(queries[0])}
        return StoredFacts(ids, int(conn.execute(queries[1]).fetchone()[0]),
                           int(conn.execute(queries[2]).fetchone()[0]))


def _plain(url: str) -> str:
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


# --- what Slack saw -------------------------------------------------------------------------------------------
_TS = re.compile(r"\b\d{10}\.\d{6}\b")
_PERMALINK = re.compile(r"/p(\d{10})(\d{6})\b")
_DATES = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:T[\d:.+]+)?\b")


@dataclass
class Seen:
    """What reached Slack, as comparable keys: posts counted, idempotent calls (updates, reactions, pins) as
    sets, private replies counted by text."""

    posts: Counter[tuple[str, ...]] = field(default_factory=Counter)
    once: set[tuple[str, ...]] = field(default_factory=set)
    private: Counter[str] = field(default_factory=Counter)
    digests: Counter[tuple[str, ...]] = field(default_factory=Counter)


def seen(result: Result) -> Seen:
    """Normalise what the fake received: message timestamps become the plan's names (Steward's own posts their
    outbox keys), so two runs at different times compare."""
    names = dict(result.names)
    own: dict[str, str] = {}
    for method, params in result.calls:
        if method == "chat.postMessage":
            key = str(((params.get("metadata") or {}).get("event_payload") or {}).get("key", ""))
            if key:
                own.setdefault(key, "")
    calls = [(m, p) for m, p in result.calls if m in ("chat.postMessage", "chat.update", "reactions.add",
                                                     "pins.add", "chat.postEphemeral")]

    def norm(value: Any) -> str:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False) if not isinstance(value, str) else value
        text = _TS.sub(lambda m: names.get(m.group(0), "ts"), text)
        text = _PERMALINK.sub(lambda m: "/" + names.get(f"{m.group(1)}.{m.group(2)}", "ts"), text)
        return _DATES.sub("DATE", text)

    out = Seen()
    for method, params in calls:
        channel = str(params.get("channel", ""))
        if method == "chat.postMessage":
            key = str(((params.get("metadata") or {}).get("event_payload") or {}).get("key", ""))
            entry = ("post", channel, norm(params.get("thread_ts") or ""), norm(_DATES.sub("DATE", key)),
                     norm(params.get("text") or ""), norm(params.get("blocks") or ""))
            out.posts[entry] += 1
            if key.startswith("digest"):
                out.digests[entry] += 1
        elif method == "chat.update":
            out.once.add(("update", channel, norm(params.get("text") or ""), norm(params.get("blocks") or "")))
        elif method == "reactions.add":
            out.once.add(("react", channel, norm(params.get("timestamp") or ""), str(params.get("name"))))
        elif method == "pins.add":
            out.once.add(("pin", channel, norm(params.get("timestamp") or "")))
        else:
            out.private[norm(params.get("text") or "")] += 1
    for response in result.responses:
        out.private[norm(response.get("text") or "")] += 1
    return out


@dataclass
class Comparison:
    lost: int
    doubled: int
    unexpected: int  # posts the clean run never made (or made with other words)
    missing_once: int  # updates, reactions, pins the chaotic run never made
    extra_once: int
    private_lost: int
    private_extra: int
    digests_equal: bool
    details: list[str]
    # The same posts by outbox key alone: a key in one run and not the other is a decision one run made and the
    # other did not; the same key with other words is the same decision worded at another moment (a wait of
    # "2 minutes" rather than "1", a digest's counts while events were still being caught up on).
    keys_missing: list[str] = field(default_factory=list)
    keys_extra: list[str] = field(default_factory=list)
    reworded: int = 0


def compare(clean: Seen, chaos: Seen) -> Comparison:
    details: list[str] = []
    lost = doubled = unexpected = 0
    clean_keys, chaos_keys = _by_key(clean.posts), _by_key(chaos.posts)
    for key in clean.posts.keys() | chaos.posts.keys():
        want, got = clean.posts[key], chaos.posts[key]
        decision = key[3]
        if want != got and decision and clean_keys.get(decision, Counter()).total() == chaos_keys.get(
            decision, Counter()
        ).total():
            # The same decision, posted as often, in other words: what it names depends on the events read before
            # it, and a platform's redelivery after a kill can bring an earlier event after a later one.
            details.append(f"reworded: {_short(key)}")
            continue
        if got < want:
            lost += want - got
            details.append(f"lost {want - got}x: {_short(key)}")
        elif got > want and want:
            doubled += got - want
            details.append(f"doubled {got - want}x: {_short(key)}")
        elif got > want:
            unexpected += got
            details.append(f"unexpected {got}x: {_short(key)}")
    missing = clean.once - chaos.once
    extra = chaos.once - clean.once
    details.extend(f"missing: {_short(key)}" for key in sorted(missing))
    details.extend(f"extra: {_short(key)}" for key in sorted(extra))
    private_lost = sum((clean.private - chaos.private).values())
    private_extra = sum((chaos.private - clean.private).values())
    details.extend(f"private reply lost: {text[:100]}" for text in (clean.private - chaos.private))
    details.extend(f"private reply extra: {text[:100]}" for text in (chaos.private - clean.private))
    reworded = sum(1 for key in clean_keys.keys() & chaos_keys.keys() if clean_keys[key] != chaos_keys[key])
    return Comparison(lost, doubled, unexpected, len(missing), len(extra), private_lost, private_extra,
                      clean.digests == chaos.digests, details, sorted(clean_keys.keys() - chaos_keys.keys()),
                      sorted(chaos_keys.keys() - clean_keys.keys()), reworded)


def _by_key(posts: Counter[tuple[str, ...]]) -> dict[str, Counter[tuple[str, ...]]]:
    """Posts grouped by their outbox key (the fourth part of a post's entry)."""
    grouped: dict[str, Counter[tuple[str, ...]]] = {}
    for entry, count in posts.items():
        grouped.setdefault(entry[3], Counter())[entry] += count
    return grouped


def _short(key: tuple[str, ...]) -> str:
    return " | ".join(part[:90] for part in key if part)


# --- the database server -----------------------------------------------------------------------------------------
def postgres_restarter(url: str) -> tuple[Callable[[], None] | None, str]:
    """A way to restart the local PostgreSQL server under Steward, or None and why not."""
    host = re.sub(r"^[^@]*@", "", _plain(url).split("://", 1)[1]).split("/", 1)[0].split(":", 1)[0]
    if host not in ("127.0.0.1", "localhost", "::1"):
        return None, f"the PostgreSQL server at {host} is not on this machine"
    if os.geteuid() != 0:
        return None, "restarting the PostgreSQL server needs root (pg_ctlcluster)"
    try:
        listed = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"pg_lsclusters is not available: {exc}"
    clusters = [line.split() for line in listed.stdout.splitlines() if "online" in line]
    if len(clusters) != 1:
        return None, f"expected one online PostgreSQL cluster, found {len(clusters)}"
    version, name = clusters[0][0], clusters[0][1]

    def restart() -> None:
        subprocess.run(["pg_ctlcluster", version, name, "restart"], check=True, capture_output=True, timeout=120)

    return restart, ""


@contextlib.asynccontextmanager
async def fresh_postgres(url: str) -> Any:
    """A new, empty database on the server at `url` for one run; dropped afterwards."""
    import uuid

    import asyncpg

    admin = await asyncpg.connect(_plain(url), timeout=5)
    name = f"steward_chaos_{uuid.uuid4().hex[:10]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        yield f"{url.rsplit('/', 1)[0]}/{name}"
    finally:
        for _ in range(30):  # the server may be coming back from a restart
            try:
                admin = await asyncpg.connect(_plain(url), timeout=5)
                break
            except (OSError, asyncpg.PostgresError):
                await asyncio.sleep(1)
        else:
            return
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
