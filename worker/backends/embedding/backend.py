"""The ``embedding`` backend: MiniLM similarity between sentences and codes.

Every billable code is a few vectors (description, inclusion terms; see
``worker.backends.embedding.code_index``); every sentence of a note is one. A code's
similarity to the note is its best cosine with any sentence, so one clear
sentence is enough, however long the note. Untrained (zero-shot), that
similarity is calibrated into a probability and the codes above a cut-off
are suggested (``worker.backends.embedding.ranking``) with the sentences
that support them (``worker.backends.embedding.rationale``). Trained (a
version whose ``adapter_path`` is a suggester folder), the similarity is one
signal among those the learned ranker combines (``learned`` and
``signals``).

The whole batch is embedded in one ``encode`` call; after that a note costs
one matrix product against the code matrix (done for a block of notes at a
time, so the temporary matrix stays bounded whatever the batch size), a
scatter-max for the inclusion terms and a top-k, all in torch on the
encoder's device. Nothing loops over codes in Python.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from coding_app.codes.entry import CodeEntry
from coding_app.codes.hierarchy import Hierarchy
from worker.backends.base import BackendConfigError, BackendSpec, NotePrediction, NoteText
from worker.backends.embedding.code_index import SIMILARITY_BLOCK, CodeMatrix, encoder_and_index
from worker.backends.embedding.learned import LearnedSuggester
from worker.backends.embedding.ranking import (
    RAW_CANDIDATES,
    Candidates,
    candidates_in_order,
    codes_chosen,
    ranking_options,
)
from worker.backends.embedding.rationale import ranking_reasoning, suggestion_with_evidence
from worker.backends.embedding.sentences import split_sentences
from worker.backends.embedding.signals.store import is_suggester
from worker.backends.embedding.zero_shot import top_codes

logger = logging.getLogger(__name__)

PROMPT_VERSION = "embedding-v1"
# Notes are scored in blocks of about this many sentences, so the
# temporary sentence x code matrix stays bounded whatever the batch size.
BLOCK_SENTENCES = SIMILARITY_BLOCK


class EmbeddingBackend:
    """Suggest codes by sentence-to-code similarity, or by a trained suggester.

    ``spec.base_model`` names the encoder (empty: the packaged
    all-MiniLM-L6-v2); ``spec.adapter_path`` a trained
    suggester folder (``signals.store``), which must be for that encoder. ``entries``
    narrows the codes that can be suggested (default: every billable code of
    ``hierarchy``; tests use a few chapters).

    ``spec.options`` (all optional; ``worker.backends.embedding.ranking``):

    - ``threshold`` (0.015): the lowest score suggested.
    - ``top_k`` (10): at most this many codes a note.
    - ``per_category`` (1): at most this many codes of one three-character
      category; 0 for no limit.
    - ``calibration_a``, ``calibration_b`` (9.887, -9.647): the score is
      ``sigmoid(a * similarity + b)``.
    - ``evidence_floor`` (0.35): a sentence is evidence for a code when its
      similarity reaches this; the best three are kept.
    - ``batch_size`` (64): sentences per encoder batch.
    - ``max_sentence_chars`` (300): longer sentences are cut.
    """

    def __init__(
        self,
        spec: BackendSpec,
        hierarchy: Hierarchy,
        *,
        cache_dir: Path,
        release_key: str,
        entries: Iterable[CodeEntry] | None = None,
    ) -> None:
        self.spec = spec
        self.hierarchy = hierarchy
        self.options = ranking_options(spec.options)
        parts = encoder_and_index(
            spec.base_model,
            hierarchy,
            cache_dir=cache_dir,
            release_key=release_key,
            entries=entries,
        )
        self.encoder_name, self.encoder, self.index = parts.encoder_name, parts.encoder, parts.index
        self.matrix = CodeMatrix(self.index, self.encoder.device)
        self.learned: LearnedSuggester | None = None
        if is_suggester(spec.adapter_path):
            self.learned = LearnedSuggester(
                spec.adapter_path,
                encoder_name=self.encoder_name,
                hierarchy=hierarchy,
                index=self.index,
                top_k=spec.options.get("top_k"),
            )
        elif spec.adapter_path.strip():
            raise BackendConfigError(
                f"{spec.adapter_path} is not a trained suggester folder (no suggester.json); "
                "train one with a head run"
            )

    def predict(self, notes: Sequence[NoteText]) -> list[NotePrediction]:
        spans = [self._spans(note) for note in notes]
        sentences = [note.text[s:e] for note, ss in zip(notes, spans, strict=True) for s, e in ss]
        embeddings = self._encode(sentences)
        on_host = embeddings.cpu().numpy()
        bounds, start = [], 0
        for pieces in spans:
            bounds.append((start, start + len(pieces)))
            start += len(pieces)
        predictions: list[NotePrediction] = []
        for block in _blocks(bounds):
            scored = [i for i in block if bounds[i][1] > bounds[i][0]]
            if self.learned is not None:
                predictions.extend(self._learned(notes, block, scored, bounds, embeddings, on_host))
                continue
            candidates = self._candidates(embeddings, on_host, [bounds[i] for i in scored])
            found = dict(zip(scored, candidates, strict=True))
            for i in block:
                if i not in found:
                    predictions.append(_no_sentences(notes[i]))
                    continue
                sentence_vectors = on_host[bounds[i][0] : bounds[i][1]]
                predictions.append(self._prediction(notes[i], spans[i], sentence_vectors, found[i]))
        return predictions

    def _learned(
        self,
        notes: Sequence[NoteText],
        block: list[int],
        scored: list[int],
        bounds: list[tuple[int, int]],
        embeddings: torch.Tensor,
        on_host: np.ndarray,
    ) -> list[NotePrediction]:
        """The trained suggester's predictions for one block of notes."""
        assert self.learned is not None
        similarity = self.matrix.best_similarity(embeddings, [bounds[i] for i in scored])
        opts = self.options
        scores = torch.sigmoid(opts.calibration_a * similarity + opts.calibration_b)
        zero_shot = dict(zip(scored, top_codes(scores, self.index), strict=True))
        learned = self.learned.predictions(
            [notes[i] for i in scored],
            [zero_shot[i] for i in scored],
            [on_host[bounds[i][0] : bounds[i][1]] for i in scored],
        )
        found = dict(zip(scored, learned, strict=True))
        return [found[i] if i in found else _no_sentences(notes[i]) for i in block]

    def _spans(self, note: NoteText) -> list[tuple[int, int]]:
        if not isinstance(note.text, str):
            return []
        return split_sentences(note.text, self.options.max_sentence_chars)

    def _encode(self, sentences: list[str]) -> torch.Tensor:
        device = self.matrix.vectors.device
        if not sentences:
            return torch.zeros((0, self.index.dim), device=device)
        embedded = self.encoder.encode(
            sentences,
            batch_size=self.options.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_tensor=True,
        )
        return embedded.to(device=device, dtype=torch.float32)

    def _candidates(
        self, embeddings: torch.Tensor, on_host: np.ndarray, bounds: list[tuple[int, int]]
    ) -> list[Candidates]:
        """The best-scored codes of each note, best first, on the host."""
        if not bounds:
            return []
        opts = self.options
        similarity = self.matrix.best_similarity(embeddings, bounds)
        scores = torch.sigmoid(opts.calibration_a * similarity + opts.calibration_b)
        pool = opts.candidate_pool(len(self.index))
        top_scores, top_positions = torch.topk(scores, pool, dim=1)
        top_similarity = similarity.gather(1, top_positions)
        rows = zip(
            top_positions.cpu().numpy(),
            top_scores.cpu().numpy(),
            top_similarity.cpu().numpy(),
            strict=True,
        )
        return [candidates_in_order(*row) for row in rows]

    def _prediction(
        self,
        note: NoteText,
        spans: list[tuple[int, int]],
        sentence_vectors: np.ndarray,
        candidates: Candidates,
    ) -> NotePrediction:
        codes = tuple(
            suggestion_with_evidence(
                index=self.index,
                hierarchy=self.hierarchy,
                position=int(candidates.positions[i]),
                score=float(candidates.scores[i]),
                text=note.text,
                spans=spans,
                sentence_vectors=sentence_vectors,
                evidence_floor=self.options.evidence_floor,
            )
            for i in codes_chosen(candidates, self.index.codes, self.options)
        )
        reasoning = ranking_reasoning(
            index=self.index,
            options=self.options,
            sentences=len(spans),
            candidates=candidates,
            codes=codes,
        )
        return NotePrediction(
            note_id=note.note_id,
            codes=codes,
            reasoning=reasoning,
            raw_output=self._raw_output(len(spans), candidates),
            prompt_version=PROMPT_VERSION,
            ranked=_ranked(self.index.codes, candidates),
        )

    def _raw_output(self, sentences: int, candidates: Candidates) -> str:
        top = zip(candidates.positions, candidates.scores, candidates.similarity, strict=True)
        ranked = [
            {
                "code": self.index.codes[p],
                "score": round(float(s), 4),
                "similarity": round(float(m), 4),
            }
            for p, s, m in list(top)[:RAW_CANDIDATES]
        ]
        summary = {
            "recipe": PROMPT_VERSION,
            "encoder": self.encoder_name,
            "sentences": sentences,
            "candidates": ranked,
        }
        return json.dumps(summary, separators=(",", ":"))


def _ranked(codes: Sequence[str], candidates: Candidates) -> tuple[tuple[str, float], ...]:
    """Every candidate as ``(code, score)``, best first (for MAP)."""
    pairs = zip(candidates.positions, candidates.scores, strict=True)
    return tuple((codes[int(position)], float(score)) for position, score in pairs)


def _blocks(bounds: list[tuple[int, int]]) -> Iterable[list[int]]:
    """Consecutive notes in groups of about ``BLOCK_SENTENCES`` sentences."""
    block: list[int] = []
    size = 0
    for i, (start, end) in enumerate(bounds):
        if block and size + (end - start) > BLOCK_SENTENCES:
            yield block
            block, size = [], 0
        block.append(i)
        size += end - start
    if block:
        yield block


def _no_sentences(note: NoteText) -> NotePrediction:
    problem = (
        "The note has no text to embed (it is empty or only whitespace)."
        if isinstance(note.text, str)
        else f"The note text is a {type(note.text).__name__}, not a string."
    )
    return NotePrediction(
        note_id=note.note_id, codes=(), parse_problem=problem, prompt_version=PROMPT_VERSION
    )
