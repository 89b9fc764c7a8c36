"""A ``head`` run: the embedding model's multi-label head from gold sets.

The base version's encoder and code index are loaded as the backend loads
them (``embedding_encoder_and_index``, the cached index), the head is fitted
(``worker.backends.embedding.head_fit``) on every labelled note outside the
held-out split, and saved as ``head.safetensors`` in the run's folder. The
candidate version keeps the base's options, so it ranks the same way plus
the head. Which notes and labels it learns from is this app's part
(``training.labels``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training.labels import LABELS_REVIEWS, gold_codes, training_notes
from training.models import TrainingRun
from training.runs.progress import RunReporter
from worker.backends.embedding.head import save_head
from worker.backends.embedding.head_fit import HeadSettings, head_train
from worker.backends.loading import embedding_encoder_and_index

HEAD_DEFAULTS: dict[str, Any] = {
    "labels": LABELS_REVIEWS,
    **HeadSettings().as_dict(),
}


def head_settings(hyper: dict[str, Any]) -> HeadSettings:
    """The head's settings from a run's hyperparameters (validated by the form)."""
    values = {**HEAD_DEFAULTS, **hyper}
    return HeadSettings(
        steps=int(values["steps"]),
        learning_rate=float(values["learning_rate"]),
        anchor_decay=float(values["anchor_decay"]),
        max_pos_weight=float(values["max_pos_weight"]),
        seed=int(values["seed"]),
    )


def head_run_train(run: TrainingRun, folder: Path, reporter: RunReporter) -> tuple[str, int]:
    """Train and save the head; returns (its file, the notes it learned from)."""
    # Raises BackendConfigError for a base that is not an embedding version
    # (``training_run_create`` refuses one first).
    base = embedding_encoder_and_index(run.base_version)
    labels = str(run.hyperparameters.get("labels", LABELS_REVIEWS))
    notes = training_notes(gold_codes(source=labels, until=run.reviews_until))
    settings = head_settings(run.hyperparameters)
    reporter.log(f"{len(notes)} labelled notes from {labels}; {settings.steps} Adam steps")

    def on_step(step: int, total: int, loss: float, lr: float) -> None:
        reporter.step(step, total, loss=loss, lr=lr)

    result = head_train(
        notes, index=base.index, encoder=base.encoder, settings=settings, on_step=on_step
    )
    path = save_head(result.head, folder)
    reporter.log(
        f"Head for {result.codes} codes saved; loss {result.losses[0]:.4f} -> "
        f"{result.losses[-1]:.4f}"
    )
    return str(path), len(notes)
