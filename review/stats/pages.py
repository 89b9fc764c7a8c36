"""What each statistics page shows: its tables, charts and filter state."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.http import QueryDict

from coding_app.codes.display import code_label
from coding_app.codes.store import CodeSetNotLoaded, current_hierarchy
from review.stats.breakdown import SORTS, BreakdownQuery, breakdown
from review.stats.charts import Bar, Series, bar_chart, line_chart
from review.stats.coders import FAST_SECONDS_PER_CODE, FLAG_MIN_SHARE, FLAG_MIN_STAMPS
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


# The per-code table's columns as the page heads them (the downloads keep
# the column names), with what each means on hover.
BREAKDOWN_HEADERS = {
    "group": ("Code", ""),
    "description": ("Description", ""),
    "suggested": ("Suggested", "Times the model suggested the code"),
    "accepted": ("Accepted", "Kept as suggested"),
    "replaced_more_specific": ("More specific", "Replaced with a more specific code"),
    "replaced_less_specific": ("Less specific", "Replaced with a less specific code"),
    "replaced_sibling": ("Sibling", "Replaced with a code of the same parent"),
    "replaced_elsewhere": ("Elsewhere", "Replaced with a code further away"),
    "rejected": ("Rejected", "Rejected outright"),
    "added": ("Added", "Added by coders where the model missed it"),
    "tp": ("TP", "True positives: suggested and in the coder's codes"),
    "fp": ("FP", "False positives: suggested, not in the coder's codes"),
    "fn": ("FN", "False negatives: in the coder's codes, not suggested"),
    "precision": ("Precision", ""),
    "recall": ("Recall", ""),
    "f1": ("F1", ""),
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
            y_label="F1 (micro)",
            empty="No submitted review in this selection yet: no week to draw.",
        ),
        "chapters": chapters,
        "chapters_chart": bar_chart(
            [_chapter_bar(row) for row in chapters],
            title="F1 at full-code level per chapter",
            x_label="F1 (0 to 1); hover a chapter for its name",
            maximum=1.0,
            empty="No submitted review in this selection yet.",
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
        "breakdown_headers": [
            (column, *BREAKDOWN_HEADERS.get(column, (column, ""))) for column in BREAKDOWN_COLUMNS
        ],
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
            [_code_bar(row["label"], max(row["kappa"] or 0.0, 0.0)) for row in code_kappas],
            title="Cohen's kappa per code (most frequent codes; below 0 drawn as 0)",
            x_label="Kappa (0 to 1)",
            maximum=1.0,
            empty="No code with a defined kappa yet.",
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
            x_label="Share of the coder's suggestions accepted unchanged (0 to 1)",
            maximum=1.0,
            empty="No submitted review in this selection yet.",
        ),
        "time_chart": bar_chart(
            [(row["email"], row["median_seconds"]) for row in coders],
            title="Median time per note, per coder",
            x_label="Seconds the review page was in use (median over the coder's notes)",
            value_format="{:.0f} s",
            empty="No submitted review in this selection yet.",
        ),
        "fast_seconds": FAST_SECONDS_PER_CODE,
        "flag_min_stamps": FLAG_MIN_STAMPS,
        "flag_min_percent": round(FLAG_MIN_SHARE * 100),
    }


def _chapter_bar(row: dict[str, Any]) -> Bar:
    """A chapter's bar: its number as the label, its name on hover."""
    group = str(row["group"])
    name = "Unknown chapter" if group == "?" else f"Chapter {group}"
    hover = f"{name}: {row['description']}" if row["description"] else name
    return Bar(name, row["f1"], hover=hover)


def _code_bar(code: str, value: float) -> Bar:
    """A code's bar: dotted, with its description on hover."""
    try:
        label = code_label(code, current_hierarchy())
    except CodeSetNotLoaded:
        return Bar(code, value)
    return Bar(label.code, value, hover=str(label))


BUILDERS = {
    "overview": overview_context,
    "codes": codes_context,
    "agreement": agreement_context,
    "coders": coders_context,
}


def page_context(page: str, chosen: StatsFilter, query: QueryDict) -> dict[str, Any]:
    return _common(page, chosen, query) | BUILDERS[page](chosen, query)
