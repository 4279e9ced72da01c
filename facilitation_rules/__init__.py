"""Steward's facilitation rules: pure decisions over platform-neutral events (see bot.rules)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.rules import Rule
    from bot.settings import Settings


def default_rules(settings: Settings) -> list[Rule]:
    """The rules Steward runs, in order: later rules see what earlier ones decided for the same event."""
    from facilitation_rules.admin import FacilitatorCommands
    from facilitation_rules.commitments import Commitments
    from facilitation_rules.confirm import AnswerConfirmation
    from facilitation_rules.decisions import DecisionLog
    from facilitation_rules.digest import WeeklyDigest
    from facilitation_rules.etiquette import MuteCommands
    from facilitation_rules.experts import ExpertRouting
    from facilitation_rules.ideas import Ideas
    from facilitation_rules.initiatives import Initiatives
    from facilitation_rules.lesson_review import LessonReview
    from facilitation_rules.lessons import LessonCapture
    from facilitation_rules.onboarding import Onboarding
    from facilitation_rules.paths import LearningPaths
    from facilitation_rules.portal import PortalAccess
    from facilitation_rules.privacy import ForgetMe
    from facilitation_rules.questions import QuestionLifecycle
    from facilitation_rules.recognition import Recognition
    from facilitation_rules.skills import SkillsMap
    from facilitation_rules.sponsor_report import SponsorReports
    from facilitation_rules.stuck import StuckMembers
    from facilitation_rules.unanswered import UnansweredQuestions

    return [
        QuestionLifecycle(),
        UnansweredQuestions(),
        ExpertRouting(),
        StuckMembers(),
        AnswerConfirmation(),
        MuteCommands(),
        FacilitatorCommands(),
        ForgetMe(),
        WeeklyDigest(),
        LessonCapture(),
        LearningPaths(),
        LessonReview(),
        DecisionLog(),
        Commitments(),
        PortalAccess(),
        Onboarding(),
        Recognition(),
        SponsorReports(),
        SkillsMap(),
        Ideas(),  # newer commands last: Discord's /steward group keeps the first 25 (see its adapter)
        Initiatives(),
    ]
