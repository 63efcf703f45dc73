"""A measured row of the bench's table from a benchmark that times itself (pages, crowd): the same reading
as `bench.__main__.Result` (nearest-rank p95 within the target), plus the errors it met."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    name: str
    target: float  # seconds; met when the 95th percentile is within it and nothing failed
    times: list[float]  # seconds of each timed call that succeeded
    errors: int = 0  # timed calls that raised or showed an error
    notes: list[str] = field(default_factory=list)  # what went wrong (no PII: exception types, page names)

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else math.inf

    @property
    def p95(self) -> float:
        return p95(self.times)

    @property
    def passed(self) -> bool:
        return bool(self.times) and not self.errors and self.p95 <= self.target


def p95(times: list[float]) -> float:
    """Nearest rank, as the bench reads every benchmark: with few runs this is the slowest."""
    if not times:
        return math.inf
    ordered = sorted(times)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]
