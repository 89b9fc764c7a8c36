"""The learning loop played end to end, with coders played by reference codes.

Each round: the active embedding version predicts the next share of the
training notes; a simulated coder "reviews" every prediction by the note's
reference codes (accept what the reference has, reject the rest as not
documented, add what the model missed); a ``head`` run trains on all the
reviews so far, is evaluated against the active version on the evaluation
notes (scored by their reference codes), and is promoted by the usual rule;
when the rule holds a candidate back for one chapter although it beats the
active version overall by the margin, a simulated admin promotes it (the
table says which: ``promoted`` by the rule, ``admin``, or ``kept``). Each
round's table rows give precision, recall, F1 (micro), macro F1 and MAP at
chapter, category and code level, of the version active after the round.

The simulated reviews are written straight to the review tables rather than
through the coder's desk services: those services guard a person's lease
and page version, which a simulation has no use for, and writing them in
bulk keeps a round to minutes. They are ordinary submitted reviews, so the
run reads them exactly as it reads a coder's. No audit events are written
for them: no person did anything.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from coding_app.accounts.roles import Role
from coding_app.accounts.services import user_create
from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.store import current_hierarchy
from coding_app.models import User
from review.models import Decision, Review, ReviewTask
from training.labels import LABELS_REFERENCE, LABELS_REVIEWS
from training.models import Evaluation, TrainingRun
from training.runs.evaluation import compare_versions
from training.runs.services import training_run_create, training_run_execute, version_promote
from worker.backends.base import NoteText
from worker.backends.loading import backend_for
from worker.models import ModelVersion, Note, Prediction, Suggestion
from worker.predictions.services import predictions_store
from worker.registry.versions import active_version, zero_shot_version_ensure

SIMULATED_CODER = "simulated-coder@coding-desk.invalid"
LEVELS = ("chapter", "category", "code")
# The figures of the table and the JSON summary: the summary's name of
# each (``code_f1_end``) and its key in an evaluation's level scores.
FIGURES = {
    "precision": "precision_micro",
    "recall": "recall_micro",
    "f1": "f1_micro",
    "f1_macro": "f1_macro",
    "map": "map",
}


@dataclass(frozen=True)
class RoundResult:
    round: int
    reviewed: int
    version: str
    # Per level, the evaluation's scores (``f1_micro``, ``map``, ...).
    scores: dict[str, dict[str, float]]
    promoted: bool
    run_id: int | None = None
    # start, kept, promoted (by the rule) or admin (by the simulated admin)
    decision: str = "start"

    @property
    def f1(self) -> dict[str, float]:
        """Micro F1 per level."""
        return {level: self.scores[level]["f1_micro"] for level in LEVELS}


def simulated_coder() -> User:
    user = User.objects.filter(email=SIMULATED_CODER).first()
    if user is not None:
        return user
    return user_create(
        email=SIMULATED_CODER,
        password=secrets.token_urlsafe(24),
        roles=[Role.CODER],
        check_password=False,
    )


def simulate_loop(
    *,
    train_notes: Sequence[Note],
    eval_notes: Sequence[Note],
    rounds: int,
    steps: int = 300,
    say: Callable[[str], None] = print,
) -> list[RoundResult]:
    """Play ``rounds`` rounds; the first row is the zero-shot start."""
    if rounds < 1:
        raise ValueError("rounds must be 1 or more")
    hierarchy = current_hierarchy()
    coder = simulated_coder()
    eval_ids = [n.pk for n in eval_notes if n.valid_reference_codes]
    version = active_version(ModelVersion.Backend.EMBEDDING) or zero_shot_version_ensure()
    start = _scores(version, eval_notes, hierarchy)
    results = [RoundResult(0, 0, version.name, start, False)]
    say(round_rows(results[-1]))
    per_round = -(-len(train_notes) // rounds)
    reviewed = 0
    for number in range(1, rounds + 1):
        chunk = list(train_notes[(number - 1) * per_round : number * per_round])
        reviewed += review_by_reference(chunk, version=version, coder=coder, hierarchy=hierarchy)
        run = _round_run(version, steps=steps, eval_ids=eval_ids)
        decision = _round_decision(run)
        version = active_version(ModelVersion.Backend.EMBEDDING) or version
        evaluation = run.evaluation
        side = "active" if decision == "kept" else "candidate"
        scores = {level: evaluation.scores[side][level] for level in LEVELS}
        results.append(
            RoundResult(
                number, reviewed, version.name, scores, decision != "kept", run.pk, decision
            )
        )
        say(round_rows(results[-1]))
        say(f"       rule: {evaluation.rule['why']}")
    return results


def _round_run(version: ModelVersion, *, steps: int, eval_ids: list[int]) -> TrainingRun:
    """A head run from ``version`` on the reviews so far, trained and then
    evaluated on ``eval_ids`` by their reference codes; raises unless done."""
    run = training_run_create(
        method=TrainingRun.Method.HEAD,
        base_version=version,
        hyperparameters={
            "labels": LABELS_REVIEWS,
            "evaluation_labels": LABELS_REFERENCE,
            "steps": steps,
        },
        created_by=None,
        enqueue=False,
    )
    training_run_execute(run_id=run.pk, evaluation_note_ids=eval_ids)
    run.refresh_from_db()
    if run.status != TrainingRun.Status.DONE:
        raise RuntimeError(f"Run {run.pk} {run.status}: {run.error}")
    return run


def _round_decision(run: TrainingRun) -> str:
    """``promoted`` by the rule, ``admin`` when the simulated admin promoted
    the candidate, else ``kept``."""
    evaluation = run.evaluation
    if evaluation.decision == Evaluation.Decision.PROMOTED:
        return "promoted"
    if evaluation.rule["gain"] >= evaluation.rule["margin"]:
        # The simulated admin: promotes a candidate that is better overall
        # even when the automatic rule held it back for one chapter.
        assert run.produced_version is not None
        version_promote(
            version=run.produced_version, by=None, reason="simulated admin: overall gain"
        )
        return "admin"
    return "kept"


def review_by_reference(
    notes: Sequence[Note], *, version: ModelVersion, coder: User, hierarchy: Hierarchy
) -> int:
    """Predict ``notes`` with ``version`` and submit a review of each made
    from its reference codes; returns how many notes were reviewed."""
    notes = [n for n in notes if n.valid_reference_codes]
    predictions_store(
        backend_for(version).predict([NoteText(n.pk, n.text) for n in notes]),
        version=version,
        job=None,
    )
    stored = Prediction.objects.filter(model_version=version, note__in=notes).prefetch_related(
        "suggestions"
    )
    now = timezone.now()
    with transaction.atomic():
        for prediction in stored:
            note = next(n for n in notes if n.pk == prediction.note_id)
            _review(prediction, note, version, coder, hierarchy, now)
    return len(notes)


def _review(
    prediction: Prediction,
    note: Note,
    version: ModelVersion,
    coder: User,
    hierarchy: Hierarchy,
    now: datetime,
) -> None:
    gold = {
        code
        for code in note.reference_codes
        if (entry := hierarchy.entry(code)) is not None and entry.billable
    }
    task, _ = ReviewTask.objects.get_or_create(
        prediction=prediction, slot=1, defaults={"note": note, "state": ReviewTask.State.DONE}
    )
    if Review.objects.filter(task=task).exists():
        return
    # Storing the prediction made the task open; the simulated coder does it.
    ReviewTask.objects.filter(pk=task.pk).update(state=ReviewTask.State.DONE)
    review = Review.objects.create(
        task=task,
        coder=coder,
        note=note,
        prediction=prediction,
        model_version=version,
        status=Review.Status.SUBMITTED,
        submitted_at=now,
        comment="simulated from reference codes",
    )
    decisions = [_decision(review, suggestion, gold) for suggestion in prediction.suggestions.all()]
    suggested = {decision.code for decision in decisions}
    decisions += [
        Decision(review=review, action="add", code=code) for code in sorted(gold - suggested)
    ]
    Decision.objects.bulk_create(decisions)


def _decision(review: Review, suggestion: Suggestion, gold: set[str]) -> Decision:
    """A coder who knows the reference codes: accept what they hold, reject the rest."""
    if suggestion.valid and suggestion.code in gold:
        return Decision(review=review, suggestion=suggestion, action="accept", code=suggestion.code)
    return Decision(
        review=review,
        suggestion=suggestion,
        action="reject",
        code=suggestion.code,
        reason="not_documented",
    )


def _scores(
    version: ModelVersion, notes: Sequence[Note], hierarchy: Hierarchy
) -> dict[str, dict[str, float]]:
    notes = [n for n in notes if n.valid_reference_codes]
    predicted = backend_for(version).predict([NoteText(n.pk, n.text) for n in notes])
    codes = [p.suggested_codes() for p in predicted]
    ranked = [p.ranked_codes() for p in predicted]
    comparison = compare_versions(
        note_ids=[n.pk for n in notes],
        candidate=codes,
        active=codes,
        gold=[set(n.valid_reference_codes) for n in notes],
        hierarchy=hierarchy,
        candidate_ranked=ranked,
        active_ranked=ranked,
    )
    return {level: comparison.scores["candidate"][level] for level in LEVELS}


def loop_summary(results: Sequence[RoundResult]) -> dict[str, float]:
    """Each figure at each level at the start and after the last round,
    as ``{level}_{figure}_start`` / ``_end`` (``code_map_end``)."""
    first, last = results[0].scores, results[-1].scores
    return {
        f"{level}_{name}_{when}": scores[level][key]
        for level in LEVELS
        for name, key in FIGURES.items()
        for when, scores in (("start", first), ("end", last))
    }


def round_rows(result: RoundResult) -> str:
    """Three lines, one a level; the round's own columns on the first."""
    lines = []
    for level in LEVELS:
        first = level == LEVELS[0]
        head = f"{result.round:>5}  {result.reviewed:>8}" if first else " " * 15
        tail = f"  {result.decision:<8}  {result.version}" if first else ""
        figures = "".join(
            f"  {result.scores[level][key]:>{width}.3f}"
            for key, width in zip(FIGURES.values(), COLUMN_WIDTHS, strict=True)
        )
        lines.append(f"{head}  {level:<8}{figures}{tail}")
    return "\n".join(lines)


COLUMN_WIDTHS = (9, 6, 6, 8, 6)
TABLE_HEADER = (
    "round  reviewed  level     precision  recall      F1  macro F1     MAP  "
    "decision  active version\n"
    "-----  --------  --------  ---------  ------  ------  --------  ------  "
    "--------  --------------"
)
