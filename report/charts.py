"""Chart geometry for the HTML report: numbers in, rectangles and labels out.

The SVG itself is written by the templates (`templates/charts.html.j2`), so every text in
a chart is escaped like the rest of the page, and the page needs no script to draw it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH = 660
LEFT = 44
"""Room for the value axis' labels."""
BOTTOM = 22
"""Room for the category labels."""
TOP = 8


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True, slots=True)
class Chart:
    """What to draw in a `width` by `height` SVG: bars, grid lines and labels."""

    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    grid: list[Label] = field(default_factory=list)
    """A horizontal grid line at each label's y, its value at the left."""
    labels: list[Label] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    """(colour, what it stands for)"""


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    color: str
    values: Sequence[float]


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times 10^n that is at least `value` (1 for nothing)."""
    if value <= 0:
        return 1
    power: float = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def stacked_bars(
    series: Sequence[Series], categories: Sequence[str], height: int = 170, every: int = 1
) -> Chart:
    """One column per category, the series stacked bottom up; every `every`-th category
    is labelled."""
    plot_height = height - TOP - BOTTOM
    count = max(len(categories), 1)
    slot = (WIDTH - LEFT) / count
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    top = 4 * nice_ceiling(max(totals, default=0) / 4)  # four grid steps of a round size
    scale = plot_height / top
    chart = Chart(width=WIDTH, height=height, legend=[(s.color, s.name) for s in series])
    for step in range(5):
        value = top * step / 4
        label = f"{value:g}" if value < 10_000 else f"{value / 1000:g}k"
        chart.grid.append(Label(LEFT - 4, TOP + plot_height - value * scale, label, "end"))
    for index, category in enumerate(categories):
        x = LEFT + index * slot + slot * 0.12
        base: float = TOP + plot_height
        for s in series:
            size = s.values[index] * scale
            if size > 0:
                base -= size
                title = f"{category}: {s.name} {s.values[index]:g}"
                chart.bars.append(Bar(x, base, slot * 0.76, size, s.color, title))
        if index % every == 0:
            chart.labels.append(Label(x + slot * 0.38, height - 6, category))
    return chart


def percent_bars(rows: Sequence[tuple[str, float | None, str]], row_height: int = 24) -> Chart:
    """Horizontal bars from 0 to 100 %, one per (label, percent or None, colour)."""
    left = 190
    height = TOP + row_height * len(rows) + BOTTOM
    span = WIDTH - left - 60
    chart = Chart(width=WIDTH, height=height)
    for step in range(5):
        chart.labels.append(Label(left + span * step / 4, height - 6, f"{25 * step}%"))
    for index, (label, percent, color) in enumerate(rows):
        y = TOP + index * row_height
        chart.labels.append(Label(left - 8, y + row_height * 0.65, label, "end"))
        if percent is None:
            chart.labels.append(Label(left + 4, y + row_height * 0.65, "—", "start"))
            continue
        width = span * percent / 100
        chart.bars.append(Bar(left, y + 3, width, row_height - 8, color, f"{label}: {percent:g}%"))
        chart.labels.append(
            Label(left + width + 6, y + row_height * 0.65, f"{percent:g}%", "start")
        )
    return chart
