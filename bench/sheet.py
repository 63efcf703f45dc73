"""A filled-in import template for the import benchmark (issue 13 §3–4): N rows of the pack's cases as an
institution moving off Excel would bring them — the downloaded template (`import_template.template_xlsx`),
filled in below its two header rows with cases received 60 to 15 days before `now` (every step before `now`).

The mix: a fifth still registered, a tenth forwarded and in hand, a tenth fed back, a tenth resolved at intake,
the rest (half) the whole way to the archive (with a return visit where the pack requires one, and the
regulator's proof of notification where the pack has the statutory layer). Every case goes to a handler of
the department the rules give it, so every row is valid: the file measures importing, not refusing.
"""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook

from demo import texts
from services.administration.import_template import COLUMNS, template_xlsx
from services.rules import jrt
from services.rules.assess import Facts, assess
from services.rules.calendar import SHANGHAI, WorkingCalendar
from services.rules.policy import Policy

KEYS = [c.key for c in COLUMNS]


def rows(policy: Policy, calendar: WorkingCalendar, handlers: dict[str, list[str]], clerks: list[str],
         now: datetime, count: int, seed: int = 13) -> list[dict[str, Any]]:
    """`count` valid rows: `handlers` are usernames by department code, `clerks` the first responders'."""
    rng = random.Random(seed)
    channels = [c for c in policy.channels if c != "other"]  # "other" needs a channel note
    weights = [texts.CHANNEL_MIX.get(c, 1) for c in channels]
    departments: dict[tuple[str, str, int], str] = {}
    out = []
    for number in range(count):
        received = (now - timedelta(days=60) + timedelta(minutes=rng.randrange(0, 45 * 24 * 60))).replace(
            second=0, microsecond=0).astimezone(SHANGHAI)
        channel, category = rng.choices(channels, weights)[0], rng.choice(list(policy.categories))
        claim = rng.choice((0, 0, 0, 500, 3000))
        key = (channel, category, claim)
        if key not in departments:  # the department the rules give; its handler takes the case
            facts = Facts(received_at=received, category=category, channel=channel,
                          compensation_claim=Decimal(claim), cause=next(iter(policy.causes)), flags=frozenset())
            departments[key] = assess(policy, facts, calendar).responsible_department
        row: dict[str, Any] = {
            "received_at": received.strftime("%Y-%m-%d %H:%M"), "channel": channel, "category": category,
            "customer_name": f"导入客户{number:05d}", "customer_phone": f"137{number:08d}",
            "content": f"客户反映{policy.label('category', category)}业务办理问题（第 {number + 1} 行），要求处理。",
            "compensation_claim": claim, "first_responder": clerks[number % len(clerks)]}
        fate = rng.random()
        if fate < 0.2:
            pass  # registered only
        elif fate < 0.3:
            row.update(resolved_at_intake="是", fact_finding="客户当场接受解释", satisfaction=5)
        else:
            row.update(_forwarded(rng, received, handlers[departments[key]], fate, policy, channel, category))
        out.append(row)
    return out


def _forwarded(rng: random.Random, received: datetime, handlers: list[str], fate: float, policy: Policy,
               channel: str, category: str) -> dict[str, Any]:
    step = received
    times: dict[str, Any] = {}

    def after(hours: float) -> str:
        nonlocal step
        step += timedelta(hours=hours)
        return step.strftime("%Y-%m-%d %H:%M")

    times.update(forwarded_at=after(0.5), handler=rng.choice(handlers), handling_form="请核实并处理")
    times.update(first_contact_at=after(rng.uniform(1, 20)), first_contact_note="已电话联系客户")
    if fate < 0.4:
        return times  # in hand
    times.update(resolved_at=after(rng.uniform(24, 120)), fact_finding="经核实情况属实", measures="已向客户致歉并更正",
                 accountability="对经办人员批评教育")
    times.update(feedback_at=after(rng.uniform(1, 24)), feedback_method="电话", satisfaction=rng.choice((3, 4, 5)))
    if policy.statutory_on:  # the proof of notification (RULES.md §7.2 art. 21)
        times.update(notification_method="短信", notification_ref=f"SMS{rng.randrange(10**8):08d}")
    if fate < 0.5:
        return times  # fed back
    if policy.return_visit_required:
        times.update(return_visit_at=after(rng.uniform(24, 72)), return_visit_method="电话",
                     return_visit_note="客户表示满意")
    times.update(archived_at=after(rng.uniform(1, 48)))
    if policy.jrt is not None and policy.jrt.required:  # a bank files a case only with all three codes (RULES.md §7.4)
        suggested = jrt.suggest(policy.jrt, channel, category, ())
        times.update({column: suggested[d] or jrt.codes(d)[-1] for d, column in jrt.COLUMNS.items()})
    return times


def xlsx(policy: Policy, values: list[dict[str, Any]]) -> bytes:
    """The pack's downloaded template, its case sheet filled in below the two header rows."""
    book = load_workbook(io.BytesIO(template_xlsx(policy)))
    sheet = book["案件"]
    for row in values:
        sheet.append([row.get(key) for key in KEYS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
