"""`python -m bench [--cases N] [--years Y] [--pack bank]`: build a synthetic institution in a throw-away
embedded PostgreSQL, time each screen and report (warm, several runs) against its target, print a table,
and exit 1 when a target is missed (or the data failed its checks). See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bench import crowd, pages
from bench.data import Institution, build, check, distribution, month_before, temporary_engine
from bench.rows import Row
from db.engine import ROOT
from demo.loader import set_up
from services.casework.case_view import case_detail
from services.casework.cases import intake
from services.casework.escalation import board, run_automatic_escalations
from services.casework.queue import my_queue
from services.rules.assess import assess, parse_facts
from services.rules.calendar import SHANGHAI, WorkingCalendar
from services.rules.packs import load_policy
from services.supervision.kpi import kpi_cases, kpis
from services.supervision.report import monthly_report
from services.unit_of_work import UnitOfWork, transaction


@dataclass(frozen=True)
class Benchmark:
    name: str
    target: float  # seconds; met when the 95th percentile is within it
    runs: int
    call: Callable[[int], Any]  # one timed call; gets the run number
    warmup: int = 2


@dataclass(frozen=True)
class Result:
    benchmark: Benchmark
    times: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times)  # nearest rank: with few runs this is the slowest
        return ordered[math.ceil(0.95 * len(ordered)) - 1]

    @property
    def passed(self) -> bool:
        return self.p95 <= self.benchmark.target


def measure(benchmark: Benchmark) -> Result:
    for i in range(benchmark.warmup):
        benchmark.call(-1 - i)
    times = []
    for i in range(benchmark.runs):
        started = time.perf_counter()
        benchmark.call(i)
        times.append(time.perf_counter() - started)
    return Result(benchmark, times)


def facts_samples(pack: str, now: datetime) -> list[str]:
    """`--facts` JSON as a user of `python -m services assess` would pass it: every category and channel."""
    policy = load_policy(pack)
    channels, flags = list(policy.channels), [*policy.flags, None]
    return [json.dumps({"received_at": (now - timedelta(hours=i)).isoformat(), "channel": channels[i % len(channels)],
                        "category": category, "compensation_claim": (0, 3000, 80000, 150000)[i % 4],
                        "cause": ("branch", "company")[i % 2], "flags": [f for f in [flags[i % len(flags)]] if f]})
            for i, category in enumerate(list(policy.categories) * 4)]


def assess_cli_equivalent(pack: str, facts: str) -> str:
    """What `python -m services assess --policy … --facts …` does once its interpreter is up."""
    policy = load_policy(pack)
    result = assess(policy, parse_facts(json.loads(facts), policy), WorkingCalendar.shipped(), "zh").to_json()
    return json.dumps(result, ensure_ascii=False)


def benchmarks(inst: Institution) -> list[Benchmark]:
    engine, now, pack = inst.engine, inst.now, inst.pack
    first, last = month_before(now)
    facts = facts_samples(pack, now)
    policy = load_policy(pack)

    def in_uow(work: Callable[[UnitOfWork], Any]) -> Callable[[int], Any]:
        def call(_: int) -> Any:
            with transaction(engine) as uow:  # a page opens one unit of work per service call
                return work(uow)
        return call

    def detail(i: int) -> Any:
        with transaction(engine) as uow:
            return case_detail(uow, inst.supervisor, inst.sample[i % len(inst.sample)], now=now)

    def new_case(i: int) -> Any:
        category = list(policy.categories)[i % len(policy.categories)]
        form = {"customer_name": "王芳", "customer_phone": f"139{i % 10**8:08d}", "customer_id_number": None,
                "channel": list(policy.channels)[i % len(policy.channels)], "category": category,
                "received_at": datetime.now(SHANGHAI), "compensation_claim": (0, 3000)[i % 2], "cause": "branch",
                "flags": [], "channel_note": "客户来信",  # read for the "other" channel only (RULES.md §7.2)
                "content": "客户反映网点排队时间过长，大堂无人引导，要求改进。"}
        with transaction(engine) as uow:
            return intake(uow, inst.clerk, form)

    cli = [sys.executable, "-m", "services", "assess", "--policy", pack, "--facts", facts[0]]
    return [
        Benchmark("assess (CLI-equivalent, in process)", 0.005, 500,
                  lambda i: assess_cli_equivalent(pack, facts[i % len(facts)]), warmup=20),
        Benchmark("assess (python -m services, process)", 3.0, 5,
                  lambda _: subprocess.run(cli, cwd=ROOT, check=True, capture_output=True), warmup=1),
        Benchmark("my_queue assigned, busiest handler, p.1", 0.5, 30,
                  in_uow(lambda u: my_queue(u, inst.handler, view="assigned", now=now))),
        Benchmark("my_queue department, busiest dept, p.1", 0.5, 30,
                  in_uow(lambda u: my_queue(u, inst.head, view="department", now=now))),
        Benchmark("case_detail (40 cases, open and closed)", 0.5, 40, detail),
        Benchmark("run_automatic_escalations, nothing new", 0.3, 10,
                  in_uow(lambda u: run_automatic_escalations(u, now=now))),
        Benchmark("board (supervisor: every department)", 0.7, 10,
                  in_uow(lambda u: board(u, inst.supervisor, now=now))),
        Benchmark(f"kpis {first:%Y-%m} by department", 2.0, 5,
                  in_uow(lambda u: kpis(u, inst.supervisor, date_from=first, date_to=last, by="department", now=now)),
                  warmup=1),
        Benchmark(f"kpi_cases timeliness {first:%Y-%m}, 500 rows", 1.0, 5,
                  in_uow(lambda u: kpi_cases(u, inst.supervisor, kpi="timeliness", by="department",
                                             group=inst.department, date_from=first, date_to=last, now=now,
                                             limit=500)), warmup=1),
        Benchmark(f"monthly_report {first:%Y-%m} build", 10.0, 3,
                  in_uow(lambda u: monthly_report(u, inst.supervisor, f"{first:%Y-%m}", now=now)), warmup=1),
        Benchmark("intake one case (one transaction)", 0.3, 30, new_case),  # last: it writes
    ]


def escalations_owed(inst: Institution) -> int:
    """The automatic escalations the data still owes (0: the load recorded what the daily run would have)."""
    with transaction(inst.engine) as uow:
        return run_automatic_escalations(uow, now=inst.now)


def table(results: list[Result]) -> str:
    width = max(len(r.benchmark.name) for r in results)
    lines = [f"{'benchmark':<{width}}  {'target':>8}  {'median':>9}  {'p95':>9}  {'runs':>4}  result",
             "-" * (width + 48)]
    for r in results:
        lines.append(f"{r.benchmark.name:<{width}}  {_ms(r.benchmark.target):>8}  {_ms(r.median):>9}  {_ms(r.p95):>9}  "
                     f"{len(r.times):>4}  {'pass' if r.passed else 'FAIL'}")
    return "\n".join(lines)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 0.01 else f"{seconds * 1000:.0f} ms"


DEMO_TARGET = 15.0  # seconds: first run with the default-size demo (issue 10 §4)


def demo_setup(pack: str) -> int:
    """The first run as the set-up page does it (admin, pack and the default-size demo, one transaction, the
    production bcrypt work factor) on a fresh database, timed once; then the data's checks."""
    engine = temporary_engine()
    started = time.perf_counter()
    with transaction(engine) as uow:
        result = set_up(uow, pack=pack, admin_username="admin", admin_name="管理员",
                        admin_password="bench-Admin-2026", demo=True)
    seconds = time.perf_counter() - started
    problems = check(engine)
    # the machine is shared: the same code measured 47 s and 82 s minutes apart, so say how busy it was
    print(f"demo set-up ({result.demo_cases} {pack} cases): {seconds:.1f} s, target {DEMO_TARGET:.0f} s — "
          f"{'pass' if seconds <= DEMO_TARGET else 'FAIL'}; checks: {len(problems)} problems; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for problem in problems[:20]:
        print(f"  {problem}")
    return 0 if seconds <= DEMO_TARGET and not problems else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--cases", type=int, default=300_000, help="complaints to generate (default 300000)")
    parser.add_argument("--years", type=int, help="years they span (default: one per 300000 cases)")
    parser.add_argument("--pack", default="bank", help="policy pack (default bank: DESIGN.md's large bank)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--crowd-seconds", type=float, default=crowd.SECONDS, help="the 30 users' run (default 60)")
    parser.add_argument("--demo", action="store_true",
                        help="time only the first run with the demo (COMPLAINTS_DEMO_CASES, default 2000)")
    args = parser.parse_args(argv)
    if args.demo:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        return demo_setup(args.pack)
    if args.cases < 500:
        parser.error("--cases must be at least 500 (the benchmarks need open and closed cases to act on)")
    years = args.years or max(1, round(args.cases / 300_000))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the throw-away server is stopped and deleted
    print(f"Building {args.cases} {args.pack} cases over {years} year(s) in a throw-away embedded PostgreSQL …")
    engine = temporary_engine()
    inst = build(engine, cases=args.cases, years=years, pack=args.pack, seed=args.seed)
    with engine.connect() as conn:
        version = conn.exec_driver_sql("SHOW server_version").scalar()
        buffers = conn.exec_driver_sql("SHOW shared_buffers").scalar()
    print(f"Built in {inst.seconds:.0f} s: " + ", ".join(f"{n} {t}" for t, n in inst.rows.items()))
    print("\n".join(distribution(engine)))
    problems = check(engine)
    owed = escalations_owed(inst)
    print(f"Checks: {len(problems)} problems; {owed} automatic escalations still owed (expected 0)")
    for problem in problems[:20]:
        print(f"  {problem}")
    print(f"\nPostgreSQL {version} (shared_buffers {buffers}), data as of {inst.now:%Y-%m-%d %H:%M} Asia/Shanghai; "
          f"busiest department {inst.department}\n")
    gc.collect()
    gc.freeze()  # the build's leftovers (Faker, templates) would make every full collection cost ~0.1 s
    results: list[Result | Row] = []
    for benchmark in benchmarks(inst):
        results.append(measure(benchmark))
        print(f"  {benchmark.name}: median {_ms(results[-1].median)}", flush=True)
    results += [*pages.rows(inst), *crowd.rows(inst, seconds=args.crowd_seconds)]  # issue 13 §4: timed by themselves
    print()
    print(table(results))
    failed = [r.benchmark.name for r in results if not r.passed]
    if failed or problems or owed:
        print(f"\n{len(failed)} target(s) missed" + ("; the data failed its checks" if problems or owed else ""))
        return 1
    print("\nEvery target met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
