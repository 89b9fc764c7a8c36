"""The agreement report: every statistic of the dashboard in one JSON-ready
dict, and the same as CSV rows (for the training app's exports too).

The report holds no timestamp of its own, only the time of the rollup
refresh it reads (``rollups_as_of``): the same refresh and filter give the
same report, byte for byte, so an export of it can be checked by its hash.
``agreement_report_now`` refreshes the rollups first, for figures as of now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from review.stats.breakdown import BreakdownQuery, breakdown
from review.stats.filters import StatsFilter, stats_filter
from review.stats.model_vs_coder import model_vs_coders
from review.stats.rollup import figures_for, latest_refresh, stats_refresh
from review.stats.sql import LEVELS

CSV_HEADER = [
    "section",
    "version_id",
    "week",
    "level",
    "group",
    "metric",
    "value",
    "ci95_low",
    "ci95_high",
    "n",
]


def agreement_report(
    *,
    model_version_id: int | None = None,
    since: dt.date | dt.datetime | str | None = None,
    until: dt.date | dt.datetime | str | None = None,
) -> dict[str, Any]:
    """The statistics of submitted reviews of ``model_version_id`` (all when
    None) submitted in ``[since, until)``. Raises StatsFilterError on a bad
    filter."""
    chosen = stats_filter(model_version_id=model_version_id, since=since, until=until)
    return report_for(chosen)


def agreement_report_now(
    *,
    model_version_id: int | None = None,
    since: dt.date | dt.datetime | str | None = None,
    until: dt.date | dt.datetime | str | None = None,
) -> dict[str, Any]:
    """``agreement_report`` with the figures as of now: the rollups it reads
    are refreshed first (seconds of work; for exports, not for pages)."""
    stats_refresh()
    return agreement_report(model_version_id=model_version_id, since=since, until=until)


def report_for(chosen: StatsFilter) -> dict[str, Any]:
    from coding_app.codes.store import active_release

    release = active_release()
    refresh = latest_refresh()
    return {
        "filter": chosen.as_dict(),
        "code_release": release.name if release else None,
        "rollups_as_of": refresh.finished_at.isoformat() if refresh else None,
        "model_vs_coders": model_vs_coders(chosen),
        "chapters": breakdown(chosen, BreakdownQuery(by="chapter", sort="group", descending=False)),
        "codes": breakdown(chosen, BreakdownQuery(by="code", limit=10_000)),
        **figures_for(chosen),
    }


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _row(
    section: str,
    metric: str,
    value: object,
    *,
    version: object = None,
    week: object = None,
    level: str = "",
    group: str = "",
    ci: list[float | None] | None = None,
    n: object = None,
) -> list[str]:
    low, high = ci if ci else (None, None)
    return [
        section,
        _text(version),
        _text(week),
        level,
        group,
        metric,
        _text(value),
        _text(low),
        _text(high),
        _text(n),
    ]


def agreement_report_csv_rows(report: dict[str, Any]) -> Iterator[list[str]]:
    """The report as long-format rows, header first: one figure a row.

    Cells are plain text; write them with ``coding_app.csv_safety`` so that
    codes or emails cannot act as spreadsheet formulas.
    """
    yield list(CSV_HEADER)
    mvc = report["model_vs_coders"]
    groups = [("overall", None, None, mvc["overall"])]
    groups += [("version", g["version_id"], None, g) for g in mvc["versions"]]
    groups += [("week", g["version_id"], g["week"], g) for g in mvc["weeks"]]
    for section, version, week, group in groups:
        for level, scores in group.get("levels", {}).items():
            for metric, value in scores.items():
                yield _row(
                    f"model_{section}", metric, value, version=version, week=week, level=level
                )
        outcomes = group.get("outcomes", {})
        for metric, value in outcomes.get("counts", {}).items():
            yield _row(f"outcome_{section}", metric, value, version=version, week=week)
        for metric, value in outcomes.get("shares", {}).items():
            yield _row(f"outcome_{section}", f"{metric}_share", value, version=version, week=week)
    for by in ("chapters", "codes"):
        for row in report[by]:
            for metric, value in row.items():
                if metric not in ("group", "description"):
                    yield _row(by, metric, value, group=str(row["group"]))
    yield from _agreement_rows(report["coder_agreement"])
    for coder in report["coders"]:
        for metric, value in coder.items():
            if metric not in ("coder_id", "email"):
                yield _row("coders", metric, value, group=coder["email"])


def _agreement_rows(agreement: dict[str, Any]) -> Iterator[list[str]]:
    for level in LEVELS:
        figures = agreement["levels"].get(level)
        if figures is None:
            continue
        for name in ("f1", "alpha"):
            figure = figures[name]
            yield _row(
                "coder_agreement",
                name,
                figure["value"],
                level=level,
                ci=figure["ci95"],
                n=figure["n"],
            )
        for kappa in figures["kappa"]:
            yield _row(
                "coder_agreement",
                "kappa",
                kappa["value"],
                level=level,
                group=kappa["label"],
                ci=kappa["ci95"],
                n=kappa["n"],
            )
