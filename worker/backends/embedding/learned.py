"""The embedding backend's trained path: the suggester of ``signals``.

A version whose ``adapter_path`` is a suggester folder (``signals.store``)
ranks every note by the learned ranker over all signals, the zero-shot
similarity among them, and suggests the codes whose calibrated probability
reaches the cut-off fitted with the version (at most ``top_k`` when the
version's options set it). Each suggestion's evidence is the sentence of the
mention that put it there; a code that no mention supports (one the nearest
notes or a classifier brought) gets the sentence most similar to it, as in
the zero-shot path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from coding_app.codes.hierarchy import Hierarchy
from worker.backends.base import NotePrediction, NoteText, SuggestedCode
from worker.backends.embedding.code_index import CodeIndex
from worker.backends.embedding.signals.mentions import NoteMentions, analyse
from worker.backends.embedding.signals.store import RECIPE, suggester_load
from worker.backends.embedding.signals.suggest import RankedCode, rank_notes
from worker.backends.embedding.signals.terminology import Terminology, terminology_build

RANKED_CODES = 100
DEFAULT_MAX_SUGGESTIONS = 25


class LearnedSuggester:
    def __init__(
        self,
        path: str,
        *,
        encoder_name: str,
        hierarchy: Hierarchy,
        index: CodeIndex,
        top_k: int | None,
    ) -> None:
        self.fitted, self.manifest = suggester_load(path, expect_encoder=encoder_name)
        self.fitted_cutoff = float(self.manifest["cutoff"])
        self.hierarchy = hierarchy
        self.index = index
        self.billable = frozenset(index.codes)
        self.terminology = _terminology(hierarchy, index)
        self.limit = top_k or DEFAULT_MAX_SUGGESTIONS

    def predictions(
        self,
        notes: Sequence[NoteText],
        zero_shot: Sequence[Mapping[str, float]],
        sentence_vectors: Sequence[np.ndarray],
    ) -> list[NotePrediction]:
        texts = [note.text for note in notes]
        mentions = [analyse(text) for text in texts]
        # A few rows a note: threads cost more than they give, and a worker
        # process per core must not oversubscribe the machine.
        with threadpool_limits(limits=1):
            ranked = rank_notes(
                self.fitted, texts, mentions, zero_shot,
                hierarchy=self.hierarchy, terminology=self.terminology, billable=self.billable,
                explained=self.limit,
            )  # fmt: skip
        return [
            self._prediction(note, m, r, v)
            for note, m, r, v in zip(notes, mentions, ranked, sentence_vectors, strict=True)
        ]

    def _prediction(
        self, note: NoteText, mentions: NoteMentions, ranked: list[RankedCode], vectors: np.ndarray
    ) -> NotePrediction:
        chosen = [c for c in ranked if c.probability >= self.fitted_cutoff][: self.limit]
        codes = tuple(
            SuggestedCode(
                code=c.code,
                score=round(c.probability, 4),
                evidence=self._evidence(c, mentions, vectors),
                rationale=c.rationale,
            )
            for c in chosen
        )
        return NotePrediction(
            note_id=note.note_id,
            codes=codes,
            reasoning=_reasoning(len(ranked), len(codes), self.fitted_cutoff, self.fitted.notes),
            raw_output=_raw_output(ranked, self.manifest),
            prompt_version=RECIPE,
            ranked=tuple((c.code, round(c.probability, 4)) for c in ranked[:RANKED_CODES]),
        )

    def _evidence(
        self, code: RankedCode, mentions: NoteMentions, vectors: np.ndarray
    ) -> tuple[tuple[int, int], ...]:
        sentences = mentions.sentences
        found = [s for s in sentences if any(s[0] <= a < s[1] for a, _ in code.evidence)]
        if found or not len(vectors) or len(vectors) != len(sentences):
            return tuple(found[:3])
        position = self.index.positions.get(code.code)
        if position is None:
            return ()
        best = int((vectors @ self.index.code_rows(position).T).max(axis=1).argmax())
        return (sentences[best],)


def _reasoning(candidates: int, chosen: int, cutoff: float, notes: int) -> str:
    return (
        f"Ranked {candidates} candidate codes by a model trained on {notes} reviewed notes "
        f"(recipe {RECIPE}); suggested the {chosen} whose probability reached {cutoff:.0%}."
    )


def _raw_output(ranked: list[RankedCode], manifest: Mapping[str, Any]) -> str:
    summary = {
        "recipe": RECIPE,
        "encoder": manifest.get("encoder", ""),
        "cutoff": manifest.get("cutoff"),
        "candidates": [
            {"code": c.code, "probability": round(c.probability, 4)} for c in ranked[:20]
        ],
    }
    return json.dumps(summary, separators=(",", ":"))


@lru_cache(maxsize=4)
def _terminology_of(release_key: str, codes: frozenset[str], hierarchy: Hierarchy) -> Terminology:
    return terminology_build(e for e in hierarchy if e.code in codes)


def _terminology(hierarchy: Hierarchy, index: CodeIndex) -> Terminology:
    return _terminology_of(index.release_key, frozenset(index.codes), hierarchy)
