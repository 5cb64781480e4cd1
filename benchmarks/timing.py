"""Timing helper shared by the benchmark scripts."""

from __future__ import annotations

import statistics
import time


def interleaved_medians(calls, runs: int, warmup: int = 1) -> list[float]:
    """Median seconds of each call, alternating them so that background load falls on all alike.

    The order rotates every round, so no call always runs right after the same neighbour (a curl
    subprocess, say, leaves caches cold for whatever runs next).
    """
    for _ in range(warmup):
        for call in calls:
            call()
    samples = [[] for _ in calls]
    for round_number in range(runs):
        shift = round_number % len(calls)
        for call, timings in list(zip(calls, samples))[shift:] + list(zip(calls, samples))[:shift]:
            started = time.perf_counter()
            call()
            timings.append(time.perf_counter() - started)
    return [statistics.median(timings) for timings in samples]
