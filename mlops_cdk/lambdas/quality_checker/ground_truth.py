"""Ground-truth labels in SageMaker Model Monitor's format: one JSON object per line.

::

    {"groundTruthData": {"data": "1", "encoding": "CSV"},
     "eventMetadata": {"eventId": "<the capture's inferenceId, or its eventId>"},
     "eventVersion": "0"}

uploaded under ``<GROUND_TRUTH_PREFIX>/yyyy/mm/dd/hh/`` (the hour the label was collected).
``eventMetadata.inferenceId`` is accepted in place of ``eventId``. ``data`` holds the label; for
a request that carried k records, k labels in record order: CSV lines (or one CSV line of k
fields), or with ``"encoding": "JSON"`` a JSON list. Labels are read by problem type: 0 or 1
(binary classification), any class (multiclass, compared as canonical strings), a number
(regression). A line that cannot be read is skipped and counted under one of
``MALFORMED_REASONS``; nothing here raises.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from typing import Any

from capture_records import Malformed, event_id, json_object
from quality_config import BIAS_DRIFT, BINARY, MULTICLASS, Config
from record_values import canonical, number

MALFORMED_REASONS = (
    "invalid_json",  # the line is not a JSON object
    "no_event_id",  # no eventMetadata.eventId (or inferenceId)
    "no_label",  # no groundTruthData.data
    "unsupported_encoding",  # an encoding other than CSV or JSON
    "undecodable_label",  # JSON label data that does not parse, or is not a value or a list of values
    "label_value",  # not 0/1 (binary), missing (multiclass), not a number (regression)
    "label_count",  # k labels for a request of another number of records (found when joining)
)
_BINARY = {"0": 0, "1": 1}


class LabelReader:
    """Turns ground-truth lines into (event id, one row per label); counts what it skips."""

    def __init__(self, config: Config) -> None:
        self.problem_type = config.problem_type
        self.facets = config.facets if config.check == BIAS_DRIFT else ()
        self.lines_read = 0
        self.malformed: dict[str, int] = dict.fromkeys(MALFORMED_REASONS, 0)

    @property
    def malformed_lines(self) -> int:
        return sum(self.malformed.values())

    def add_lines(self, lines: Iterable[bytes | str], sink: Callable[[str, list[tuple]], None]) -> None:
        for line in lines:
            if not line or line.isspace():
                continue
            self.lines_read += 1
            try:
                sink(*self.parse(line))
            except Malformed as skipped:
                self.malformed[skipped.reason] += 1

    def parse(self, line: bytes | str) -> tuple[str, list[tuple]]:
        doc = json_object(line)
        key = event_id(doc.get("eventMetadata"), "eventId", "inferenceId")
        part = doc.get("groundTruthData")
        data = part.get("data") if isinstance(part, dict) else None
        if data is None or (isinstance(data, str) and not data.strip()):
            raise Malformed("no_label")
        encoding = part.get("encoding") or "CSV"
        if encoding == "CSV":
            raw = _csv_labels(data)
        elif encoding == "JSON":
            raw = _json_labels(data)
        else:
            raise Malformed("unsupported_encoding")
        try:
            labels = [self._label(value) for value in raw]
            if not self.facets:
                return key, [(label,) for label in labels]
            return key, [tuple(spec.outcome.positive(label) for spec in self.facets) for label in labels]
        except (KeyError, ValueError):
            raise Malformed("label_value") from None

    def _label(self, value: Any) -> Any:
        if self.problem_type == BINARY:
            return _BINARY[canonical(value)]
        if self.problem_type == MULTICLASS:
            text = canonical(value)
            if text is None:
                raise ValueError("missing class")
            return text
        return number(value)


def _csv_labels(data: Any) -> list[Any]:
    if not isinstance(data, str):
        return [data] if not isinstance(data, (list, dict)) else _json_labels(data)
    if '"' in data:
        lines = [fields for fields in csv.reader(data.splitlines()) if fields]
    else:
        lines = [line.split(",") for line in data.splitlines() if line and not line.isspace()]
    if len(lines) == 1:
        return lines[0]  # one label, or k labels on one line
    if any(len(fields) != 1 for fields in lines):
        raise Malformed("label_value")  # one label per line when there are several lines
    return [fields[0] for fields in lines]


def _json_labels(data: Any) -> list[Any]:
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            raise Malformed("undecodable_label") from None
    values = data if isinstance(data, list) else [data]
    if not values or any(isinstance(v, (list, dict)) for v in values):
        raise Malformed("undecodable_label")
    return values
