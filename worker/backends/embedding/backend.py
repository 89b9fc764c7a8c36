"""The ``embedding`` backend: MiniLM similarity between sentences and codes.

Every billable code is a few vectors (description, inclusion terms; see
``worker.backends.embedding.code_index``); every sentence of a note is one. A code's
similarity to the note is its best cosine with any sentence, so one clear
sentence is enough, however long the note. That similarity is calibrated
into a probability, optionally blended with a trained head, and the codes
above a cut-off are suggested with the sentences that support them.

The whole batch is embedded in one ``encode`` call; after that a note costs
one matrix product against the code matrix (done for a block of notes at a
time, so the temporary matrix stays bounded whatever the batch size), a
scatter-max for the inclusion terms and a top-k, all in torch on the
encoder's device. Nothing loops over codes in Python.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from coding_app.codes.entry import CodeEntry
from coding_app.codes.hierarchy import Hierarchy
from worker.backends.base import (
    JOB_OPTIONS,
    BackendConfigError,
    BackendSpec,
    NotePrediction,
    NoteText,
    SuggestedCode,
)
from worker.backends.embedding.code_index import (
    SIMILARITY_BLOCK,
    CodeMatrix,
    code_index_load_or_build,
    code_index_texts,
)
from worker.backends.embedding.encoder import PACKAGED_ENCODER, load_encoder
from worker.backends.embedding.head import LinearCodeHead, load_head, note_vector
from worker.backends.embedding.sentences import MAX_SENTENCE_CHARS, split_sentences

logger = logging.getLogger(__name__)

PROMPT_VERSION = "embedding-v1"

# sigmoid(a * similarity + b), fitted by logistic regression (scikit-learn,
# no regularisation) on the CodiEsp train split: for each of the 500 notes
# the 100 codes of highest similarity, labelled by whether the coders gave
# that code (2.9 % did). So a score is the chance that a code near the top
# of the ranking is right: 0.02 at similarity 0.58, 0.15 at 0.80.
CALIBRATION_A = 9.887
CALIBRATION_B = -9.647
# The cut-off, top k and per-category limit that maximised category-level
# micro F1 on the same split (0.227; the surface is flat from k = 10 to 20).
# Siblings have near-identical descriptions, so without the per-category
# limit the top 10 fills with variants of one diagnosis.
DEFAULT_THRESHOLD = 0.015
DEFAULT_TOP_K = 10
DEFAULT_PER_CATEGORY = 1
DEFAULT_EVIDENCE_FLOOR = 0.35
# A quick head (1,535 codes, 300 Adam steps on the 500 CodiEsp train notes,
# started from the code vectors) scored best on the dev split around 0.2 to
# 0.3: category F1 0.23 without it, 0.32 at 0.3 and 0.30 at 0.5; at 1.0 the
# head's narrow code list loses recall. Re-fit with each trained head.
DEFAULT_HEAD_WEIGHT = 0.3
DEFAULT_BATCH_SIZE = 64

MAX_EVIDENCE = 3
# Candidates fetched a note, per code suggested: room for the per-category
# limit to skip siblings (the top 35 of a diabetes note span only 6
# categories) and still fill top_k. A note can still get fewer than top_k.
CANDIDATE_POOL_FACTOR = 20
RAW_CANDIDATES = 20
QUOTE_CHARS = 160
# Notes are scored in blocks of about this many sentences, so the
# temporary sentence x code matrix stays bounded whatever the batch size.
BLOCK_SENTENCES = SIMILARITY_BLOCK


@dataclass(frozen=True)
class RankingOptions:
    """The ``spec.options`` this backend reads, with their defaults."""

    threshold: float = DEFAULT_THRESHOLD
    top_k: int = DEFAULT_TOP_K
    per_category: int = DEFAULT_PER_CATEGORY
    calibration_a: float = CALIBRATION_A
    calibration_b: float = CALIBRATION_B
    evidence_floor: float = DEFAULT_EVIDENCE_FLOOR
    head_weight: float = DEFAULT_HEAD_WEIGHT
    batch_size: int = DEFAULT_BATCH_SIZE
    max_sentence_chars: int = MAX_SENTENCE_CHARS


# Allowed range of each option (inclusive); ints must be whole numbers.
_OPTION_RANGES: dict[str, tuple[float, float]] = {
    "threshold": (0.0, 1.0),
    "top_k": (1, 1000),
    "per_category": (0, 1000),
    "calibration_a": (1e-6, 1e6),
    "calibration_b": (-1e6, 1e6),
    "evidence_floor": (-1.0, 1.0),
    "head_weight": (0.0, 1.0),
    "batch_size": (1, 4096),
    "max_sentence_chars": (20, 100_000),
}


def ranking_options(options: Mapping[str, Any]) -> RankingOptions:
    """Validated options; raises ``BackendConfigError`` naming the bad one."""
    known = {f.name: f.type for f in fields(RankingOptions)}
    options = {name: value for name, value in options.items() if name not in JOB_OPTIONS}
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise BackendConfigError(
            f"Unknown option(s) for the embedding backend: {', '.join(unknown)}; "
            f"allowed: {', '.join(known)}"
        )
    values: dict[str, Any] = {}
    for name, value in options.items():
        whole = known[name] == "int"
        low, high = _OPTION_RANGES[name]
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if not is_number or not math.isfinite(value) or (whole and value != int(value)):
            kind = "a whole number" if whole else "a number"
            raise BackendConfigError(f"Option {name} must be {kind}, got {value!r}")
        if not low <= value <= high:
            raise BackendConfigError(f"Option {name} must be in [{low}, {high}], got {value!r}")
        values[name] = int(value) if whole else float(value)
    return RankingOptions(**values)


class EmbeddingBackend:
    """Suggest codes by sentence-to-code similarity, optionally with a head.

    ``spec.base_model`` names the encoder (empty: the packaged
    all-MiniLM-L6-v2); ``spec.adapter_path`` a trained head
    (``worker.backends.embedding.head``), which must be for that encoder. ``entries``
    narrows the codes that can be suggested (default: every billable code of
    ``hierarchy``; tests use a few chapters).

    ``spec.options`` (all optional):

    - ``threshold`` (0.015): the lowest score suggested.
    - ``top_k`` (10): at most this many codes a note.
    - ``per_category`` (1): at most this many codes of one three-character
      category; 0 for no limit.
    - ``calibration_a``, ``calibration_b`` (9.887, -9.647): the score is
      ``sigmoid(a * similarity + b)``.
    - ``evidence_floor`` (0.35): a sentence is evidence for a code when its
      similarity reaches this; the best three are kept.
    - ``head_weight`` (0.3, only with a head): score = ``w * head + (1 - w)
      * similarity score``; codes the head does not know get 0 from it, so
      1.0 suggests only the head's codes and 0.0 ignores the head.
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
        self.encoder_name = spec.base_model.strip() or PACKAGED_ENCODER
        self.encoder = load_encoder(self.encoder_name)
        self.index = code_index_load_or_build(
            hierarchy, self.encoder, self.encoder_name, release_key, cache_dir, entries=entries
        )
        self.matrix = CodeMatrix(self.index, self.encoder.device)
        self.head: LinearCodeHead | None = None
        self.head_outputs = np.zeros(0, dtype=np.int64)
        self.head_columns = torch.zeros(0, dtype=torch.int64)
        if spec.adapter_path.strip():
            self._attach_head(load_head(spec.adapter_path, expect_encoder=self.encoder_name))

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
            candidates = self._candidates(embeddings, on_host, [bounds[i] for i in scored])
            found = dict(zip(scored, candidates, strict=True))
            for i in block:
                if i not in found:
                    predictions.append(_no_sentences(notes[i]))
                    continue
                sentence_vectors = on_host[bounds[i][0] : bounds[i][1]]
                predictions.append(self._prediction(notes[i], spans[i], sentence_vectors, found[i]))
        return predictions

    def _attach_head(self, head: LinearCodeHead) -> None:
        if head.dim != self.index.dim:
            raise BackendConfigError(
                f"The head takes {head.dim}-d vectors; the encoder gives {self.index.dim}"
            )
        known = [(i, self.index.positions.get(code)) for i, code in enumerate(head.codes)]
        kept = [(i, p) for i, p in known if p is not None]
        if not kept:
            raise BackendConfigError(
                f"None of the head's {len(head.codes)} codes is a billable code here"
            )
        if len(kept) < len(known):
            logger.warning(
                "The head's %d codes unknown to release %s are ignored",
                len(known) - len(kept), self.index.release_key,
            )  # fmt: skip
        self.head = head
        self.head_outputs = np.array([i for i, _ in kept], dtype=np.int64)
        self.head_columns = torch.tensor([p for _, p in kept], device=self.matrix.vectors.device)

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
        if self.head is not None:
            notes = np.stack([note_vector(on_host[s:e]) for s, e in bounds])
            head_scores = self.head.scores(notes)[:, self.head_outputs]
            head = torch.zeros_like(scores)
            head[:, self.head_columns] = torch.from_numpy(head_scores).to(scores.device)
            scores = opts.head_weight * head + (1 - opts.head_weight) * scores
        pool = min(max(RAW_CANDIDATES, opts.top_k * CANDIDATE_POOL_FACTOR), len(self.index))
        top_scores, top_positions = torch.topk(scores, pool, dim=1)
        top_similarity = similarity.gather(1, top_positions)
        rows = zip(
            top_positions.cpu().numpy(),
            top_scores.cpu().numpy(),
            top_similarity.cpu().numpy(),
            strict=True,
        )
        return [_candidates_in_order(*row) for row in rows]

    def _prediction(
        self,
        note: NoteText,
        spans: list[tuple[int, int]],
        sentence_vectors: np.ndarray,
        candidates: Candidates,
    ) -> NotePrediction:
        chosen = self._choose(candidates)
        codes = tuple(
            self._suggestion(candidates, i, note.text, spans, sentence_vectors) for i in chosen
        )
        return NotePrediction(
            note_id=note.note_id,
            codes=codes,
            reasoning=self._reasoning(len(spans), candidates, codes),
            raw_output=self._raw_output(len(spans), candidates),
            prompt_version=PROMPT_VERSION,
        )

    def _choose(self, candidates: Candidates) -> list[int]:
        """Indices into ``candidates`` of the codes to suggest."""
        opts = self.options
        chosen: list[int] = []
        per_category: Counter[str] = Counter()
        for i, (position, score) in enumerate(
            zip(candidates.positions, candidates.scores, strict=True)
        ):
            if score < opts.threshold or len(chosen) >= opts.top_k:
                break
            category = self.index.codes[position][:3]
            if opts.per_category and per_category[category] >= opts.per_category:
                continue
            per_category[category] += 1
            chosen.append(i)
        return chosen

    def _suggestion(
        self,
        candidates: Candidates,
        i: int,
        text: str,
        spans: list[tuple[int, int]],
        sentence_vectors: np.ndarray,
    ) -> SuggestedCode:
        position = int(candidates.positions[i])
        code = self.index.codes[position]
        per_text = sentence_vectors @ self.index.code_rows(position).T  # sentences x texts
        per_sentence = per_text.max(axis=1)
        order = np.argsort(-per_sentence, kind="stable")[:MAX_EVIDENCE]
        kept = [int(j) for j in order if per_sentence[j] >= self.options.evidence_floor]
        best = int(order[0])
        texts = code_index_texts_of(self.hierarchy, code)
        score = float(candidates.scores[i])
        rationale = _rationale(
            quote=_quote(text[spans[best][0] : spans[best][1]]),
            similarity=float(per_sentence[best]),
            matched=texts[min(int(per_text[best].argmax()), len(texts) - 1)],
            description=texts[0],
            supported=bool(kept),
            more=len(kept) - 1,
            head_score=score if self.head is not None else None,
        )
        return SuggestedCode(
            code=code,
            score=round(score, 4),
            evidence=tuple(spans[j] for j in sorted(kept)),
            rationale=rationale,
        )

    def _reasoning(
        self, sentences: int, candidates: Candidates, codes: tuple[SuggestedCode, ...]
    ) -> str:
        opts = self.options
        how = "similarity and the trained head" if self.head is not None else "similarity"
        text = (
            f"Ranked {len(self.index):,} billable codes against the note's {sentences} "
            f"sentence(s) by {how}. "
        )
        if not codes:
            top = self.index.codes[int(candidates.positions[0])]
            return text + (
                f"No code reached the cut-off {opts.threshold:g}; the closest was "
                f"{top} ({float(candidates.scores[0]):.3f})."
            )
        listed = ", ".join(f"{c.code} ({c.score:.3f})" for c in codes)
        return text + (
            f"Kept {len(codes)} code(s) scoring {opts.threshold:g} or more (at most "
            f"{opts.top_k}, {opts.per_category or 'any number'} per category): {listed}."
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
            "head": self.head is not None,
            "sentences": sentences,
            "candidates": ranked,
        }
        return json.dumps(summary, separators=(",", ":"))


@dataclass(frozen=True)
class Candidates:
    """One note's best codes, best first: index positions, scores and the
    raw similarity each score came from."""

    positions: np.ndarray
    scores: np.ndarray
    similarity: np.ndarray


def _candidates_in_order(
    positions: np.ndarray, scores: np.ndarray, similarity: np.ndarray
) -> Candidates:
    """Sorted by score, ties by position, so equal inputs rank alike."""
    order = np.lexsort((positions, -scores))
    return Candidates(positions[order], scores[order], similarity[order])


def code_index_texts_of(hierarchy: Hierarchy, code: str) -> list[str]:
    """The texts a code was embedded from, in index row order."""
    entry = hierarchy.entry(code)
    return code_index_texts(entry) if entry is not None else [code]


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


def _rationale(
    *,
    quote: str,
    similarity: float,
    matched: str,
    description: str,
    supported: bool,
    more: int,
    head_score: float | None,
) -> str:
    target = f"“{description}”"
    if matched != description:
        target = f"“{matched}”, an inclusion term of {target}"
    prefix = "Suggested"
    if head_score is not None:
        prefix = f"Scored {head_score:.2f} by the trained head and similarity"
    if not supported:
        return (
            f"{prefix}; no sentence is close to {target} (the closest, “{quote}”, "
            f"has similarity {similarity:.2f})."
        )
    text = (
        f"{prefix} because the note says “{quote}” (similarity {similarity:.2f}) "
        f"which matches {target}."
    )
    if more == 1:
        text += " 1 more sentence supports it."
    elif more > 1:
        text += f" {more} more sentences support it."
    return text


def _quote(sentence: str) -> str:
    sentence = " ".join(sentence.split())
    if len(sentence) <= QUOTE_CHARS:
        return sentence
    cut = sentence.rfind(" ", 0, QUOTE_CHARS - 1)
    return sentence[: cut if cut > QUOTE_CHARS // 2 else QUOTE_CHARS - 1] + "…"


def _description(hierarchy: Hierarchy, code: str) -> str:
    entry = hierarchy.entry(code)
    return entry.description if entry is not None else code


def _no_sentences(note: NoteText) -> NotePrediction:
    problem = (
        "The note has no text to embed (it is empty or only whitespace)."
        if isinstance(note.text, str)
        else f"The note text is a {type(note.text).__name__}, not a string."
    )
    return NotePrediction(
        note_id=note.note_id, codes=(), parse_problem=problem, prompt_version=PROMPT_VERSION
    )


def _round(value: np.floating[Any] | float) -> float:
    return round(float(value), 4)
