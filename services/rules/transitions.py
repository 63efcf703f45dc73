"""Which case actions each state allows (RULES.md §2): the one table behind the use cases and the case page.

cases.py refuses an action in any other state; case_view.py offers exactly the actions this table
and the user's roles (services.institution.access.ACTION_ROLES) allow.
"""

from __future__ import annotations

OPEN_STATES = ("registered", "forwarded", "in_progress", "resolved", "feedback_given", "return_visit")
CLOSED_STATES = ("archived", "withdrawn")
# seed 000 art. 17(7): a dissatisfied customer complains again once the result was fed back.
RE_COMPLAINT_FROM = ("feedback_given", "return_visit", "archived")

# The regulator's clock runs until the decision is told (feedback meets it, RULES.md §7.1).
CLOCK_STATES = ("registered", "forwarded", "in_progress", "resolved")

# Action → states it may start from, in the order the case page lists the actions (issue 4 §3).
ACTION_STATES: dict[str, tuple[str, ...]] = {
    "forward": ("registered",),
    "reassign": ("forwarded", "in_progress"),  # within the department, by its head (issue 10 §5)
    "first_contact": ("forwarded",),
    "resolve": ("forwarded", "in_progress"),
    "invalid": ("registered", "forwarded", "in_progress"),  # seed 002 art. 18(3)
    "feedback": ("resolved",),
    "return_visit": ("feedback_given",),  # seed 000 art. 17(5), 001 art. 8
    "archive": ("feedback_given", "return_visit", "withdrawn"),  # seed 000 art. 17(6)
    "extend": OPEN_STATES,
    "escalate": OPEN_STATES,
    "withdraw": ("registered", "forwarded", "in_progress"),
    "re_complaint": RE_COMPLAINT_FROM,
    # seed 002 art. 19(1): a branch-level case is reported to headquarters within 3 working days of closing.
    "report_hq": ("resolved", "feedback_given", "return_visit", "archived"),
    # The statutory layer (RULES.md §7.1): the case page offers them only for a pack with the layer.
    "pause_clock": CLOCK_STATES,
    "resume_clock": CLOCK_STATES,
    "restart_clock": CLOCK_STATES,
    "merge_repeat": CLOCK_STATES,
    "extend_statutory": CLOCK_STATES,
    "request_extension": CLOCK_STATES,
    "approve_extension": CLOCK_STATES,
}


def states_for(action: str) -> tuple[str, ...]:
    """The states `action` may start from (cases.py passes this to its state check)."""
    return ACTION_STATES[action]


def actions_in(state: str) -> tuple[str, ...]:
    """Every action the state allows, whoever asks."""
    return tuple(action for action, states in ACTION_STATES.items() if state in states)
