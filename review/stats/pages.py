"""What each statistics page shows: its tables, charts and filter state."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.http import QueryDict

from review.stats.breakdown import SORTS, BreakdownQuery, breakdown
from review.stats.charts import Series, bar_chart, line_chart
from review.stats.filters import StatsFilter, StatsFilterError
from review.stats.model_vs_coder import model_vs_coders
from review.stats.rollup import figures_for, latest_refresh
from review.stats.sql import LEVELS
from review.stats.tables import (
    BREAKDOWN_COLUMNS,
    CODER_COLUMNS,
    agreement_tables,
    levels_table,
    outcomes_table,
    trend_table,
)
from worker.models import ModelVersion

TEMPLATES = {
    "overview": "audit_home.html",
    "codes": "stats_codes.html",
    "agreement": "stats_agreement.html",
    "coders": "stats_coders.html",
}


def breakdown_query(query: QueryDict) -> BreakdownQuery:
    """The codes table's sort and filter from GET parameters."""
    raw_min = query.get("min", "0").strip() or "0"
    if not raw_min.isdigit():
        raise StatsFilterError(f"min: “{raw_min[:20]}” is not a number of suggestions.")
    return BreakdownQuery(
        by="code",
        search=query.get("q", "").strip()[:20],
        sort=query.get("sort", "suggested"),
        descending=query.get("order", "desc") != "asc",
        min_suggested=int(raw_min),
        limit=200,
        chapter=query.get("chapter", "").strip()[:8],
    )


def _common(page: str, chosen: StatsFilter, query: QueryDict) -> dict[str, Any]:
    return {
        "page": page,
        "chosen": chosen,
        "filter_query": chosen.query_string(),
        "versions": ModelVersion.objects.order_by("pk").values("pk", "name"),
        "since": query.get("since", ""),
        "until": query.get("until", ""),
        "refresh": latest_refresh(),
    }


def _level(query: QueryDict) -> str:
    level = query.get("level", "code")
    if level not in LEVELS:
        raise StatsFilterError(f"level: “{level[:20]}” is not one of {', '.join(LEVELS)}.")
    return level


def overview_context(chosen: StatsFilter, query: QueryDict) -> dict[str, Any]:
    level = _level(query)
    mvc = model_vs_coders(chosen)
    names = dict(ModelVersion.objects.values_list("pk", "name"))
    series: dict[int, list[tuple[str, float]]] = {}
    for week in mvc["weeks"]:
        scores = week["levels"].get(level)
        if scores:
            series.setdefault(week["version_id"], []).append((week["week"], scores["f1_micro"]))
    chapters = breakdown(chosen, BreakdownQuery(sort="group", descending=False))
    tables = {"levels_table": levels_table(mvc), "outcomes_table": outcomes_table(mvc)}
    for shown in tables.values():
        for row in shown.rows:
            row["version"] = names.get(row["version_id"], "all versions")
    return tables | {
        "level": level,
        "levels": LEVELS,
        "mvc": mvc,
        "trend_rows": [row for row in trend_table(mvc).rows if row["level"] == level],
        "trend_chart": line_chart(
            [Series(str(names.get(v, v)), points) for v, points in sorted(series.items())],
            title=f"F1 (micro, {level} level) per week and model version",
        ),
        "chapters": chapters,
        "chapters_chart": bar_chart(
            [(f"{row['group']} {row['description'][:22]}", row["f1"]) for row in chapters],
            title="F1 at full-code level per chapter",
            maximum=1.0,
        ),
        "breakdown_columns": BREAKDOWN_COLUMNS,
    }


def codes_context(chosen: StatsFilter, query: QueryDict) -> dict[str, Any]:
    shaped = breakdown_query(query)
    keep = {"q": shaped.search, "min": str(shaped.min_suggested), "chapter": shaped.chapter}
    return {
        "sort_query": "&".join(f"{k}={quote(v)}" for k, v in keep.items() if v and v != "0"),
        "rows": breakdown(chosen, shaped),
        "shaped": shaped,
        "sorts": SORTS,
        "breakdown_columns": BREAKDOWN_COLUMNS,
    }


def agreement_context(chosen: StatsFilter, query: QueryDict) -> dict[str, Any]:
    agreement = figures_for(chosen)["coder_agreement"]
    summary, kappas = agreement_tables(agreement)
    code_kappas = [r for r in kappas.rows if r["level"] == "code" and r["kappa"] is not None][:25]
    return {
        "agreement": agreement,
        "summary": summary,
        "kappas": kappas,
        "kappa_chart": bar_chart(
            [(row["label"], max(row["kappa"] or 0.0, 0.0)) for row in code_kappas],
            title="Cohen's kappa per code (most frequent codes; below 0 drawn as 0)",
            maximum=1.0,
        ),
    }


def coders_context(chosen: StatsFilter, query: QueryDict) -> dict[str, Any]:
    coders = figures_for(chosen)["coders"]
    return {
        "coders": coders,
        "coder_columns": CODER_COLUMNS,
        "acceptance_chart": bar_chart(
            [(row["email"], row["accepted_share"]) for row in coders],
            title="Share of suggestions accepted as is, per coder",
            maximum=1.0,
        ),
        "time_chart": bar_chart(
            [(row["email"], row["median_seconds"]) for row in coders],
            title="Median seconds per note, per coder",
            value_format="{:.0f} s",
        ),
    }


BUILDERS = {
    "overview": overview_context,
    "codes": codes_context,
    "agreement": agreement_context,
    "coders": coders_context,
}


def page_context(page: str, chosen: StatsFilter, query: QueryDict) -> dict[str, Any]:
    return _common(page, chosen, query) | BUILDERS[page](chosen, query)
