"""A question's status, and the steps it may take: only forward, whatever order events arrive in."""

from __future__ import annotations

OPEN_STATUSES = frozenset({"asked", "answered", "flagged", "escalated"})
CLOSED_STATUSES = frozenset({"resolved", "stale", "not_a_question", "withdrawn"})

# A question's status only moves forward: these are the steps allowed from each status (staying is always allowed).
TRANSITIONS: dict[str, frozenset[str]] = {
    "asked": frozenset({"flagged", "escalated", "answered", "resolved", "stale", "not_a_question", "withdrawn"}),
    "flagged": frozenset({"escalated", "answered", "resolved", "stale", "not_a_question", "withdrawn"}),
    "escalated": frozenset({"answered", "resolved", "stale", "not_a_question", "withdrawn"}),
    "answered": frozenset({"resolved", "not_a_question", "withdrawn"}),
    "stale": frozenset({"resolved", "not_a_question", "withdrawn"}),
    "resolved": frozenset(),
    "not_a_question": frozenset({"withdrawn"}),
    "withdrawn": frozenset(),
}
# The same order as one number per status, for the database's guard against a step backwards.
STATUS_RANK: dict[str, int] = {
    status: rank
    for rank, status in enumerate(
        ("asked", "flagged", "escalated", "answered", "stale", "resolved", "not_a_question", "withdrawn")
    )
}


