"""The onboarding errand: the lessons a newcomer should see first, looked up for their welcome."""

from __future__ import annotations

from bot.rules import Decision, RuleContext
from facilitation_rules.onboarding import WelcomeMember
from storage.onboarding import StarterLessons

WELCOME_LESSONS = 3


class OnboardingErrands:
    def __init__(self, lessons: StarterLessons) -> None:
        self.lessons = lessons

    async def welcome(self, errand: WelcomeMember, ctx: RuleContext) -> Decision:
        hits = await self.lessons.starters(errand.workspace, errand.channel, limit=WELCOME_LESSONS)
        return [errand.message(hits)]
