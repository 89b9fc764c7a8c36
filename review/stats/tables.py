"""The statistics as named tables: what each page shows beside its chart,
and what its CSV and JSON downloads hold (the same rows, so a download
never says something the page did not)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from review.stats.breakdown import BreakdownQuery, breakdown
from review.stats.filters import StatsFilter
from review.stats.model_vs_coder import OUTCOMES, model_vs_coders
from review.stats.rollup import figures_for
from review.stats.sql import LEVELS

SCORE_COLUMNS = (
    "tp",
    "fp",
    "fn",
    "labels",
    "precision_micro",
    "recall_micro",
    "f1_micro",
    "precision_macro",
    "recall_macro",
    "f1_macro",
)
OUTCOME_COLUMNS = ("reviews", "suggested", *OUTCOMES, "added", "final")


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.name, "columns": list(self.columns), "rows": self.rows}

    def csv_rows(self) -> list[list[object]]:
        header: list[object] = list(self.columns)
        return [header] + [[row.get(c) for c in self.columns] for row in self.rows]


TABLES = ("levels", "trend", "outcomes", "chapters", "codes", "agreement", "kappa", "coders")


def levels_table(mvc: dict[str, Any]) -> Table:
    rows = [
        {"version_id": "all", "level": level, **mvc["overall"]["levels"][level]}
        for level in LEVELS
        if level in mvc["overall"]["levels"]
    ]
    rows += [
        {"version_id": group["version_id"], "level": level, **scores}
        for group in mvc["versions"]
        for level, scores in group["levels"].items()
    ]
    return Table("levels", ("version_id", "level", *SCORE_COLUMNS), rows)


def trend_table(mvc: dict[str, Any]) -> Table:
    rows = [
        {"version_id": g["version_id"], "week": g["week"], "level": level, **scores}
        for g in mvc["weeks"]
        for level, scores in g["levels"].items()
    ]
    return Table("trend", ("version_id", "week", "level", *SCORE_COLUMNS), rows)


def outcomes_table(mvc: dict[str, Any]) -> Table:
    groups = [("all", None, mvc["overall"])]
    groups += [(g["version_id"], None, g) for g in mvc["versions"]]
    groups += [(g["version_id"], g["week"], g) for g in mvc["weeks"]]
    rows = []
    for version, week, group in groups:
        outcomes = group.get("outcomes", {})
        if not outcomes.get("counts"):
            continue
        shares = {f"{name}_share": value for name, value in outcomes["shares"].items()}
        rows.append({"version_id": version, "week": week, **outcomes["counts"], **shares})
    shares_columns = tuple(f"{name}_share" for name in (*OUTCOMES, "added"))
    return Table("outcomes", ("version_id", "week", *OUTCOME_COLUMNS, *shares_columns), rows)


BREAKDOWN_COLUMNS = (
    "group",
    "description",
    "suggested",
    *OUTCOMES,
    "added",
    "tp",
    "fp",
    "fn",
    "precision",
    "recall",
    "f1",
)


def breakdown_table(name: str, rows: list[dict[str, Any]]) -> Table:
    return Table(name, BREAKDOWN_COLUMNS, rows)


AGREEMENT_COLUMNS = (
    "level",
    "notes",
    "labels",
    "f1",
    "f1_ci_low",
    "f1_ci_high",
    "alpha",
    "alpha_ci_low",
    "alpha_ci_high",
)
KAPPA_COLUMNS = (
    "level",
    "label",
    "kappa",
    "ci_low",
    "ci_high",
    "n",
    "both",
    "first_only",
    "second_only",
)


def agreement_tables(agreement: dict[str, Any]) -> tuple[Table, Table]:
    summary, kappas = [], []
    for level in LEVELS:
        figures = agreement["levels"].get(level)
        if figures is not None:
            summary.append(_agreement_row(level, figures))
            kappas += [_kappa_row(level, kappa) for kappa in figures["kappa"]]
    return Table("agreement", AGREEMENT_COLUMNS, summary), Table("kappa", KAPPA_COLUMNS, kappas)


def _agreement_row(level: str, figures: dict[str, Any]) -> dict[str, Any]:
    f1, alpha = figures["f1"], figures["alpha"]
    return {
        "level": level,
        "notes": figures["notes"],
        "labels": figures["labels"],
        "f1": f1["value"],
        "f1_ci_low": f1["ci95"][0],
        "f1_ci_high": f1["ci95"][1],
        "alpha": alpha["value"],
        "alpha_ci_low": alpha["ci95"][0],
        "alpha_ci_high": alpha["ci95"][1],
    }


def _kappa_row(level: str, kappa: dict[str, Any]) -> dict[str, Any]:
    return {
        "level": level,
        "label": kappa["label"],
        "kappa": kappa["value"],
        "ci_low": kappa["ci95"][0],
        "ci_high": kappa["ci95"][1],
        "n": kappa["n"],
        "both": kappa["both"],
        "first_only": kappa["first_only"],
        "second_only": kappa["second_only"],
    }


CODER_COLUMNS = (
    "email",
    "reviews",
    "median_seconds",
    "suggested",
    "accepted",
    "edited",
    "rejected",
    "added",
    "accepted_share",
    "edited_share",
    "rejected_share",
    "added_per_note",
    "double_coded",
    "rubber_stamps",
    "rubber_stamp_share",
    "rubber_stamp_flag",
)


def table(name: str, chosen: StatsFilter, query: BreakdownQuery | None = None) -> Table:
    """One named table for a filter (``query`` shapes the codes table)."""
    if name in ("levels", "trend", "outcomes"):
        mvc = model_vs_coders(chosen)
        return {"levels": levels_table, "trend": trend_table, "outcomes": outcomes_table}[name](mvc)
    if name == "chapters":
        by_chapter = query or BreakdownQuery(sort="group", descending=False)
        return breakdown_table(name, breakdown(chosen, by_chapter))
    if name == "codes":
        return breakdown_table(name, breakdown(chosen, query or BreakdownQuery(by="code")))
    figures = figures_for(chosen)
    if name == "coders":
        return Table("coders", CODER_COLUMNS, figures["coders"])
    summary, kappas = agreement_tables(figures["coder_agreement"])
    if name == "agreement":
        return summary
    if name == "kappa":
        return kappas
    raise KeyError(name)
