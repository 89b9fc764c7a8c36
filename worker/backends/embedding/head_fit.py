"""Fitting the multi-label head (``worker.backends.embedding.head``) on a CPU.

The encoder stays frozen: every note becomes one vector (``note_vectors``,
exactly as the backend computes it at prediction time) and a logistic unit
per code learns which notes get that code. The head starts from the code
vectors, calibrated as the backend calibrates similarity
(``LinearCodeHead.from_code_index`` with ``CALIBRATION_A``/``CALIBRATION_B``),
so before the first step it already ranks like calibrated similarity and
training only has to sharpen it; codes never seen in training keep their
similarity start.

Class imbalance: a code is on in a few notes of hundreds, so a plain loss
is won by predicting "no" everywhere. Each code's positive examples are
weighted by its negatives over its positives (``pos_weight`` of
``BCEWithLogitsLoss``), capped so a code seen once does not swamp the rest.
A little weight decay toward the starting weights keeps rare codes close to
their description instead of memorising one note.

The whole set fits in memory (hundreds to tens of thousands of notes times
384 floats), so every step is one full batch of Adam: deterministic for a
given seed, and a few hundred steps take seconds.

Which notes to learn from and their labels are the training app's business
(``training.labels``); this module only fits texts with their codes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from worker.backends.embedding.code_index import CodeIndex
from worker.backends.embedding.head import (
    CALIBRATION_A,
    CALIBRATION_B,
    LinearCodeHead,
    note_vectors,
)

# Called after each step with (step, total steps, loss, learning rate); it
# may raise to stop the training (a cancelled run).
StepCallback = Callable[[int, int, float, float], None]


class NotEnoughExamples(ValueError):
    """The labelled notes cannot train a head (none, or no known code)."""


@dataclass(frozen=True)
class LabelledNote:
    """One training example: a note's text and the codes it should get."""

    note_id: int
    text: str
    codes: frozenset[str]


@dataclass(frozen=True)
class HeadSettings:
    """Hyperparameters of a head fit, with the defaults the form shows."""

    steps: int = 300
    learning_rate: float = 0.01
    # Pull toward the starting (similarity) weights, per step.
    anchor_decay: float = 1e-3
    max_pos_weight: float = 30.0
    seed: int = 0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "steps": self.steps,
            "learning_rate": self.learning_rate,
            "anchor_decay": self.anchor_decay,
            "max_pos_weight": self.max_pos_weight,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class HeadTrainingResult:
    head: LinearCodeHead
    notes: int
    codes: int
    losses: list[float] = field(default_factory=list)


def head_codes(notes: Sequence[LabelledNote], index: CodeIndex) -> tuple[str, ...]:
    """The codes a head learns: those the notes use and the index knows."""
    seen = {code for note in notes for code in note.codes if code in index.positions}
    return tuple(sorted(seen))


def head_train(
    notes: Sequence[LabelledNote],
    *,
    index: CodeIndex,
    encoder: SentenceTransformer,
    settings: HeadSettings | None = None,
    on_step: StepCallback | None = None,
) -> HeadTrainingResult:
    """A head trained on ``notes`` (texts with their gold codes)."""
    settings = settings or HeadSettings()
    if settings.steps < 1 or settings.learning_rate <= 0:
        raise ValueError("A head run needs at least one step and a positive learning rate")
    codes = head_codes(notes, index)
    if not notes or not codes:
        raise NotEnoughExamples(
            f"{len(notes)} labelled note(s) with {len(codes)} code(s) the index knows; "
            "a head needs at least one of each"
        )
    start = LinearCodeHead.from_code_index(
        index, codes=codes, scale=CALIBRATION_A, offset=CALIBRATION_B
    )
    inputs = torch.from_numpy(note_vectors(encoder, [note.text for note in notes]))
    targets = torch.from_numpy(_targets(notes, codes))
    weight, bias, losses = _fit(inputs, targets, start, settings, on_step)
    head = LinearCodeHead(
        codes=codes,
        weight=weight,
        bias=bias,
        encoder_name=start.encoder_name,
        release_key=start.release_key,
    )
    return HeadTrainingResult(head=head, notes=len(notes), codes=len(codes), losses=losses)


def _targets(notes: Sequence[LabelledNote], codes: tuple[str, ...]) -> np.ndarray:
    column = {code: i for i, code in enumerate(codes)}
    targets = np.zeros((len(notes), len(codes)), dtype=np.float32)
    for row, note in enumerate(notes):
        for code in note.codes:
            if code in column:
                targets[row, column[code]] = 1.0
    return targets


def _fit(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    start: LinearCodeHead,
    settings: HeadSettings,
    on_step: StepCallback | None,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    # Full-batch steps draw nothing at random; the seed pins torch's
    # kernels all the same.
    torch.manual_seed(settings.seed)
    anchor_w = torch.from_numpy(start.weight.copy())
    anchor_b = torch.from_numpy(start.bias.copy())
    weight = anchor_w.clone().requires_grad_(True)
    bias = anchor_b.clone().requires_grad_(True)
    positives = targets.sum(dim=0)
    negatives = len(targets) - positives
    pos_weight = (negatives / positives.clamp(min=1.0)).clamp(1.0, settings.max_pos_weight)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    optimizer = torch.optim.Adam([weight, bias], lr=settings.learning_rate)
    losses: list[float] = []
    for step in range(1, settings.steps + 1):
        optimizer.zero_grad()
        logits = inputs @ weight.T + bias
        anchor = ((weight - anchor_w) ** 2).sum() + ((bias - anchor_b) ** 2).sum()
        loss = loss_fn(logits, targets) + settings.anchor_decay * anchor / len(start.codes)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step, settings.steps, losses[-1], settings.learning_rate)
    return (
        weight.detach().numpy().astype(np.float32),
        bias.detach().numpy().astype(np.float32),
        losses,
    )
