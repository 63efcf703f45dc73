"""An institution with one person per role, on a fresh database, for the lifecycle tests."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import update

from db.models import CaseDeadline, Setting
from services.administration.setup import SETUP_DONE
from services.casework import cases
from services.institution.directory import create_user
from services.institution.settings import activate_pack
from services.rules import statutory
from services.rules.calendar import SHANGHAI
from services.unit_of_work import UnitOfWork, transaction


@pytest.fixture(autouse=True)
def _today(clock):
    """Every test here runs at tests.conftest.TODAY, never at the wall clock's date (issue 9 §9)."""
    return clock


@dataclass
class Institution:
    engine: Any
    pack: str
    users: dict[str, int]

    def uow(self) -> AbstractContextManager[UnitOfWork]:
        """A unit of work that commits when the block succeeds, as the app's callers do (issue 9 §3)."""
        return transaction(self.engine)

    def intake(self, who: str = "clerk", **form: Any) -> cases.CaseRef:
        with self.uow() as uow:
            return cases.intake(uow, self.users[who], {**self.complaint(), **form})

    def complaint(self) -> dict[str, Any]:
        return {"customer_name": "张伟", "customer_phone": "13800138000", "customer_id_number": "110101199001011234",
                "channel": "phone", "received_at": at("2026-11-02 10:00"),
                "content": "营业部柜员办理业务出错，要求更正",
                "category": CATEGORY[self.pack], "compensation_claim": 0, "flags": []}


CATEGORY = {"futures": "service_quality", "branch": "A", "securities": "staff_operation",
            "consumer_finance": "service", "bank": "deposit"}
# (username, roles, department) per pack: the handling department is the category's department.
HANDLING = {"futures": "customer_service", "branch": "operations", "securities": "branch",
            "consumer_finance": "customer_service", "bank": "outlet"}
OTHER = {"futures": "compliance", "branch": "marketing", "securities": "legal_compliance",
         "consumer_finance": "legal", "bank": "general_administration"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def at_risk_beyond_the_nearest(inst: Institution) -> cases.CaseRef:
    """A consumer-finance case received 2026-11-02 09:00 (L3: resolve due 11-06 24:00, at risk from 11-05 ~02:00)
    whose regulator's clock (due 11-17 24:00) is set as if it had run since September: on 2026-11-03 12:00 a
    deadline other than its nearest is at risk (RULES.md §3, §7.1)."""
    ref = inst.intake(received_at=at("2026-11-02 09:00"))
    with inst.uow() as uow:
        uow.session.execute(update(CaseDeadline).where(
            CaseDeadline.case_id == cases.case_by_number(uow, ref.case_no).id,
            CaseDeadline.milestone == statutory.MILESTONE).values(starts_at=at("2026-09-01 00:00")))
    return ref


def make_institution(engine: Any, pack: str) -> Institution:
    people = {"clerk": (["intake"], HANDLING[pack]), "handler": (["handler"], HANDLING[pack]),
              "head": (["dept_head"], HANDLING[pack]), "outsider": (["handler"], OTHER[pack]),
              "supervisor": (["supervisor"], None), "admin": (["admin"], None), "trainee": (["trainee"], None)}
    with transaction(engine) as uow:
        activate_pack(uow, pack)
        users = {name: create_user(uow, name, name.title(), "kite-harbour9", roles, dept).id
                 for name, (roles, dept) in people.items()}
        uow.session.add(Setting(key=SETUP_DONE, value=True))  # as first-run set-up leaves it
    return Institution(engine, pack, users)


@pytest.fixture
def futures(engine) -> Institution:
    return make_institution(engine, "futures")


@pytest.fixture
def branch(engine) -> Institution:
    return make_institution(engine, "branch")


@pytest.fixture
def consumer_finance(engine) -> Institution:
    return make_institution(engine, "consumer_finance")
