"""The join of captured predictions and labels, in an SQLite file: Python holds nothing per record.

Predictions and labels arrive in any order and volume; both go to disk in batches, and the
join, the counts and every group-by run in SQLite, whose page cache is capped. Python then
streams small aggregates (confusion counts, one row per distinct score) or the joined rows
through constant-size accumulators.

Tables (one row per event line in ``*_lines``, one per record in ``*_records``)::

    pred_lines(id PRIMARY KEY, seq, n)     label_lines(id PRIMARY KEY, seq, n)
    pred_records(seq, pos, <pred cols>)    label_records(seq, pos, <label cols>)

``seq`` numbers lines in the order they were read. An id read twice keeps its last line
(``INSERT OR REPLACE``): the last label read wins, and so does the last prediction. A label
line pairs with a prediction line of the same id and the same number of records, record by
record (``pos``); ``matched`` holds those pairs, ``live`` every prediction record of a kept line.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

BATCH_LINES = 2000
BATCH_RECORDS = 5000
CACHE_KIB = 4096


class JoinStore:
    """An SQLite database in ``directory`` (the caller removes the directory)."""

    def __init__(self, directory: str, pred_columns: Sequence[str], label_columns: Sequence[str]) -> None:
        self.path = os.path.join(directory, "join.sqlite")
        self.pred_columns, self.label_columns = tuple(pred_columns), tuple(label_columns)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", f"cache_size = -{CACHE_KIB}",
                       "temp_store = FILE", "locking_mode = EXCLUSIVE"):
            self.db.execute(f"PRAGMA {pragma}")
        try:  # temporary sort files go to the same directory (deprecated pragma: best effort)
            self.db.execute(f"PRAGMA temp_store_directory = '{directory}'")
        except sqlite3.Error:
            pass
        for side, columns in (("pred", self.pred_columns), ("label", self.label_columns)):
            self.db.execute(f"CREATE TABLE {side}_lines (id TEXT PRIMARY KEY, seq INTEGER, n INTEGER) WITHOUT ROWID")
            extra = "".join(f", {c}" for c in columns)
            self.db.execute(f"CREATE TABLE {side}_records (seq INTEGER, pos INTEGER{extra}, "
                            "PRIMARY KEY (seq, pos)) WITHOUT ROWID")
        self._insert = {
            side: (f"INSERT OR REPLACE INTO {side}_lines VALUES (?, ?, ?)",
                   f"INSERT INTO {side}_records VALUES ({', '.join('?' * (2 + len(columns)))})")
            for side, columns in (("pred", self.pred_columns), ("label", self.label_columns))
        }
        self._pending: dict[str, tuple[list, list]] = {"pred": ([], []), "label": ([], [])}
        self.lines = {"pred": 0, "label": 0}
        self.finished = False

    # ------------------------------------------------------------------ loading

    def add_prediction(self, event_id: str, rows: list[tuple]) -> None:
        self._add("pred", event_id, rows)

    def add_label(self, event_id: str, rows: list[tuple]) -> None:
        self._add("label", event_id, rows)

    def _add(self, side: str, event_id: str, rows: list[tuple]) -> None:
        self.lines[side] += 1
        seq = self.lines[side]
        lines, records = self._pending[side]
        lines.append((event_id, seq, len(rows)))
        records.extend((seq, pos, *row) for pos, row in enumerate(rows))
        if len(lines) >= BATCH_LINES or len(records) >= BATCH_RECORDS:  # requests may carry many records
            self._flush(side)

    def _flush(self, side: str) -> None:
        lines, records = self._pending[side]
        if lines:
            insert_lines, insert_records = self._insert[side]
            self.db.execute("BEGIN")
            self.db.executemany(insert_lines, lines)
            self.db.executemany(insert_records, records)
            self.db.execute("COMMIT")
            lines.clear()
            records.clear()

    def finish(self) -> None:
        """Flush, then build ``matched`` (prediction + label columns of every labelled record) and ``live``."""
        self._flush("pred")
        self._flush("label")
        columns = ", ".join([*(f"p.{c}" for c in self.pred_columns), *(f"l.{c}" for c in self.label_columns)])
        self.db.execute(
            f"CREATE TABLE matched AS SELECT {columns} FROM pred_lines pl "
            "JOIN label_lines ll ON ll.id = pl.id AND ll.n = pl.n "
            "JOIN pred_records p ON p.seq = pl.seq "
            "JOIN label_records l ON l.seq = ll.seq AND l.pos = p.pos")
        self.db.execute("CREATE VIEW live AS SELECT p.* FROM pred_lines pl JOIN pred_records p ON p.seq = pl.seq")
        self.finished = True

    # ------------------------------------------------------------------ results

    def scalar(self, sql: str, *params: Any) -> Any:
        return self.db.execute(sql, params).fetchone()[0]

    def rows(self, sql: str, *params: Any) -> Iterator[tuple]:
        """The rows of a query, fetched in chunks (the cursor streams them)."""
        cursor = self.db.execute(sql, params)
        while chunk := cursor.fetchmany(1000):
            yield from chunk

    def counts(self) -> dict[str, int]:
        """What the join found (see the module docstring for the rules)."""
        predictions = self.scalar("SELECT COALESCE(SUM(n), 0) FROM pred_lines")
        labelled = self.scalar("SELECT COUNT(*) FROM matched")
        return {
            "prediction_lines": self.lines["pred"],
            "duplicate_prediction_ids": self.lines["pred"] - self.scalar("SELECT COUNT(*) FROM pred_lines"),
            "predictions": predictions,
            "label_lines": self.lines["label"],
            "duplicate_label_ids": self.lines["label"] - self.scalar("SELECT COUNT(*) FROM label_lines"),
            "labels": self.scalar("SELECT COALESCE(SUM(n), 0) FROM label_lines"),
            "labelled_records": labelled,
            "unlabelled_predictions": predictions - labelled,
            "unmatched_labels": self.scalar(
                "SELECT COALESCE(SUM(ll.n), 0) FROM label_lines ll "
                "WHERE NOT EXISTS (SELECT 1 FROM pred_lines pl WHERE pl.id = ll.id)"),
            "label_count_mismatches": self.scalar(
                "SELECT COUNT(*) FROM label_lines ll JOIN pred_lines pl ON pl.id = ll.id WHERE ll.n != pl.n"),
        }

    def size_bytes(self) -> int:
        return os.path.getsize(self.path)

    def close(self) -> None:
        self.db.close()
