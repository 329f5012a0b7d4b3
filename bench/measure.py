"""Timing and memory of one call, shared by the benchmarks (each runs as ``python bench/<name>.py``)."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable


def best_time(fn: Callable, args: tuple, repeat: int) -> float:
    """The fastest of ``repeat`` runs: the least disturbed by the rest of the machine."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


def python_peak(fn: Callable, args: tuple) -> int:
    """Peak bytes Python allocated during one run (tracemalloc)."""
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
