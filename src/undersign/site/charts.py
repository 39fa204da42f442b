"""The geometry of the petition charts, drawn as SVG by templates (petitions/_chart_*.html).

Hand-written rather than a charting library's: the Python ones (pygal, matplotlib) write their
styles into the SVG (a ``<style>`` element or ``style`` attributes, which our CSP refuses),
format numbers and dates their own way rather than the page's language's, and draw at one
size. These charts are laid out in percentages across the page's width with text at its
natural size, so the same markup reads on a 390 px phone and a desktop: labels never shrink
with the drawing. Only the lines and areas live in a stretched inner viewport of 0–1000 units
(``preserveAspectRatio="none"``, strokes kept even by ``vector-effect``). Numbers and dates are
formatted by the templates, in the page's language.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from undersign.counting.selectors import Breakdown, RegionFigure
from undersign.petitions.selectors import HistoryBucket, SignatureHistory

PLOT = 1000  # the inner viewport's size, both ways
X_LABELS = 4  # dates under the time axis: four fit a 390 px phone
Y_STEPS = 4  # at most this many gridlines above zero
REGION_BARS = 10  # the chart shows the largest regions; the table lists them all
BAR_SHARE = 70  # percent of the width the longest bar takes: its figure goes to its right


def _attr(number: float) -> str:
    """A coordinate for an SVG attribute: a dot for decimals whatever the page's language
    (a template would localise a float: "33,3" in Russian)."""
    return f"{number:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class YTick:
    value: int
    y: str  # pixels from the top of the plot area
    label_y: str  # its label sits just above its line


@dataclass(frozen=True)
class XTick:
    moment: datetime
    x: str  # "NN.NN%"
    anchor: str  # text-anchor: the ends align inwards, so no label leaves the drawing
    new_day: bool  # an hourly chart writes the date under the time where the day changes


@dataclass(frozen=True)
class HistoryChart:
    history: SignatureHistory
    line: str  # polyline points in the inner viewport
    area: str  # the same, closed along the bottom
    y_ticks: list[YTick]
    x_ticks: list[XTick]
    plot_height: int
    first: HistoryBucket
    last: HistoryBucket
    busiest: HistoryBucket

    @property
    def changes(self) -> list[HistoryBucket]:
        """The buckets in which the count moved: the rows of the chart's table."""
        return [bucket for bucket in self.history.buckets if bucket.gained]


def nice_ceiling(value: int, steps: int = Y_STEPS) -> tuple[int, int]:
    """A round top for an axis reaching ``value`` and its step (1, 2 or 5 times a power of
    ten), with at most ``steps`` steps."""
    if value <= 0:
        return 1, 1
    raw = value / steps
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for multiple in (1, 2, 5, 10):
        step = max(1, multiple * magnitude)
        if step * steps >= value:
            return step * math.ceil(value / step), step
    raise AssertionError("10 × magnitude always reaches value")  # pragma: no cover


def history_chart(history: SignatureHistory, *, plot_height: int = 160) -> HistoryChart | None:
    """The running total as a line over time, or None when nothing was ever counted."""
    buckets = history.buckets
    if not buckets:
        return None
    start = buckets[0].start
    span = (buckets[-1].start + history.step - start).total_seconds()
    top, step = nice_ceiling(max(max(bucket.total for bucket in buckets), 0))

    def x(moment: datetime) -> float:
        return PLOT * (moment - start).total_seconds() / span

    def y(value: int) -> float:
        return PLOT - PLOT * max(value, 0) / top

    # The total at each bucket's end; it stood at zero when the first bucket began.
    points = [(0.0, float(PLOT))]
    points += [(x(bucket.start + history.step), y(bucket.total)) for bucket in buckets]
    line = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
    area = f"{line} {points[-1][0]:.1f},{PLOT} 0,{PLOT}"
    y_ticks = [
        YTick(value, _attr(plot_height * (1 - value / top)), _attr(plot_height * (1 - value / top) - 5))
        for value in range(0, top + 1, step)
    ]
    return HistoryChart(
        history=history,
        line=line,
        area=area,
        y_ticks=y_ticks,
        x_ticks=_x_ticks(buckets, history.step, start, span),
        plot_height=plot_height,
        first=buckets[0],
        last=buckets[-1],
        busiest=max(buckets, key=lambda bucket: bucket.gained),
    )


def _x_ticks(buckets: list[HistoryBucket], step: timedelta, start: datetime, span: float) -> list[XTick]:
    """Labels at bucket boundaries, evenly spread, the first at the start, the last at the end."""
    edges = [bucket.start for bucket in buckets] + [buckets[-1].start + step]
    count = min(X_LABELS, len(edges))
    chosen = sorted({round(i * (len(edges) - 1) / max(count - 1, 1)) for i in range(count)})
    ticks: list[XTick] = []
    previous_day = None
    for n, index in enumerate(chosen):
        moment = edges[index]
        anchor = "start" if n == 0 else "end" if n == len(chosen) - 1 else "middle"
        day = timezone.localtime(moment).date()
        x = _attr(100 * (moment - start).total_seconds() / span) + "%"
        ticks.append(XTick(moment, x, anchor, day != previous_day))
        previous_day = day
    return ticks


@dataclass(frozen=True)
class RegionBar:
    figure: RegionFigure
    width: str  # "NN.NN%" of the drawing's width
    label_y: int  # the region's name, above its bar
    bar_y: int
    figure_y: int  # the figure, to the right of the bar


@dataclass(frozen=True)
class RegionChart:
    bars: list[RegionBar]
    height: int
    shown: int  # regions with a published, non-zero figure
    suppressed: int  # regions whose figure is not published

    @property
    def truncated(self) -> bool:
        return self.shown > len(self.bars)


def region_chart(breakdown: Breakdown, *, row_height: int = 46) -> RegionChart | None:
    """Bars for the largest published figures of the latest snapshot, or None before the
    first snapshot or when every figure is suppressed. Suppressed regions get no bar (not even
    an empty one): the chart shows only what the table shows as a number."""
    if breakdown.taken_at is None:
        return None
    published = [f for f in breakdown.regions if f.signature_count]  # the breakdown sorts largest first
    suppressed = sum(1 for f in breakdown.regions if f.suppressed)
    if not published:
        return None
    largest = max(f.signature_count or 0 for f in published)
    bars = []
    for n, figure in enumerate(published[:REGION_BARS]):
        width = _attr(BAR_SHARE * (figure.signature_count or 0) / largest) + "%"
        top = n * row_height
        bars.append(RegionBar(figure, width, label_y=top + 15, bar_y=top + 22, figure_y=top + 35))
    return RegionChart(bars=bars, height=len(bars) * row_height, shown=len(published), suppressed=suppressed)
