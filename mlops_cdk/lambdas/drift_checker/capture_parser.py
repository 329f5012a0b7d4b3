"""Streaming parser for SageMaker endpoint data-capture files (pure Python).

SageMaker writes one JSON document per line (JSON Lines) to
``s3://<bucket>/<prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/<uuid>.jsonl``::

    {"captureData": {
        "endpointInput":  {"observedContentType": "text/csv", "mode": "INPUT",
                           "data": "1.0,2.0,a", "encoding": "CSV"},
        "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                           "data": "0.93", "encoding": "CSV"}},
     "eventMetadata": {"eventId": "<uuid>", "inferenceTime": "2024-05-01T10:00:00Z"},
     "eventVersion": "0"}

Only ``endpointInput`` is analyzed. ``encoding`` is how SageMaker stored the
request body:

- ``CSV``: the body as text; one record per line (a request may carry several
  records separated by newlines); columns in ``FEATURE_NAMES`` order. Quoted
  fields are honoured (``csv`` module) when the payload contains a quote.
- ``JSON``: the body as text, parsed as JSON (or JSON Lines). Understood shapes:
  a list of values (one record), a list of lists / objects (several records),
  an object with every feature name as a key (one record, by name), and the
  wrappers ``{"instances": ...}``, ``{"inputs": ...}``, ``{"data": ...}``,
  ``{"features": [...]}`` around any of these.
- ``BASE64``: the body base64-encoded (content types SageMaker was not told
  are CSV or JSON); it is decoded as UTF-8 and then read as JSON when
  ``observedContentType`` contains "json", as CSV otherwise.

A record is analyzed only when every monitored feature parses (numeric:
``float()`` of the value, NaN rejected; categorical: the value as a string), so
all features see the same records. Anything else is counted, by reason, in
``malformed`` and skipped; it is never fatal. A line that is not valid JSON
counts as one malformed record. Blank lines are ignored.

Nothing is held per record: the analyzer keeps one histogram per feature
(``drift_stats``), so memory does not grow with the number of lines.
"""

from __future__ import annotations

import base64
import binascii
import csv
import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from drift_baseline import Baseline, CategoricalBaseline  # this folder is the deployment root
from drift_stats import CategoricalHistogram, EmptyHistogramError, FeatureDrift, NumericHistogram
from drift_stats import categorical_drift, numeric_drift

MALFORMED_REASONS = (
    "invalid_json",  # the capture line is not a JSON object
    "no_input",  # no captureData.endpointInput.data (e.g. output-only capture)
    "unsupported_encoding",  # encoding other than CSV / JSON / BASE64
    "undecodable_payload",  # bad base64 / UTF-8, or a JSON payload that does not parse
    "unsupported_payload",  # JSON payload of a shape listed nowhere above, or empty
    "column_count",  # a record whose number of values differs from FEATURE_NAMES
    "non_numeric",  # a numeric feature whose value is not a number (or NaN)
)

_JSON_WRAPPERS = ("instances", "inputs", "data", "features")


class FeatureMappingError(ValueError):
    """FEATURE_NAMES and the baseline's features do not fit together."""


class CaptureAnalyzer:
    """Accumulates per-feature histograms from capture lines, one line at a time."""

    def __init__(self, feature_names: Sequence[str], baseline: Baseline) -> None:
        feature_names = list(feature_names)
        if not feature_names:
            raise FeatureMappingError("FEATURE_NAMES is empty: list the CSV columns of the captured input, in order")
        dupes = sorted({n for n in feature_names if feature_names.count(n) > 1})
        if dupes:
            raise FeatureMappingError(f"FEATURE_NAMES has duplicate column(s) {dupes}")
        unknown = [f for f in baseline.features if f not in feature_names and f != baseline.label]
        if unknown:
            raise FeatureMappingError(
                f"baseline feature(s) {unknown} are not in FEATURE_NAMES {feature_names}: "
                "the captured input columns and the baseline disagree"
            )
        self.feature_names = feature_names
        self.baseline = baseline
        self.monitored = [f for f in feature_names if f in baseline.features]
        if not self.monitored:
            raise FeatureMappingError(f"none of FEATURE_NAMES {feature_names} has a baseline histogram")
        self.unmonitored = [f for f in feature_names if f not in baseline.features]
        self.histograms: dict[str, NumericHistogram | CategoricalHistogram] = {}
        self._num: list[tuple[int, Any]] = []  # (column index, histogram.add)
        self._cat: list[tuple[int, Any]] = []
        for name in self.monitored:
            spec = baseline.features[name]
            index = feature_names.index(name)
            if isinstance(spec, CategoricalBaseline):
                hist = CategoricalHistogram(list(spec.categories))
                self._cat.append((index, hist.add))
            else:
                hist = NumericHistogram(spec.bin_edges)
                self._num.append((index, hist.add))
            self.histograms[name] = hist
        self._ncols = len(feature_names)
        self.lines_read = 0
        self.records_analyzed = 0
        self.events_outside_window = 0
        self.malformed: dict[str, int] = dict.fromkeys(MALFORMED_REASONS, 0)

    # ----------------------------------------------------------------- counts

    @property
    def malformed_records(self) -> int:
        return sum(self.malformed.values())

    def counts(self) -> dict[str, Any]:
        return {
            "lines_read": self.lines_read,
            "records_analyzed": self.records_analyzed,
            "malformed_records": self.malformed_records,
            "malformed_by_reason": {k: v for k, v in self.malformed.items() if v},
            "events_outside_window": self.events_outside_window,
        }

    # ----------------------------------------------------------------- input

    def add_lines(
        self,
        lines: Iterable[bytes | str],
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> None:
        """Analyze capture lines; with ``not_before``/``not_after``, skip events whose
        ``inferenceTime`` is outside ``[not_before, not_after)`` (events without a
        readable time are kept)."""
        add = self.add_line
        if not_before is None and not_after is None:
            for line in lines:
                add(line)
        else:
            for line in lines:
                add(line, not_before=not_before, not_after=not_after)

    def add_line(
        self, line: bytes | str, *, not_before: datetime | None = None, not_after: datetime | None = None
    ) -> None:
        if not line or line.isspace():
            return
        self.lines_read += 1
        try:
            doc = json.loads(line)
            endpoint_input = doc["captureData"]["endpointInput"]
        except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            self.malformed["invalid_json"] += 1
            return
        except (KeyError, TypeError):
            if isinstance(doc, dict):
                self.malformed["no_input"] += 1
            else:
                self.malformed["invalid_json"] += 1
            return
        if (not_before is not None or not_after is not None) and not self._in_window(doc, not_before, not_after):
            self.events_outside_window += 1
            return
        try:
            data = endpoint_input["data"]
        except (KeyError, TypeError):
            self.malformed["no_input"] += 1
            return
        if not isinstance(data, str):
            self.malformed["no_input"] += 1
            return
        encoding = endpoint_input.get("encoding") or "CSV"
        if encoding == "CSV":
            self._add_csv(data)
        elif encoding == "JSON":
            self._add_json(data)
        elif encoding == "BASE64":
            try:
                text = base64.b64decode(data, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                self.malformed["undecodable_payload"] += 1
                return
            content_type = endpoint_input.get("observedContentType") or ""
            if "json" in str(content_type).lower():
                self._add_json(text)
            else:
                self._add_csv(text)
        else:
            self.malformed["unsupported_encoding"] += 1

    @staticmethod
    def _in_window(doc: dict, not_before: datetime | None, not_after: datetime | None) -> bool:
        try:
            when = parse_inference_time(doc["eventMetadata"]["inferenceTime"])
        except (KeyError, TypeError, ValueError):
            return True  # no readable time: the hour prefix already placed it in the window
        if not_before is not None and when < not_before:
            return False
        return not_after is None or when < not_after

    # ----------------------------------------------------------------- payloads

    def _add_csv(self, text: str) -> None:
        rows = 0
        if '"' in text:
            for fields in csv.reader(text.splitlines()):
                if fields:
                    rows += 1
                    self._add_row(fields)
        else:
            for row in text.splitlines():
                if row and not row.isspace():
                    rows += 1
                    self._add_row(row.split(","))
        if not rows:
            self.malformed["unsupported_payload"] += 1

    def _add_json(self, text: str) -> None:
        try:
            payload = json.loads(text)
        except ValueError:
            try:  # JSON Lines: one JSON document per line
                payload = [json.loads(part) for part in text.splitlines() if part.strip()]
            except ValueError:
                self.malformed["undecodable_payload"] += 1
                return
        rows = self._json_rows(payload, depth=0)
        if not rows:
            self.malformed["unsupported_payload"] += 1
            return
        for row in rows:
            if row is None:
                self.malformed["unsupported_payload"] += 1
            else:
                self._add_row(row)

    def _json_rows(self, obj: Any, depth: int) -> list[list[Any] | None]:
        """Records in a JSON payload; ``None`` marks a part of unknown shape."""
        if depth > 4:
            return [None]
        if isinstance(obj, dict):
            if all(name in obj for name in self.feature_names):
                return [[obj[name] for name in self.feature_names]]
            for key in _JSON_WRAPPERS:
                if key in obj:
                    return self._json_rows(obj[key], depth + 1)
            return [None]
        if isinstance(obj, list):
            if not obj:
                return []
            if all(not isinstance(v, (list, dict)) for v in obj):
                return [obj]
            rows: list[list[Any] | None] = []
            for item in obj:
                if isinstance(item, (list, dict)):
                    rows.extend(self._json_rows(item, depth + 1))
                else:
                    rows.append(None)
            return rows
        return [None]

    def _add_row(self, fields: Sequence[Any]) -> None:
        if len(fields) != self._ncols:
            self.malformed["column_count"] += 1
            return
        try:
            values = [float(fields[i]) for i, _ in self._num]
        except (TypeError, ValueError):
            self.malformed["non_numeric"] += 1
            return
        for v in values:
            if v != v:  # NaN: a missing value, not a number
                self.malformed["non_numeric"] += 1
                return
        for (_, add), v in zip(self._num, values):
            add(v)
        for i, add in self._cat:
            v = fields[i]
            add(v if isinstance(v, str) else json.dumps(v))
        self.records_analyzed += 1

    # ----------------------------------------------------------------- results

    def drift(self) -> dict[str, FeatureDrift]:
        """Per-feature drift, in FEATURE_NAMES order. Raises ``EmptyHistogramError`` when no record was valid."""
        if self.records_analyzed == 0:
            raise EmptyHistogramError("no valid records were analyzed")
        out: dict[str, FeatureDrift] = {}
        for name in self.monitored:
            spec = self.baseline.features[name]
            hist = self.histograms[name]
            if isinstance(spec, CategoricalBaseline):
                out[name] = categorical_drift(name, spec.categories, hist)
            else:
                out[name] = numeric_drift(name, spec.bin_edges, spec.proportions, hist)
        return out


def parse_inference_time(value: str) -> datetime:
    """``eventMetadata.inferenceTime`` ("2024-05-01T10:00:00Z", fractions allowed) as an aware UTC datetime."""
    if not isinstance(value, str):
        raise ValueError(f"inferenceTime must be a string, got {value!r}")
    when = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when
