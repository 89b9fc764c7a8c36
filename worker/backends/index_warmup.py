"""The first run of a machine: which codes to embed first, and predictions
made before the whole code index is ready.

Embedding every billable code takes about 4 minutes on two quiet cores
(longer on a busy machine), and the desk's first queue should not wait for
it. So the one builder of the machine (``worker.backends.embedding.
index_warm``) embeds first the codes the desk's notes are most likely to
need, publishes them as an index of their own, and embeds the rest after.

**Which codes first.** The categories of the reference codes of the notes
already stored (the most recent ``PRIORITY_NOTES``), each with all its
billable codes, those with the most reference codes per text to embed first
(a category of 3,000 injury codes with 7th characters must earn its place),
as many as fit in ``PRIORITY_TEXTS`` texts (about 15 s of two quiet cores).
For the demo notes (CodiEsp) that is 364 categories holding 80 % of their
reference codes (the most frequent categories first would hold 70 %). Notes
without reference codes give no priority, and predictions then wait for the
whole index. On a busy machine the builder publishes what is ready after 20
s (``index_store.FIRST_PARTIAL_S``), the densest categories, and the rest of
them when they are all embedded. Once the first of them are published it
gives the first predictions the CPU: ``make run``'s builder waits until the
demo job has stored some (``first_predictions_wait``, 90 s at most), a
worker's background builder 30 s (``index_warm.HEAD_START_S``).

**Predictions from the partial index** (``EMBEDDING_PARTIAL_INDEX``, on by
default) rank only those codes: a code outside them cannot be suggested,
and a note whose codes lie elsewhere gets weaker suggestions. Each such
prediction says so in its reasoning and in its raw output
(``"code_index": {"partial": true, ...}``); they are never re-made. Because
the demo notes' own reference codes choose the first categories, their
partial predictions are somewhat optimistic: benchmarks and a training run's
evaluation always wait for the whole index (``backend_for`` without
``partial_index_ok``). Turn the setting off to have every prediction wait for
the whole index.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace

from coding_app.codes.entry import CodeEntry
from coding_app.codes.hierarchy import Hierarchy
from worker.backends.base import Backend, NotePrediction, NoteText
from worker.backends.embedding.index_recipe import code_index_texts
from worker.models import ModelVersion, Note, Prediction, PredictionChunk

# About 15 s of embedding on two quiet cores (a minute on a busy machine).
PRIORITY_TEXTS = 5000
PRIORITY_NOTES = 20_000
# How long make run's builder waits for the first predictions before it
# embeds the rest of the codes beside them.
FIRST_PREDICTIONS_S = 90.0


def index_priority_codes(hierarchy: Hierarchy, entries: Sequence[CodeEntry]) -> list[str]:
    """The billable codes among ``entries`` to embed first, in the order to
    embed them (see the module)."""
    counts = _reference_categories(hierarchy)
    members: defaultdict[str, list[CodeEntry]] = defaultdict(list)
    for entry in entries:
        if entry.billable and entry.category in counts:
            members[entry.category].append(entry)
    cost = {
        category: sum(len(code_index_texts(entry)) for entry in codes)
        for category, codes in members.items()
    }
    chosen: list[str] = []
    used = 0
    for category in sorted(members, key=lambda c: (-counts[c] / cost[c], c)):
        if used + cost[category] <= PRIORITY_TEXTS:
            chosen.extend(entry.code for entry in members[category])
            used += cost[category]
    return chosen


def _reference_categories(hierarchy: Hierarchy) -> Counter[str]:
    """How often each category holds a reference code of the recent notes."""
    counts: Counter[str] = Counter()
    notes = Note.objects.exclude(reference_codes=[]).order_by("-pk")
    for codes in notes.values_list("reference_codes", flat=True)[:PRIORITY_NOTES].iterator():
        for code in codes if isinstance(codes, list) else ():
            entry = hierarchy.entry(code)
            if entry is not None:
                counts[entry.category] += 1
    return counts


def first_predictions_wait(
    version: ModelVersion, *, timeout_s: float = FIRST_PREDICTIONS_S
) -> bool:
    """Wait until ``version`` has a prediction stored while one of its jobs
    is unfinished (at most ``timeout_s``): the builder's head start, so the
    first queue fills before the rest of the index competes for the CPU.
    Whether predictions came; at once False when no job waits."""
    pending = PredictionChunk.objects.filter(
        job__model_version=version,
        status__in=[PredictionChunk.Status.QUEUED, PredictionChunk.Status.RUNNING],
    )
    deadline = time.monotonic() + timeout_s
    while pending.exists():
        if Prediction.objects.filter(model_version=version, job__isnull=False).exists():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(1.0)
    return False


class PartialIndexBackend:
    """A backend built on the partial index; every prediction says so."""

    def __init__(self, backend: Backend, *, codes: int, codes_total: int) -> None:
        self.backend = backend
        self.codes = codes
        self.codes_total = codes_total

    def predict(self, notes: Sequence[NoteText]) -> list[NotePrediction]:
        return [self._marked(p) for p in self.backend.predict(notes)]

    def _marked(self, prediction: NotePrediction) -> NotePrediction:
        note = (
            f"Ranked against {self.codes:,} of the {self.codes_total:,} codes while the code "
            "index was being prepared (the categories the desk's notes need most); codes "
            "outside them could not be suggested."
        )
        reasoning = f"{note}\n{prediction.reasoning}" if prediction.reasoning else note
        return replace(prediction, reasoning=reasoning, raw_output=self._raw(prediction.raw_output))

    def _raw(self, raw_output: str) -> str:
        mark = {"partial": True, "codes": self.codes, "codes_total": self.codes_total}
        try:
            summary = json.loads(raw_output)
        except ValueError:
            summary = None
        if not isinstance(summary, dict):
            return f"{json.dumps({'code_index': mark})}\n{raw_output}".rstrip("\n")
        summary["code_index"] = mark
        return json.dumps(summary, separators=(",", ":"))
