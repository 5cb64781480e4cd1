"""Timing helper shared by the benchmark scripts."""

from __future__ import annotations

import statistics
import time


def interleaved_medians(calls, runs: int, warmup: int = 1) -> list[float]:
    """Median seconds of each call, alternating them so that background load falls on all alike."""
    for _ in range(warmup):
        for call in calls:
            call()
    samples = [[] for _ in calls]
    for _ in range(runs):
        for call, timings in zip(calls, samples):
            started = time.perf_counter()
            call()
            timings.append(time.perf_counter() - started)
    return [statistics.median(timings) for timings in samples]
