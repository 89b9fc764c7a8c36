"""A ``head`` run: the embedding model's learned suggester from gold sets.

(The method keeps its name from the linear head it replaced: runs, forms
and schedules already speak of it.) The base version's encoder and code
index are loaded as the backend loads them (``embedding_encoder_and_index``,
the cached index); the suggester (``worker.backends.embedding.signals``:
mention lexicon, nearest notes, per-code classifiers, zero-shot similarity,
learned ranker, calibration and cut-off) is fitted on every labelled note
outside the held-out split, with the suggestions coders rejected and the
evidence they marked, and saved in the run's folder. The candidate version
keeps the base's options. Which notes and labels it learns from is this
app's part (``training.labels``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from coding_app.codes.store import current_hierarchy
from training.labels import (
    LABELS_REFERENCE,
    LABELS_REVIEWS,
    gold_codes,
    reference_codes_left_out,
    training_notes,
)
from training.models import TrainingRun
from training.runs.progress import RunReporter
from worker.backends.embedding.ranking import ranking_options
from worker.backends.embedding.signals.feedback import ReviewedNote
from worker.backends.embedding.signals.fit import FitSettings, Fitted, suggester_fit
from worker.backends.embedding.signals.lexicon import LexiconSettings
from worker.backends.embedding.signals.ranker import RankerSettings
from worker.backends.embedding.signals.signals import SignalSettings
from worker.backends.embedding.signals.store import suggester_save
from worker.backends.embedding.signals.terminology import terminology_build
from worker.backends.embedding.signals.text_model import TextModelSettings
from worker.backends.loading import embedding_encoder_and_index

if TYPE_CHECKING:
    from worker.backends.embedding.code_index import EncoderAndIndex

HEAD_DEFAULTS: dict[str, Any] = {
    "labels": LABELS_REVIEWS,
    "folds": FitSettings().folds,
    # The ranker's boosting iterations and learning rate.
    "steps": RankerSettings().iterations,
    "learning_rate": RankerSettings().learning_rate,
    "min_support": LexiconSettings().min_support,
    "neighbours": TextModelSettings().neighbours,
    "seed": 0,
}


def head_settings(hyper: dict[str, Any]) -> FitSettings:
    """The fit's settings from a run's hyperparameters (validated by the form)."""
    values = {**HEAD_DEFAULTS, **hyper}
    seed = int(values["seed"])
    return FitSettings(
        folds=int(values["folds"]),
        signals=SignalSettings(
            lexicon=LexiconSettings(min_support=int(values["min_support"])),
            text=TextModelSettings(neighbours=int(values["neighbours"])),
        ),
        ranker=RankerSettings(
            iterations=int(values["steps"]), learning_rate=float(values["learning_rate"]), seed=seed
        ),
        seed=seed,
    )


def _fit(
    run: TrainingRun,
    base: EncoderAndIndex,
    notes: list[ReviewedNote],
    settings: FitSettings,
    reporter: RunReporter,
) -> Fitted:
    # Imported here: it pulls in torch and sentence_transformers, and this
    # module is on the web's import path (the runs page's defaults).
    from worker.backends.embedding.zero_shot import zero_shot_scores

    hierarchy = current_hierarchy()
    known = frozenset(base.index.codes)
    options = ranking_options(run.base_version.options)
    steps = iter(range(1, 10_000))

    def progress(what: str, done: int, total: int) -> None:
        reporter.log(f"{what} {done}/{total}" if total > 1 else what)
        reporter.step(next(steps), settings.folds + 3, loss=None)

    return suggester_fit(
        notes,
        hierarchy=hierarchy,
        terminology=terminology_build(e for e in hierarchy if e.code in known),
        zero_shot=lambda texts: zero_shot_scores(base.encoder, base.index, texts, options),
        settings=settings,
        progress=progress,
    )


def head_run_train(run: TrainingRun, folder: Path, reporter: RunReporter) -> tuple[str, int]:
    """Fit and save the suggester; returns (its folder, the notes it learned from)."""
    # Raises BackendConfigError for a base that is not an embedding version
    # (``training_run_create`` refuses one first).
    base = embedding_encoder_and_index(run.base_version)
    labels = str(run.hyperparameters.get("labels", LABELS_REVIEWS))
    notes = training_notes(gold_codes(source=labels, until=run.reviews_until), source=labels)
    settings = head_settings(run.hyperparameters)
    reporter.log(f"{len(notes)} labelled notes from {labels}; {settings.folds}-fold cross-fitting")
    if labels == LABELS_REFERENCE:
        reporter.log(f"Training labels: {reference_codes_left_out(training=True)}")
    fitted = _fit(run, base, notes, settings, reporter)
    suggester_save(
        fitted,
        folder,
        encoder=base.encoder_name,
        release_key=base.index.release_key,
        settings={**HEAD_DEFAULTS, **run.hyperparameters},
    )
    figures = fitted.ranker.validation
    reporter.log(
        f"Suggester for {fitted.codes} codes saved; on held-out folds precision "
        f"{figures['precision']:.3f}, recall {figures['recall']:.3f}, F1 {figures['f1']:.3f} "
        f"at cut-off {figures['cutoff']:.3f}"
    )
    return str(folder), len(notes)
