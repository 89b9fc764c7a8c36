"""Reads for the training pages: runs, the loss curve, evaluations, versions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from coding_app.codes.diff import CodeSetDiff, diff_code_sets
from coding_app.codes.store import current_hierarchy
from training.models import Evaluation, TrainingRun
from training.runs.evaluation import chapter_sort_key
from training.runs.schedule import new_reviews_since_last_run, retrain_schedule
from training.runs.services import promotion_rule
from worker.models import ModelVersion, Note
from worker.registry.promotion import rollback_target

CURVE_WIDTH = 600
CURVE_HEIGHT = 160
CURVE_PAD = 24
DIFFS_SHOWN = 50


def runs_recent(limit: int = 50) -> QuerySet[TrainingRun]:
    return TrainingRun.objects.select_related(
        "base_version", "produced_version", "created_by", "snapshot"
    ).order_by("-created_at", "-pk")[:limit]


def runs_page() -> dict[str, Any]:
    """The runs page beside its forms: recent runs, the promotion rule, the
    retraining schedule and the reviews submitted since the last run."""
    return {
        "runs": runs_recent(),
        "rule": promotion_rule(),
        "schedule": retrain_schedule(),
        "new_reviews": new_reviews_since_last_run(),
    }


def run_for_page(run_id: int) -> TrainingRun:
    return TrainingRun.objects.select_related(
        "base_version", "produced_version", "created_by", "snapshot", "evaluation"
    ).get(pk=run_id)


@dataclass(frozen=True)
class LossCurve:
    points: str  # SVG polyline points
    first: float
    last: float
    low: float
    high: float
    steps: int
    width: int = CURVE_WIDTH
    height: int = CURVE_HEIGHT


def loss_curve(run: TrainingRun) -> LossCurve | None:
    """The loss per step as SVG polyline points (None before two points)."""
    history = [p for p in run.progress.get("history", []) if p.get("loss") is not None]
    if len(history) < 2:
        return None
    losses = [float(p["loss"]) for p in history]
    steps = [int(p["step"]) for p in history]
    low, high = min(losses), max(losses)
    span_y = (high - low) or 1.0
    span_x = (steps[-1] - steps[0]) or 1
    inner_w, inner_h = CURVE_WIDTH - 2 * CURVE_PAD, CURVE_HEIGHT - 2 * CURVE_PAD
    points = " ".join(
        f"{CURVE_PAD + inner_w * (s - steps[0]) / span_x:.1f},"
        f"{CURVE_PAD + inner_h * (high - v) / span_y:.1f}"
        for s, v in zip(steps, losses, strict=True)
    )
    return LossCurve(points, losses[0], losses[-1], low, high, steps[-1])


@dataclass(frozen=True)
class Disagreement:
    note: Note | None
    note_id: int
    candidate_vs_gold: CodeSetDiff
    active_vs_gold: CodeSetDiff
    candidate: list[str]
    active: list[str]
    gold: list[str]


def evaluation_context(evaluation: Evaluation) -> dict[str, Any]:
    hierarchy = current_hierarchy()
    rows = evaluation.disagreements[:DIFFS_SHOWN]
    notes = Note.objects.in_bulk([row["note"] for row in rows])
    disagreements = [
        Disagreement(
            note=notes.get(row["note"]),
            note_id=row["note"],
            candidate_vs_gold=diff_code_sets(row["candidate"], row["gold"], hierarchy),
            active_vs_gold=diff_code_sets(row["active"], row["gold"], hierarchy),
            candidate=row["candidate"],
            active=row["active"],
            gold=row["gold"],
        )
        for row in rows
    ]
    levels = [
        {
            "level": level,
            "sides": [
                ("Candidate", evaluation.level("candidate", level)),
                ("Active", evaluation.level("active", level)),
            ],
        }
        for level in ("chapter", "category", "code")
    ]
    chapters = sorted(evaluation.chapters.items(), key=chapter_sort_key)
    return {
        "evaluation": evaluation,
        "levels": levels,
        "chapters": chapters,
        "disagreements": disagreements,
        "more": max(0, len(evaluation.disagreements) - DIFFS_SHOWN),
    }


@dataclass(frozen=True)
class BackendVersions:
    """One backend's versions, newest first, and what a rollback would restore."""

    label: str
    backend: str
    versions: list[ModelVersion]
    rollback_to: ModelVersion | None


def versions_by_backend() -> list[BackendVersions]:
    versions = ModelVersion.objects.select_related("promoted_by", "parent").order_by(
        "backend", "-created_at", "-pk"
    )
    grouped: dict[str, list[ModelVersion]] = {}
    for version in versions:
        grouped.setdefault(version.backend, []).append(version)
    return [
        BackendVersions(
            label=group[0].get_backend_display(),
            backend=backend,
            versions=group,
            rollback_to=rollback_target(group),
        )
        for backend, group in grouped.items()
    ]
