"""Timing helper shared by the benchmark scripts."""

from __future__ import annotations

import random
import statistics
import time


def interleaved_medians(calls, runs: int, warmup: int = 1) -> list[float]:
    """Median seconds of each call, alternating them so that background load falls on all alike.

    Each round draws a fresh random order. Rotating a fixed order is not enough: it keeps each call's
    neighbours, so one call would still run right after a curl subprocess (which leaves caches cold) in
    most rounds.
    """
    for _ in range(warmup):
        for call in calls:
            call()
    samples = [[] for _ in calls]
    pairs = list(zip(calls, samples, strict=True))
    for _ in range(runs):
        random.shuffle(pairs)
        for call, timings in pairs:
            started = time.perf_counter()
            call()
            timings.append(time.perf_counter() - started)
    return [statistics.median(timings) for timings in samples]
