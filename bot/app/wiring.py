"""Composition root: settings + database + rules -> a ready engine, with every rule's ports plugged in."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.app.engine import Engine
from bot.app.errands.cocreation import attach_cocreation
from bot.app.errands.digests import DigestErrands
from bot.app.errands.ideas import attach_ideas
from bot.app.errands.knowledge import KnowledgeErrands
from bot.app.errands.lessons import LessonErrands
from bot.app.errands.onboarding import OnboardingErrands
from bot.app.errands.paths import attach_paths
from bot.app.errands.portal import PortalErrands
from bot.app.errands.recognition import RecognitionErrands
from bot.app.errands.skills import SkillsErrands
from bot.app.errands.sponsor import SponsorErrands
from bot.app.llm import make_distiller
from bot.app.narrator import make_narrator
from bot.app.ownership import Ownership
from bot.core.clock import Clock
from bot.settings import Settings
from facilitation_rules import default_rules
from facilitation_rules.digest import PublishDigest, ShowDigest, ShowStats, WeeklyDigest
from facilitation_rules.lessons import (
    CaptureLesson,
    ConsiderLesson,
    CurateLesson,
    DropLessonOf,
    LessonCapture,
    SearchLessons,
    SuggestLesson,
)
from facilitation_rules.onboarding import WelcomeMember
from facilitation_rules.portal import SendPortalLink
from facilitation_rules.recognition import Recognition, RecordCredits, ShowContributions
from facilitation_rules.skills import FindSkills, SetSkillsVisibility
from facilitation_rules.sponsor_report import (
    AddReportNote,
    PreviewSponsorReport,
    PublishSponsorReport,
    SponsorReports,
)
from facilitation_rules.stuck import HelpStuckMember
from storage import skills as skills_store
from storage import sponsor_report as sponsor_store
from storage.db import create_engine, redact
from storage.digests import StoredDigests
from storage.lessons import LessonStore, MessageThreadReader
from storage.migrate import upgrade
from storage.onboarding import StarterLessons
from storage.recognition import CreditStore

logger = logging.getLogger(__name__)


async def build_engine(
    settings: Settings,
    clock: Clock,
    *,
    batch_size: int = 1,
    backfill: bool = False,
    migrate: bool = True,
    shared: bool = False,
    ownership: Ownership | None = None,
) -> Engine:
    """Migrate the database, load the working set and return an engine with the default rules.

    `shared`: other processes may use the same database, so workspaces are decided under leases (`ownership`,
    or a new one for this process).
    """
    if migrate:
        await upgrade(settings.database_url)
    db = create_engine(settings.database_url)
    logger.debug("database %s", redact(settings.database_url))
    engine = Engine(db, settings, default_rules(settings), clock, batch_size=batch_size, backfill=backfill)
    if shared or ownership is not None:
        engine.ownership = ownership or Ownership(db, ttl=timedelta(seconds=settings.lease_seconds))
        engine.ownership.bind(db)
    wire_digests(engine)
    attach_lessons(engine)
    attach_paths(engine)
    attach_cocreation(engine)
    attach_ideas(engine)
    engine.errands.register(SendPortalLink, PortalErrands(engine.db).send_link)
    engine.errands.register(WelcomeMember, OnboardingErrands(StarterLessons(engine.db)).welcome)
    wire_recognition(engine)
    wire_sponsor_report(engine)
    wire_skills(engine)
    await engine.start()
    return engine


def wire_digests(engine: Engine) -> None:
    """Run the digest rules' errands against the database, with a narrator when an LLM is configured."""
    shell = DigestErrands(StoredDigests(engine.db, flush=engine.flush), make_narrator(engine.settings))
    engine.errands.register(PublishDigest, shell.publish)
    engine.errands.register(ShowDigest, shell.show)
    engine.errands.register(ShowStats, shell.stats)
    for rule in engine.rules:
        if isinstance(rule, WeeklyDigest):
            rule.enabled = True


def wire_recognition(engine: Engine) -> CreditStore:
    """Keep credits for thanks in the database and read members' contributions from it (`/steward me`, Slack's
    Home tab through `engine.extras["contributions"]`); a forgotten member's credits go with them."""
    store = CreditStore(engine.db, flush=engine.flush)
    shell = RecognitionErrands(store)
    engine.errands.register(RecordCredits, shell.record)
    engine.errands.register(ShowContributions, shell.show)
    engine.on_forget.append(store.forget_member)
    # The Home tab reads outside the engine's turn: it must not flush a batch an event is still building.
    engine.extras["contributions"] = CreditStore(engine.db).contributions
    for rule in engine.rules:
        if isinstance(rule, Recognition):
            rule.enabled = True
    return store


def attach_lessons(engine: Engine) -> LessonStore:
    """Run the lesson and knowledge errands against the knowledge store; the replay report lists captures."""
    store = LessonStore(engine.db)
    engine.on_forget.append(store.forget_member)
    lessons = LessonErrands(
        store, MessageThreadReader(engine.db, before=engine.flush), make_distiller(engine.settings)
    )
    engine.errands.register(CaptureLesson, lessons.capture)
    engine.errands.register(ConsiderLesson, lessons.consider)
    engine.errands.register(DropLessonOf, lessons.drop)
    engine.errands.register(SuggestLesson, lessons.suggest)
    engine.errands.register(CurateLesson, lessons.curate)
    engine.errands.register(SearchLessons, lessons.search)
    engine.errands.register(HelpStuckMember, KnowledgeErrands(store).help_stuck)
    engine.extras["report_lessons"] = lessons.captured_report
    for rule in engine.rules:
        if isinstance(rule, LessonCapture):
            rule.enabled = True
    return store


def wire_sponsor_report(engine: Engine) -> SponsorErrands:
    """Post the monthly sponsor report from the database's figures, and keep the facilitators' notes there."""
    shell = SponsorErrands(engine.db, flush=engine.flush)
    engine.errands.register(PublishSponsorReport, shell.publish)
    engine.errands.register(AddReportNote, shell.note)
    engine.errands.register(PreviewSponsorReport, shell.preview)
    engine.on_forget.append(lambda workspace, member: sponsor_store.forget_author(engine.db, workspace, member))
    for rule in engine.rules:
        if isinstance(rule, SponsorReports):
            rule.enabled = True
    return shell


def wire_skills(engine: Engine) -> SkillsErrands:
    """Answer `/steward skills` and record consent to the skills map; forgetting a member removes both."""
    shell = SkillsErrands(engine.db)
    engine.errands.register(FindSkills, shell.find)
    engine.errands.register(SetSkillsVisibility, shell.visibility)
    engine.on_forget.append(lambda workspace, member: skills_store.forget_member(engine.db, workspace, member))
    return shell
