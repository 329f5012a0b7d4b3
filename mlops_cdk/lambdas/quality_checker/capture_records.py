"""Captured predictions: one SageMaker data-capture line in, the event's id and one row per record out.

A capture line (JSON Lines, ``<prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl``)::

    {"captureData": {"endpointInput":  {"observedContentType": "text/csv", "mode": "INPUT",
                                        "data": "1.0,40,a", "encoding": "CSV"},
                     "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                        "data": "0.93", "encoding": "CSV"}},
     "eventMetadata": {"eventId": "<uuid>", "inferenceId": "<caller's id, optional>",
                       "inferenceTime": "2024-05-01T10:00:00Z"}, "eventVersion": "0"}

The event's id is ``inferenceId`` when the caller sent one, else ``eventId`` (Model Monitor's
merge rule). ``encoding`` is CSV (text), JSON (text) or BASE64 (read as JSON when
``observedContentType`` mentions json, else as CSV).

Output records: CSV lines; in JSON, the items of a top-level list or of a ``predictions`` /
``outputs`` / ``results`` / ``scores`` / ``probabilities`` list, else the whole document. A single
CSV line (or flat JSON list) of m > 1 values is m one-value records when the request carried m
records, one record of m columns when it carried one (unknown request: one record).
Input records (bias_drift: the facets' values): CSV lines with ``FEATURE_NAMES`` columns, or JSON
as the drift checker reads it: a list of values, a list of lists / objects (by feature name),
wrapped or not in ``instances`` / ``inputs`` / ``data`` / ``features``.

A line whose prediction cannot be read is skipped whole and counted under one of
``MALFORMED_REASONS``; nothing here raises.
"""

from __future__ import annotations

import base64
import binascii
import csv
import json
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

from quality_config import BIAS_DRIFT, BINARY, MULTICLASS, Config
from record_values import canonical, first_value, number

MALFORMED_REASONS = (
    "invalid_json",  # the line is not a JSON object
    "no_event_id",  # neither eventMetadata.inferenceId nor eventMetadata.eventId
    "no_output",  # no captureData.endpointOutput.data (input-only capture)
    "no_input",  # bias_drift: no captureData.endpointInput.data
    "unsupported_encoding",  # an encoding other than CSV, JSON, BASE64
    "undecodable_payload",  # bad base64 or UTF-8, or a JSON payload that does not parse
    "unsupported_payload",  # a payload of no shape listed above, or empty
    "record_count",  # outputs, attributes and inputs disagree on how many records the request had
    "attribute_not_found",  # INFERENCE_ATTRIBUTE / PROBABILITY_ATTRIBUTE (or column 0) missing from a record
    "prediction_value",  # not a number (score, regression), not 0/1 (binary label), no class (multiclass)
    "column_count",  # bias_drift: an input record whose number of values differs from FEATURE_NAMES
)
_OUTPUT_WRAPPERS = ("predictions", "outputs", "results", "scores", "probabilities")
_INPUT_WRAPPERS = ("instances", "inputs", "data", "features")
_BINARY_LABELS = {"0": 0, "1": 1}


class Malformed(Exception):
    """A line to skip, and why (one of MALFORMED_REASONS or the ground-truth reasons)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def json_object(line: bytes | str) -> dict:
    """One JSON Lines line that must be an object (capture and ground-truth lines both are)."""
    try:
        doc = json.loads(line)
    except ValueError:
        raise Malformed("invalid_json") from None
    if not isinstance(doc, dict):
        raise Malformed("invalid_json")
    return doc


def parse_inference_time(value: Any) -> datetime:
    """``eventMetadata.inferenceTime`` (ISO 8601, "Z" allowed) as an aware UTC datetime; ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError(f"inferenceTime must be a string, got {value!r}")
    when = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when


def event_id(metadata: Any, *keys: str) -> str:
    """The first non-empty id among ``keys`` of ``metadata`` (strings, or integers spelled as such)."""
    if isinstance(metadata, dict):
        for key in keys:
            value = metadata.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
            if isinstance(value, int) and not isinstance(value, bool):
                return str(value)
    raise Malformed("no_event_id")


def decode(part: Any, missing: str) -> tuple[str, Any]:
    """("csv", rows of fields) or ("json", document) of a captureData part; Malformed otherwise."""
    data = part.get("data") if isinstance(part, dict) else None
    if not isinstance(data, str):
        raise Malformed(missing)
    encoding = part.get("encoding") or "CSV"
    if encoding == "CSV":
        return "csv", csv_rows(data)
    if encoding == "JSON":
        return "json", json_document(data)
    if encoding != "BASE64":
        raise Malformed("unsupported_encoding")
    try:
        text = base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise Malformed("undecodable_payload") from None
    if "json" in str(part.get("observedContentType") or "").lower():
        return "json", json_document(text)
    return "csv", csv_rows(text)


def csv_rows(text: str) -> list[list[str]]:
    if "\n" not in text and "," not in text and '"' not in text:  # one value: the usual response
        rows = [[text]] if text.strip() else []
    elif '"' in text:
        rows = [fields for fields in csv.reader(text.splitlines()) if fields]
    else:
        rows = [line.split(",") for line in text.splitlines() if line and not line.isspace()]
    if not rows:
        raise Malformed("unsupported_payload")
    return rows


def json_document(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        try:  # JSON Lines: one document per line
            return [json.loads(part) for part in text.splitlines() if part.strip()]
        except ValueError:
            raise Malformed("undecodable_payload") from None


def _scalar(value: Any) -> bool:
    return not isinstance(value, (list, dict))


class CaptureReader:
    """Turns capture lines into (event id, rows); counts what it skips. Holds nothing per line."""

    def __init__(self, config: Config) -> None:
        self.problem_type = config.problem_type
        self.threshold = config.probability_threshold
        self.inference = config.inference_attribute
        self.probability = config.probability_attribute
        self.facets = config.facets if config.check == BIAS_DRIFT else ()
        self.feature_names = config.feature_names
        self.lines_read = 0
        self.events_outside_window = 0
        self.malformed: dict[str, int] = dict.fromkeys(MALFORMED_REASONS, 0)

    @property
    def malformed_lines(self) -> int:
        return sum(self.malformed.values())

    def add_lines(self, lines: Iterable[bytes | str], sink: Callable[[str, list[tuple]], None], *,
                  not_before: datetime | None = None, not_after: datetime | None = None) -> None:
        """Parse every line and hand each event to ``sink(event_id, rows)``; with bounds, skip events whose
        ``inferenceTime`` is outside ``[not_before, not_after)`` (events without a readable time are kept)."""
        for line in lines:
            if not line or line.isspace():
                continue
            self.lines_read += 1
            try:
                parsed = self.parse(line, not_before, not_after)
            except Malformed as skipped:
                self.malformed[skipped.reason] += 1
                continue
            if parsed is not None:
                sink(*parsed)

    def parse(self, line: bytes | str, not_before: datetime | None, not_after: datetime | None
              ) -> tuple[str, list[tuple]] | None:
        doc = json_object(line)
        metadata = doc.get("eventMetadata")
        if (not_before is not None or not_after is not None) and not self._in_window(metadata, not_before, not_after):
            self.events_outside_window += 1
            return None
        key = event_id(metadata, "inferenceId", "eventId")
        capture = doc.get("captureData")
        if not isinstance(capture, dict):
            raise Malformed("no_output")
        kind, output = decode(capture.get("endpointOutput"), "no_output")
        inputs: list[Any] | None = None
        if self.facets:
            inputs = self._input_records(capture.get("endpointInput"))
            count: Callable[[], int | None] = lambda: len(inputs)  # noqa: E731
        else:
            count = lambda: self._input_count(capture.get("endpointInput"))  # noqa: E731
        predictions = self._predictions(kind, output, count)
        if not self.facets:
            return key, predictions
        if len(predictions) != len(inputs):
            raise Malformed("record_count")
        return key, [self._bias_row(pred, record) for (pred, _), record in zip(predictions, inputs)]

    @staticmethod
    def _in_window(metadata: Any, not_before: datetime | None, not_after: datetime | None) -> bool:
        try:
            when = parse_inference_time(metadata["inferenceTime"])
        except (KeyError, TypeError, ValueError):
            return True  # no readable time: its hour prefix placed it in the window
        return (not_before is None or when >= not_before) and (not_after is None or when < not_after)

    # ------------------------------------------------------------------ predictions

    def _predictions(self, kind: str, output: Any, count: Callable[[], int | None]) -> list[tuple[Any, float | None]]:
        """(prediction, score or None) per output record."""
        records: list[Any] | None = None

        def column(path) -> list[Any]:
            nonlocal records
            try:
                if path is not None and path.absolute:
                    return path.values(output)
                if records is None:
                    records = _output_records(kind, output, count)
                return [first_value(r) if path is None else path.get(r) for r in records]
            except LookupError:
                raise Malformed("attribute_not_found") from None

        try:
            if self.problem_type == BINARY:
                if self.inference is not None:
                    labels = [_BINARY_LABELS[canonical(v)] for v in column(self.inference)]
                    if self.probability is None:
                        return [(label, None) for label in labels]
                    scores = [number(v) for v in column(self.probability)]
                    if len(scores) != len(labels):
                        raise Malformed("record_count")
                    return list(zip(labels, scores))
                scores = [number(v) for v in column(self.probability)]
                return [(int(score >= self.threshold), score) for score in scores]
            if self.problem_type == MULTICLASS:
                classes = [canonical(v) for v in column(self.inference)]
                if None in classes:
                    raise Malformed("prediction_value")
                return [(c, None) for c in classes]
            return [(number(v), None) for v in column(self.inference)]
        except (KeyError, ValueError, TypeError):
            raise Malformed("prediction_value") from None

    # ------------------------------------------------------------------ inputs

    def _input_count(self, part: Any) -> int | None:
        """How many records the request carried (None: unreadable; only asked when the output is ambiguous)."""
        try:
            return len(self._input_records(part))
        except Malformed:
            return None

    def _input_records(self, part: Any) -> list[Any]:
        kind, payload = decode(part, "no_input")
        records = payload if kind == "csv" else self._json_inputs(payload, 0)
        if not records:
            raise Malformed("unsupported_payload")
        return records

    def _json_inputs(self, obj: Any, depth: int) -> list[Any]:
        if depth > 4:
            raise Malformed("unsupported_payload")
        if isinstance(obj, dict):
            if any(name in obj for name in self.feature_names):
                return [obj]
            for key in _INPUT_WRAPPERS:
                if key in obj:
                    return self._json_inputs(obj[key], depth + 1)
            raise Malformed("unsupported_payload")
        if not isinstance(obj, list):
            raise Malformed("unsupported_payload")
        if all(_scalar(v) for v in obj):
            return [obj] if obj else []
        records: list[Any] = []
        for item in obj:
            if _scalar(item):
                raise Malformed("unsupported_payload")
            records.extend(self._json_inputs(item, depth + 1))
        return records

    def _bias_row(self, prediction: Any, record: Any) -> tuple:
        """(group d/a/None, predicted positive) per facet, in BIAS_FACETS order."""
        if isinstance(record, dict):
            values = [record.get(spec.facet) for spec in self.facets]
        elif len(record) != len(self.feature_names):
            raise Malformed("column_count")
        else:
            values = [record[spec.index] for spec in self.facets]
        row: list[int | None] = []
        try:
            for spec, value in zip(self.facets, values):
                row.append(spec.group.group(value))
                row.append(spec.outcome.positive(prediction))
        except ValueError:
            raise Malformed("prediction_value") from None
        return tuple(row)


def _output_records(kind: str, output: Any, count: Callable[[], int | None]) -> list[Any]:
    if kind == "csv":
        if len(output) == 1 and len(output[0]) > 1:
            return _flat(output[0], count, as_rows=True)
        return output
    if isinstance(output, dict):
        wrapped = next((output[k] for k in _OUTPUT_WRAPPERS if isinstance(output.get(k), list)), None)
        if wrapped is None:
            return [output]
        output = wrapped
    if not isinstance(output, list):
        return [output]
    if not output:
        raise Malformed("unsupported_payload")
    if len(output) > 1 and all(_scalar(v) for v in output):
        return _flat(output, count, as_rows=False)
    return output


def _flat(values: list[Any], count: Callable[[], int | None], *, as_rows: bool) -> list[Any]:
    """m values on one line: m one-value records, or one record of m columns, by the request's record count."""
    records = count()
    if records == len(values):
        return [[v] for v in values] if as_rows else list(values)
    if records in (1, None):
        return [values]
    raise Malformed("record_count")
