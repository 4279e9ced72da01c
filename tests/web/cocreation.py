"""Co-creation in the portal's community: a supersede chain of decisions (its last link private), ideas with votes
(one private, one declined), and initiatives grouping them (one started in the private channel)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core.cocreation import DecisionDraft
from bot.settings import Settings
from storage.commitments import CommitmentStore
from storage.db import create_engine
from storage.decisions import DecisionStore
from storage.ideas import IdeaStore
from storage.initiatives import InitiativeStore
from tests.web.community import FACILITATOR, INSIDER, PRIVATE_CHANNEL, SECRET, WORKSPACE

VOTERS = ("U01LEA", "U01OMAR", "U01FELIX")  # support the lunch-and-learn idea; their names are on no card
VOTER_NAMES = ("Lea Vogel", "Omar Haddad", "Felix Braun")
MORE_VOTERS = ("U01NINA", "U01LUKAS")  # with the insider and the voters, the private idea is the best supported
INITIATIVE = "Digital workplace"
GOAL = "Everyone works in Teams and SharePoint by summer"
PRIVATE_INITIATIVE = f"Reorganisation {SECRET}"


def source(channel: str, n: int) -> str:
    """The link to the thread the test's `n`th decision came from."""
    return f"https://example.slack.com/archives/{channel}/p{n}"


@dataclass(frozen=True)
class CoCreation:
    agreed: int  # public, in German, agreed by consent
    teams: int  # public, agreed, then superseded by `sharepoint`
    sharepoint: int  # public, supersedes `teams`, superseded by `private_decision`
    private_decision: int
    lunch: int  # public idea, three votes
    wiki: int  # public idea, one vote
    declined: int  # public idea, declined with a reason
    private_idea: int


def add_cocreation(settings: Settings) -> CoCreation:
    async def make() -> CoCreation:
        db = create_engine(settings.database_url)
        now = datetime.now(UTC)
        decisions, ideas, initiatives = DecisionStore(db), IdeaStore(db), InitiativeStore(db)
        try:
            async def decide(
                n: int, draft: DecisionDraft, channel: str, private: bool, supersedes: int | None = None
            ) -> int:
                recorded = now + timedelta(minutes=n)  # newer than the sample's decisions, in this order
                stored, _ = await decisions.record(
                    WORKSPACE, draft, origin=f"portal-test-decision-{n}", channel=channel, thread=f"t{n}",
                    permalink=source(channel, n), language="en", private=private,
                    recorded_by=FACILITATOR, now=recorded, consent_until=recorded,
                    card_key=lambda i, r: f"decision:{WORKSPACE}:{i}:{r}", supersedes=supersedes,
                )
                return stored.id

            agreed = await decide(1, DecisionDraft(
                title="Schulungen für Schichtleiter vor Ort", outcome="Zwei Termine im Lager.",
                reasons=("Die meisten haben keinen eigenen Laptop",), participants=("U01SABINE",),
            ), "wandel-de", False)
            teams = await decide(2, DecisionDraft(
                title="Session files in the Teams files tab", outcome="One folder per session.",
                participants=(FACILITATOR,),
            ), "general", False)
            for decision_id in (agreed, teams):
                assert await decisions.agree(WORKSPACE, decision_id, 0, now + timedelta(hours=1)) is not None
            sharepoint = await decide(3, DecisionDraft(
                title="Session files move to SharePoint libraries", question="Where do session files live?",
                options=("Teams files tab", "SharePoint library"), outcome="One SharePoint library per programme.",
                reasons=("Permissions are easier to manage", "Versioning works across teams"),
                participants=(FACILITATOR, "U01PRIYA"),
            ), "general", False, teams)
            private_decision = await decide(4, DecisionDraft(
                title=f"Steering keeps files in the {SECRET} vault", outcome=f"The {SECRET} vault holds them.",
                reasons=(f"Because of {SECRET}",), participants=(INSIDER,),
            ), PRIVATE_CHANNEL, True, sharepoint)

            async def idea(n: int, text: str, channel: str, private: bool, author: str) -> int:
                stored, _ = await ideas.record(
                    WORKSPACE, origin=f"portal-test-idea-{n}", channel=channel, text=text, author=author,
                    language="en", private=private, now=now + timedelta(minutes=n),
                    card_key=lambda i: f"idea:{WORKSPACE}:{i}",
                )
                return stored.id

            lunch = await idea(1, "Lunch-and-learn sessions about Teams every Friday", "general", False, FACILITATOR)
            wiki = await idea(2, "A wiki page for SAP go-live issues", "help", False, "U01PRIYA")
            declined = await idea(3, "Print the handbook for everyone", "general", False, "U01DAVID")
            private_idea = await idea(4, f"Merge the {SECRET} teams", PRIVATE_CHANNEL, True, INSIDER)
            supporters = ((lunch, VOTERS), (wiki, VOTERS[:1]), (private_idea, (INSIDER, *VOTERS, *MORE_VOTERS)))
            for number, voters in supporters:
                for voter in voters:
                    await ideas.vote(WORKSPACE, number, voter, origin=f"vote-{number}-{voter}", now=now)
            await ideas.move(WORKSPACE, declined, "declined", by=FACILITATOR, reason="Nobody reads paper any more",
                             origin="decline", now=now)

            commitments = CommitmentStore(db)
            kept = []
            for n, due in ((1, now - timedelta(days=3)), (2, now + timedelta(days=3))):
                stored_commitment, _ = await commitments.record(
                    WORKSPACE, origin=f"portal-test-commit-{n}", owner="U01PRIYA", channel="general", thread=None,
                    message=None, text=f"Move the session files, part {n}", language="en", now=now, due=due,
                    ask_at=due,
                )
                kept.append(stored_commitment.id)
            await commitments.mark_done(WORKSPACE, kept[1], now)

            plan, _ = await initiatives.create(WORKSPACE, INITIATIVE, goal=GOAL, channel="general", by=FACILITATOR,
                                               now=now)
            items = [("decision", agreed), ("decision", teams), ("decision", sharepoint),
                     ("decision", private_decision), ("idea", lunch), ("idea", declined), ("idea", private_idea),
                     ("commitment", kept[0]), ("commitment", kept[1])]
            for kind, item in items:
                assert await initiatives.add(WORKSPACE, plan, kind, item, by=FACILITATOR, now=now)
            await initiatives.create(WORKSPACE, PRIVATE_INITIATIVE, goal=f"Plan the {SECRET} move",
                                     channel=PRIVATE_CHANNEL, by=INSIDER, now=now)
            return CoCreation(agreed, teams, sharepoint, private_decision, lunch, wiki, declined, private_idea)
        finally:
            await db.dispose()

    return asyncio.run(make())
