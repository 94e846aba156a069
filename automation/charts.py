"""Chart geometry for the automation dashboard: bars placed in percent of the width and pixels of the height."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass
class Bar:
    """One bar of a chart, in percent of the chart's width and pixels of its height."""

    label: str
    value: int
    x: float = 0.0
    width: float = 0.0
    y: float = 0.0
    height: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


DAY_CHART_TOP, DAY_CHART_BOTTOM = 18, 150


def day_bars(per_day: list[tuple[date, int]]) -> tuple[list[Bar], int]:
    """Vertical bars for tasks sent per day, and the scale's top value."""
    top = max((n for _, n in per_day), default=0) or 1
    slot = 100 / max(len(per_day), 1)
    span = DAY_CHART_BOTTOM - DAY_CHART_TOP
    bars = []
    for i, (day, n) in enumerate(per_day):
        height = max(n / top * span, 1.5 if n else 0)
        bars.append(Bar(f"{day:%a} {day.day} {day:%b}", n, x=round(i * slot + slot * 0.15, 3),
                        width=round(slot * 0.7, 3), y=round(DAY_CHART_BOTTOM - height, 2), height=round(height, 2)))
    return bars, top


USAGE_ROW = 38


def usage_bars(most_used: list[tuple[str, int]]) -> list[Bar]:
    """Horizontal bars for the most-used solutions (the longest spans 80% of the width)."""
    top = max((n for _, n in most_used), default=0) or 1
    return [Bar(name, n, x=0, width=round(max(n / top * 80, 0.5), 2), y=i * USAGE_ROW + 18, height=12)
            for i, (name, n) in enumerate(most_used)]
