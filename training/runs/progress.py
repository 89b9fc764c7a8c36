"""Writing a run's progress and log as it goes, and noticing a cancel.

A trainer calls ``step`` after every optimiser step; writing the row that
often would slow a small run more than training does, so the row is written
at most every ``WRITE_EVERY_S`` seconds (and always at the last step), and
the cancel flag is read at the same moments. The loss curve keeps every
point up to ``MAX_POINTS``, then every other one, so the JSON stays small
however long the run.
"""

from __future__ import annotations

import time
from typing import Any

from django.utils import timezone

from training.models import TrainingRun

WRITE_EVERY_S = 1.0
MAX_POINTS = 400


class RunCancelled(Exception):
    """An admin cancelled the run; the trainer stops at the next step."""


class RunReporter:
    def __init__(self, run: TrainingRun) -> None:
        self.run_id = run.pk
        self.history: list[dict[str, Any]] = list(run.progress.get("history", []))
        self.lines: list[str] = [run.log] if run.log else []
        self.step_no = 0
        self.total = 0
        self.stride = 1
        self._written = 0.0

    def log(self, line: str) -> None:
        stamp = timezone.localtime().strftime("%H:%M:%S")
        self.lines.append(f"{stamp} {line}")
        self.flush()

    def step(
        self,
        step: int,
        total: int,
        *,
        loss: float | None,
        lr: float | None = None,
        reward: float | None = None,
    ) -> None:
        self.step_no, self.total = step, total
        if step % self.stride == 0:
            point = {"step": step, "loss": _num(loss), "lr": _num(lr), "reward": _num(reward)}
            self.history.append(point)
            if len(self.history) > MAX_POINTS:
                self.history = self.history[::2]
                self.stride *= 2
        if step >= total or time.monotonic() - self._written >= WRITE_EVERY_S:
            self.flush()

    def flush(self) -> None:
        """Write progress and log; raise ``RunCancelled`` if asked to stop."""
        self._written = time.monotonic()
        progress = {"step": self.step_no, "total": self.total, "history": self.history}
        TrainingRun.objects.filter(pk=self.run_id).update(
            progress=progress, log="\n".join(self.lines)
        )
        cancel = (
            TrainingRun.objects.filter(pk=self.run_id)
            .values_list("cancel_requested", flat=True)
            .first()
        )
        if cancel:
            raise RunCancelled(f"Run {self.run_id} was cancelled at step {self.step_no}")


def _num(value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return round(number, 6) if number == number else None
