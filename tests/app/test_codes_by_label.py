"""Codes on screen go by their labels (issue 10 §2): timeline events and system roles the pack does not name."""

from __future__ import annotations

import re

from tests.app.test_workflow import open_page
from tests.service.conftest import at

RAW = re.compile(r"\b(intake|escalation|archive|resolve_at_intake|feedback|dept_head|executive)\b")


def test_the_timeline_names_its_events_in_chinese(institution, app):
    ref = institution.intake(received_at=at("2026-11-02 10:00"), resolved_at_intake=True,
                             explanation="已当场解释", satisfaction=5)
    page = open_page(app, institution.users["clerk"], "case", case=ref.case_no)
    assert not page.exception
    shown = [m.value.replace("\\", "") for m in page.markdown]
    timeline = [s for s in shown if s.startswith("**2026-")]
    assert timeline and any("受理" in s for s in timeline) and any("上报" in s for s in timeline)
    assert not [s for s in timeline if RAW.search(s)], timeline


def test_a_system_role_reads_by_its_label(institution, app):
    page = open_page(app, institution.users["clerk"], "case")
    from dashboard.i18n import code  # the page's helper: st.session_state is the bare one here (zh)
    from services.rules.packs import load_policy

    policy = load_policy("securities")
    assert (code(policy, "role", "dept_head"), code(policy, "event", "intake")) == ("部门负责人", "受理")
    assert not page.exception
