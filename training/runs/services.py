"""Training runs: start, cancel, execute, evaluate, promote.

``training_run_execute`` is what the Celery task on the ``training`` queue
calls. It holds a PostgreSQL advisory lock for the whole run, so two runs
never train at once even with several training workers (the lock goes with
the connection if a worker dies); a run that finds the lock taken stays
queued and its task retries later. A run that fails keeps its log and
error, and its version (if it got that far) stays a candidate: only an
evaluation or an admin promotes.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from coding_app.audit.services import audit
from coding_app.codes.store import current_hierarchy
from coding_app.models import User
from training.events import TrainingAuditKind
from training.labels import (
    LABELS_REFERENCE,
    LABELS_REVIEWS,
    LeftOut,
    gold_codes,
    notes_with_text,
    reference_codes_left_out,
    split_gold,
)
from training.models import Evaluation, ExportSnapshot, TrainingRun
from training.runs.evaluation import (
    Comparison,
    PromotionRule,
    compare_versions,
    promotion_verdict,
)
from training.runs.head import HEAD_DEFAULTS, head_run_train
from training.runs.llm import LLM_DEFAULTS, llm_run_train
from training.runs.progress import RunCancelled, RunReporter
from training.splits import Split
from worker.backends.base import NotePrediction, NoteText
from worker.backends.embedding.signals.store import RECIPE as SUGGESTER_RECIPE
from worker.backends.loading import backend_for
from worker.models import ModelVersion
from worker.registry.adapters import openai_adapter_load
from worker.registry.promotion import model_version_promote, model_version_rollback
from worker.registry.versions import active_version, model_version_register

logger = logging.getLogger(__name__)

# pg_advisory_lock key of "a run is training" (any fixed 64-bit number).
TRAINING_LOCK_KEY = 7_300_001
EVALUATION_MAX_NOTES = 1000
LLM_METHODS = {
    TrainingRun.Method.SFT,
    TrainingRun.Method.DPO,
    TrainingRun.Method.KTO,
    TrainingRun.Method.GRPO,
}


class RunRefused(Exception):
    """The run cannot be started or changed as asked; the message says why."""


class TrainingBusy(Exception):
    """Another run holds the training lock; try again later."""


def run_defaults(method: str) -> dict[str, Any]:
    return dict(HEAD_DEFAULTS if method == TrainingRun.Method.HEAD else LLM_DEFAULTS)


def promotion_rule() -> PromotionRule:
    return PromotionRule(
        margin=settings.PROMOTION_MARGIN,
        max_chapter_drop=settings.PROMOTION_MAX_CHAPTER_DROP,
        automatic=settings.PROMOTION_AUTOMATIC,
    )


def training_run_create(
    *,
    method: str,
    base_version: ModelVersion,
    snapshot: ExportSnapshot | None = None,
    hyperparameters: dict[str, Any] | None = None,
    created_by: User | None,
    enqueue: bool = True,
) -> TrainingRun:
    """Queue a run; its task starts when a training worker is free."""
    _run_check(method, base_version, snapshot)
    with transaction.atomic():
        if method != TrainingRun.Method.HEAD and snapshot is None:
            snapshot = _snapshot_now(method, created_by)
        run = TrainingRun.objects.create(
            method=method,
            base_version=base_version,
            snapshot=snapshot,
            hyperparameters={**run_defaults(method), **(hyperparameters or {})},
            reviews_until=timezone.now(),
            created_by=created_by,
        )
        audit(
            TrainingAuditKind.TRAINING_RUN_STARTED,
            actor=created_by,
            run=run.pk,
            method=method,
            base_version=base_version.name,
        )
        if enqueue:
            from training.tasks import train_run_task

            run_id = run.pk
            transaction.on_commit(lambda: train_run_task.delay(run_id))
    return run


def _run_check(method: str, base_version: ModelVersion, snapshot: ExportSnapshot | None) -> None:
    """Refuse a method that does not exist, or does not fit its base or export."""
    if method not in TrainingRun.Method.values:
        raise RunRefused(f"{method!r} is not a training method")
    is_head = method == TrainingRun.Method.HEAD
    if is_head != (base_version.backend == ModelVersion.Backend.EMBEDDING):
        kind = "an embedding" if is_head else "an LLM (transformers or openai)"
        raise RunRefused(f"A {method} run needs {kind} base version; {base_version} is not")
    if not is_head and snapshot is not None and snapshot.kind != method:
        raise RunRefused(f"A {method} run needs a {method} export, not a {snapshot.kind} one")


def _snapshot_now(method: str, created_by: User | None) -> ExportSnapshot:
    """An export of the run's kind from all reviews ("build one now")."""
    from training.exports.services import export_snapshot_create

    if created_by is None:
        raise RunRefused("A scheduled LLM run needs an export snapshot chosen by an admin")
    return export_snapshot_create(kind=method, filters={}, created_by=created_by)


def training_run_cancel(*, run: TrainingRun, by: User) -> TrainingRun:
    """A queued run is cancelled at once; a running one at its next step."""
    with transaction.atomic():
        locked = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if locked.is_finished:
            raise RunRefused(f"Run {locked.pk} is already {locked.get_status_display().lower()}.")
        locked.cancel_requested = True
        fields = ["cancel_requested"]
        if locked.status == TrainingRun.Status.QUEUED:
            locked.status, locked.finished_at = TrainingRun.Status.CANCELLED, timezone.now()
            fields += ["status", "finished_at"]
        locked.save(update_fields=fields)
        audit(TrainingAuditKind.TRAINING_RUN_CANCELLED, actor=by, run=locked.pk)
    return locked


def training_run_execute(*, run_id: int, evaluation_note_ids: Sequence[int] | None = None) -> None:
    """Train, save a candidate version, evaluate it (on the held-out notes,
    or on ``evaluation_note_ids``); safe to run twice."""
    with training_lock():
        run = _claim(run_id)
        if run is None:
            return
        reporter = RunReporter(run)
        try:
            version = _train(run, reporter)
            evaluation = evaluation_run(
                run=run, candidate=version, note_ids=evaluation_note_ids, reporter=reporter
            )
            reporter.log(f"Evaluation: {evaluation.rule.get('why', '')}")
            _finish(run, TrainingRun.Status.DONE)
        except RunCancelled as stop:
            reporter.lines.append(str(stop))
            _finish(run, TrainingRun.Status.CANCELLED, log="\n".join(reporter.lines))
        except Exception as error:
            logger.exception("Training run %s failed", run_id)
            reporter.lines.append(traceback.format_exc(limit=8))
            _finish(
                run,
                TrainingRun.Status.FAILED,
                log="\n".join(reporter.lines),
                error=f"{type(error).__name__}: {error}",
            )


@contextmanager
def training_lock() -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [TRAINING_LOCK_KEY])
        (acquired,) = cursor.fetchone() or (False,)
    if not acquired:
        raise TrainingBusy("Another training run holds the lock")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [TRAINING_LOCK_KEY])


def _claim(run_id: int) -> TrainingRun | None:
    """The run, switched to running; None when there is nothing to do. A
    run found running was left by a dead worker (we hold the lock, so no
    one else trains it): it starts again from the beginning."""
    with transaction.atomic():
        run = (
            TrainingRun.objects.select_for_update(of=("self",))
            .select_related("base_version", "snapshot")
            .filter(pk=run_id)
            .first()
        )
        if run is None or run.status not in {TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING}:
            return None
        if run.cancel_requested:
            run.status, run.finished_at = TrainingRun.Status.CANCELLED, timezone.now()
            run.save(update_fields=["status", "finished_at"])
            return None
        run.status, run.started_at, run.progress = TrainingRun.Status.RUNNING, timezone.now(), {}
        run.save(update_fields=["status", "started_at", "progress"])
        return run


def _train(run: TrainingRun, reporter: RunReporter) -> ModelVersion:
    folder = Path(settings.MODEL_DIR) / "runs" / str(run.pk)
    folder.mkdir(parents=True, exist_ok=True)
    reporter.log(f"Run {run.pk}: {run.method} from {run.base_version.name}")
    if run.method == TrainingRun.Method.HEAD:
        (adapter, notes), recipe = head_run_train(run, folder, reporter), SUGGESTER_RECIPE
    else:
        adapter, notes, recipe = llm_run_train(run, folder, reporter), 0, run.method
    base = run.base_version
    version = model_version_register(
        name=f"{base.backend}-run-{run.pk}",
        backend=base.backend,
        base_model=base.base_model,
        adapter_path=adapter,
        served_name=f"run-{run.pk}" if base.backend == ModelVersion.Backend.OPENAI else "",
        options=dict(base.options),
        parent=base,
        metrics={"run": run.pk, "method": run.method, "training_notes": notes, "recipe": recipe},
    )
    TrainingRun.objects.filter(pk=run.pk).update(produced_version=version, training_notes=notes)
    run.produced_version, run.training_notes = version, notes
    reporter.log(f"Candidate version {version.name} registered")
    return version


def _finish(run: TrainingRun, status: str, *, log: str | None = None, error: str = "") -> None:
    values: dict[str, Any] = {"status": status, "finished_at": timezone.now(), "error": error}
    if log is not None:
        values["log"] = log
    TrainingRun.objects.filter(pk=run.pk).update(**values)


def holdout_note_ids(*, labels: str, until: Any = None) -> list[int]:
    """The frozen evaluation set: held-out notes with a gold set."""
    gold = split_gold(gold_codes(source=labels, until=until), Split.HOLDOUT)
    return sorted(k for k, v in gold.items() if v)[:EVALUATION_MAX_NOTES]


def evaluation_run(
    *,
    run: TrainingRun,
    candidate: ModelVersion,
    note_ids: Sequence[int] | None = None,
    promote_by: User | None = None,
    reporter: RunReporter | None = None,
) -> Evaluation:
    """Candidate against the active version on the held-out notes (or
    ``note_ids``), stored; promotes when the rule says so. With reference
    labels, the run's log says how many flagged codes the gold sets left out."""
    ids, gold, left_out = _evaluation_gold(run, note_ids)
    if reporter is not None and left_out is not None:
        reporter.log(f"Evaluation gold: {left_out}")
    active = active_version(candidate.backend)
    comparison = _comparison(candidate, active, ids, gold)
    promote, figures = promotion_verdict(comparison, promotion_rule())
    if not ids:
        promote, figures["why"] = False, "No held-out notes with gold codes; an admin decides."
    evaluation = Evaluation.objects.update_or_create(
        run=run,
        defaults={
            "candidate": candidate,
            "active": active,
            "notes": comparison.notes,
            "scores": comparison.scores,
            "chapters": comparison.chapters,
            "disagreements": comparison.disagreements,
            "rule": figures,
            "decision": Evaluation.Decision.PROMOTED if promote else Evaluation.Decision.KEPT,
        },
    )[0]
    candidate.metrics = {**candidate.metrics, "evaluation": evaluation.pk, **_headline(comparison)}
    candidate.save(update_fields=["metrics"])
    if promote:
        version_promote(version=candidate, by=promote_by, reason=f"evaluation {evaluation.pk}")
    return evaluation


def _evaluation_gold(
    run: TrainingRun, note_ids: Sequence[int] | None
) -> tuple[list[int], dict[int, set[str]], LeftOut | None]:
    """The notes to evaluate on (those with a gold set), their gold sets, from
    the labels the run names for evaluation (else its training labels), and
    with reference labels the flagged codes they left out (else None)."""
    hyper = run.hyperparameters
    labels = str(hyper.get("evaluation_labels") or hyper.get("labels", LABELS_REVIEWS))
    ids = list(note_ids) if note_ids is not None else holdout_note_ids(labels=labels)
    gold = gold_codes(source=labels, note_ids=ids)
    left_out = reference_codes_left_out(note_ids=ids) if labels == LABELS_REFERENCE else None
    return [i for i in ids if gold.get(i)], gold, left_out


def _comparison(
    candidate: ModelVersion,
    active: ModelVersion | None,
    ids: list[int],
    gold: dict[int, set[str]],
) -> Comparison:
    """Both versions' codes and ranked lists for the notes ``ids``, scored
    against ``gold`` (no active version: it suggests nothing)."""
    texts = notes_with_text(ids)
    notes = [NoteText(i, texts[i]) for i in ids]
    new = _predict(candidate, notes)
    old = _predict(active, notes) if active is not None else [NotePrediction(i, ()) for i in ids]
    return compare_versions(
        note_ids=ids,
        candidate=[p.suggested_codes() for p in new],
        active=[p.suggested_codes() for p in old],
        gold=[gold[i] for i in ids],
        hierarchy=current_hierarchy(),
        candidate_ranked=[p.ranked_codes() for p in new],
        active_ranked=[p.ranked_codes() for p in old],
    )


def _predict(version: ModelVersion, notes: list[NoteText]) -> list[NotePrediction]:
    return backend_for(version).predict(notes) if notes else []


def _headline(comparison: Comparison) -> dict[str, float]:
    scores = comparison.scores["candidate"]
    return {f"{level}_f1_micro": scores[level]["f1_micro"] for level in scores}


def version_promote(*, version: ModelVersion, by: User | None, reason: str = "") -> None:
    """Promote through the registry and record who did it (or which rule).

    An ``openai`` version's adapter is loaded into the server first: a
    version the server cannot serve must not become the active one."""
    openai_adapter_load(version)
    with transaction.atomic():
        previous = model_version_promote(version=version, by=by)
        audit(
            TrainingAuditKind.MODEL_PROMOTED,
            actor=by,
            version=version.name,
            version_id=version.pk,
            backend=version.backend,
            replaced=previous.name if previous else None,
            reason=reason or "admin",
        )


def version_rollback(*, backend: str, by: User) -> ModelVersion:
    with transaction.atomic():
        restored, retired = model_version_rollback(backend=backend)
        audit(
            TrainingAuditKind.MODEL_ROLLED_BACK,
            actor=by,
            version=restored.name,
            version_id=restored.pk,
            backend=backend,
            retired=retired.name,
        )
    return restored
