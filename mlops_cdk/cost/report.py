"""The estimate's result: line items per stage and resource, totals, and the table ``make cost`` prints."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence

INSTANCE_HOURS = "instance-hours"
GB_SECONDS = "GB-seconds"
_UNIT_LABELS = {INSTANCE_HOURS: "inst-h", GB_SECONDS: "GB-s"}


@dataclasses.dataclass(frozen=True)
class LineItem:
    """What one resource of one stage uses in a month, at the low and the high end, and what that costs.

    ``unit`` is ``instance-hours`` (SageMaker instances) or ``GB-seconds`` (Lambda, serverless
    inference: memory x duration); ``requests_*`` are Lambda invocations. ``usage`` says which
    price applies: ``hosting``, ``training``, ``processing``, ``lambda`` or ``serverless_inference``.
    ``usd_*`` is ``None`` for a line the price book cannot price (see ``note``).
    """

    stage: str
    resource: str
    usage: str
    instance_type: str
    unit: str
    quantity_min: float
    quantity_max: float
    note: str = ""
    requests_min: float = 0.0
    requests_max: float = 0.0
    usd_min: float | None = None
    usd_max: float | None = None

    @property
    def priced(self) -> bool:
        return self.usd_min is not None and self.usd_max is not None


@dataclasses.dataclass(frozen=True)
class CostEstimate:
    """Line items of one or more stages in one region, priced from one price book."""

    region: str
    source: str
    as_of: datetime.date
    lines: tuple[LineItem, ...]
    notes: tuple[str, ...] = ()

    @property
    def stages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(line.stage for line in self.lines))

    @property
    def unpriced(self) -> tuple[LineItem, ...]:
        return tuple(line for line in self.lines if not line.priced)

    def total(self, stage: str | None = None) -> tuple[float, float]:
        """(min, max) USD per month of ``stage`` (all stages: ``None``); unpriced lines count 0."""
        lines = [line for line in self.lines if stage is None or line.stage == stage]
        return (sum(line.usd_min or 0.0 for line in lines), sum(line.usd_max or 0.0 for line in lines))

    def table(self, *, markdown: bool = False) -> str:
        """A table per stage and resource: instance type, quantity and USD per month at min and max, notes."""
        return render(self, markdown=markdown)


def render(estimate: CostEstimate, *, markdown: bool = False) -> str:
    notes: dict[str, int] = {}
    header = ["stage", "resource", "instance type", "unit", "min / month", "min USD", "max / month", "max USD", "notes"]
    rows: list[list[str]] = []
    for stage in estimate.stages:
        for line in (li for li in estimate.lines if li.stage == stage):
            mark = f"[{notes.setdefault(line.note, len(notes) + 1)}]" if line.note else ""
            rows.append([stage, line.resource, line.instance_type, _UNIT_LABELS.get(line.unit, line.unit),
                         _quantity(line.unit, line.quantity_min), _usd(line.usd_min),
                         _quantity(line.unit, line.quantity_max), _usd(line.usd_max), mark])
        low, high = estimate.total(stage)
        rows.append([stage, "total", "", "", "", _usd(low), "", _usd(high), ""])
    if len(estimate.stages) > 1:
        low, high = estimate.total()
        rows.append(["all", "total", "", "", "", _usd(low), "", _usd(high), ""])
    unpriced = len(estimate.unpriced)
    title = (f"Monthly cost estimate, {estimate.region}: USD, a month is 730 hours; prices: {estimate.source} "
             f"(as of {estimate.as_of.isoformat()})")
    lines = [title, "", *_grid(header, rows, markdown), ""]
    if unpriced:
        lines.append(f"Totals leave out {unpriced} unpriced line(s): they are lower bounds.")
    bullet = "- " if markdown else ""  # one paragraph per note in Markdown
    lines += [f"{bullet}[{number}] {text}" for text, number in notes.items()]
    lines += [f"- {note}" for note in estimate.notes]
    return "\n".join(lines).rstrip() + "\n"


def _grid(header: list[str], rows: Sequence[list[str]], markdown: bool) -> list[str]:
    numeric = {4, 5, 6, 7}
    if markdown:
        rule = ["---:" if i in numeric else "---" for i in range(len(header))]
        return ["| " + " | ".join(r) + " |" for r in (header, rule, *rows)]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return [line(header).rstrip(), line(["-" * w for w in widths]).rstrip(), *(line(r).rstrip() for r in rows)]


def _quantity(unit: str, value: float) -> str:
    return f"{value:,.0f}" if unit == GB_SECONDS else f"{value:,.1f}"


def _usd(value: float | None) -> str:
    return "unpriced" if value is None else f"{value:,.2f}"


__all__ = ["GB_SECONDS", "INSTANCE_HOURS", "CostEstimate", "LineItem", "render"]
