"""The review desk bench's report: a table per phase and the last JSON line.

Latencies are nearest-rank percentiles of the client's and the server's
milliseconds; throughput and CPU use are per second of the phase.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from typing import Any

from desk_fixtures import CODERS
from desk_load import THINK_SECONDS
from desk_server import THREADS, WORKERS

KINDS = ("next", "page", "decision", "submit")


def _percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _phase_table(driven: dict[str, Any], phase: str) -> dict[str, float]:
    """Print the phase's table; return its figures."""
    times = driven["times"].get(phase, {})
    server = driven["server"].get(phase, {})
    seconds = driven["seconds"].get(phase, 0.0) or 1.0
    requests = sum(len(times.get(kind, [])) for kind in KINDS)
    reviews = driven["reviews"].get(phase, 0)
    _print_latencies(phase, seconds, times, server)
    _print_load(driven["cpu"].get(phase, {}), seconds, requests, reviews)
    return {
        "page_p95_ms": _percentile(times.get("page", []), 0.95),
        "decision_p95_ms": _percentile(times.get("decision", []), 0.95),
        "page_p50_ms": _percentile(times.get("page", []), 0.5),
        "decision_p50_ms": _percentile(times.get("decision", []), 0.5),
        "requests_per_s": requests / seconds,
        "reviews_per_s": reviews / seconds,
        "server_page_p95_ms": _percentile(server.get("page", []), 0.95),
        "server_decision_p95_ms": _percentile(server.get("decision", []), 0.95),
    }


def _print_latencies(
    phase: str, seconds: float, times: dict[str, list[float]], server: dict[str, list[float]]
) -> None:
    print(
        f"\n{phase} phase, {seconds:.0f} s"
        + (
            f" (coders think {THINK_SECONDS[0]}-{THINK_SECONDS[1]} s between actions)"
            if phase == "paced"
            else " (no think time)"
        )
    )
    print(
        f"{'request':<10}{'count':>7}{'client p50':>12}{'client p95':>12}"
        f"{'server p50':>12}{'server p95':>12}   (ms)"
    )
    for kind in KINDS:
        mine, theirs = times.get(kind, []), server.get(kind, [])
        print(
            f"{kind:<10}{len(mine):>7}{_percentile(mine, 0.5):>12.1f}"
            f"{_percentile(mine, 0.95):>12.1f}{_percentile(theirs, 0.5):>12.1f}"
            f"{_percentile(theirs, 0.95):>12.1f}"
        )


def _print_load(cpu: dict[str, float], seconds: float, requests: int, reviews: int) -> None:
    cores = os.cpu_count() or 1
    per_request = cpu.get("server", 0) / max(1, requests) * 1000
    print(
        f"throughput {requests / seconds:.1f} requests/s, {reviews / seconds:.2f} reviews/s; "
        f"server CPU {per_request:.1f} ms per request"
    )
    print(
        f"CPU use of {cores} cores: server {cpu.get('server', 0) / seconds:.0%}"
        f" of a core, client {cpu.get('client', 0) / seconds:.0%},"
        f" PostgreSQL {cpu.get('database', 0) / seconds:.0%},"
        f" other processes {cpu.get('others', 0) / seconds:.0%};"
        f" machine busy {cpu.get('machine', 0) / seconds / cores:.0%}"
    )
    if cpu.get("others", 0) / seconds > 0.25:
        print(
            f"warning: other processes took {cpu['others'] / seconds:.0%} of a core in this "
            "phase; these figures are not the desk's alone"
        )


def report(driven: dict[str, Any], queries: dict[str, int], options: argparse.Namespace) -> None:
    """Print the run's tables and, as the last line, its figures as JSON."""
    print(
        f"Review desk: {CODERS} simulated coders (locust {driven['locust']} FastHttpUser), "
        f"gunicorn {WORKERS} workers x {THREADS} threads, {options.notes} notes; "
        f"client, server and PostgreSQL share {os.cpu_count()} CPU cores."
    )
    warm = driven["server"].get("warm", {})
    slowest = max((max(times) for times in warm.values() if times), default=0.0)
    print(
        f"warm-up {driven['seconds'].get('warm', 0):.0f} s, not counted; its slowest request "
        f"took {slowest / 1000:.1f} s on the server (a worker's first request reads the "
        "code hierarchy)"
    )
    paced = _phase_table(driven, "paced")
    saturated = _phase_table(driven, "saturated")
    print(
        f"\nSQL queries per review page: {queries['queries_3']} with 3 suggestions, "
        f"{queries['queries_12']} with 12; per decision: {queries['decision_queries_3']} "
        f"and {queries['decision_queries_12']}"
        + (
            " (constant)."
            if queries["queries_3"] == queries["queries_12"]
            else " (NOT constant: the page's queries grow with its suggestions)."
        )
    )
    failures = driven["failures"]
    print(f"failed requests: {len(failures)}" + "".join(f"\n  {f}" for f in failures[:5]))
    if driven["dry"]:
        print("the queue ran dry before the end: figures cover a shorter run")
    figures: dict[str, Any] = {key: round(value, 2) for key, value in paced.items()}
    figures |= {"coders": CODERS, **queries}
    figures |= {f"saturated_{key}": round(value, 2) for key, value in saturated.items()}
    figures["failures"] = len(failures)
    figures["cold_request_s"] = round(slowest / 1000, 2)
    print(json.dumps(figures))
