"""The zero-shot signal: each code's calibrated similarity to a note's best
sentence, kept for a note's ``ZERO_SHOT_CODES`` best codes.

The backend computes it for the notes it predicts; training computes it the
same way (``zero_shot_scores``) for the notes the ranker learns from, so
the ranker sees one signal, not two look-alikes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from sentence_transformers import SentenceTransformer

from worker.backends.embedding.code_index import SIMILARITY_BLOCK, CodeIndex, CodeMatrix
from worker.backends.embedding.ranking import RankingOptions
from worker.backends.embedding.sentences import split_sentences

ZERO_SHOT_CODES = 50


def top_codes(
    scores: torch.Tensor, index: CodeIndex, limit: int = ZERO_SHOT_CODES
) -> list[dict[str, float]]:
    """notes x codes calibrated scores -> per note, its ``limit`` best codes."""
    if not len(scores):
        return []
    best, positions = torch.topk(scores, min(limit, scores.shape[1]), dim=1)
    return [
        {index.codes[int(p)]: float(s) for p, s in zip(row_p, row_s, strict=True)}
        for row_p, row_s in zip(positions.cpu().numpy(), best.cpu().numpy(), strict=True)
    ]


def zero_shot_scores(
    encoder: SentenceTransformer, index: CodeIndex, texts: Sequence[str], options: RankingOptions
) -> list[dict[str, float]]:
    """The zero-shot signal of ``texts``, a block of notes at a time."""
    matrix = CodeMatrix(index, encoder.device)
    spans = [split_sentences(t, options.max_sentence_chars) if t.strip() else [] for t in texts]
    found: list[dict[str, float]] = []
    for chunk in _chunks(spans):
        pieces = [spans[i] for i in chunk]
        found.extend(_block(encoder, matrix, index, [texts[i] for i in chunk], pieces, options))
    return found


def _chunks(spans: list[list[tuple[int, int]]]) -> list[list[int]]:
    """Consecutive notes in groups of about ``SIMILARITY_BLOCK`` sentences."""
    chunks: list[list[int]] = [[]]
    size = 0
    for i, pieces in enumerate(spans):
        if chunks[-1] and size + len(pieces) > SIMILARITY_BLOCK:
            chunks.append([])
            size = 0
        chunks[-1].append(i)
        size += len(pieces)
    return [chunk for chunk in chunks if chunk]


def _block(
    encoder: SentenceTransformer,
    matrix: CodeMatrix,
    index: CodeIndex,
    texts: Sequence[str],
    spans: list[list[tuple[int, int]]],
    options: RankingOptions,
) -> list[dict[str, float]]:
    sentences = [text[s:e] for text, pieces in zip(texts, spans, strict=True) for s, e in pieces]
    if not sentences:
        return [{} for _ in texts]
    embedded = encoder.encode(
        sentences, batch_size=options.batch_size, normalize_embeddings=True,
        show_progress_bar=False, convert_to_tensor=True,
    ).to(device=matrix.vectors.device, dtype=torch.float32)  # fmt: skip
    bounds, start = [], 0
    for pieces in spans:
        bounds.append((start, start + len(pieces)))
        start += len(pieces)
    scored = [i for i, (s, e) in enumerate(bounds) if e > s]
    similarity = matrix.best_similarity(embedded, [bounds[i] for i in scored])
    scores = torch.sigmoid(options.calibration_a * similarity + options.calibration_b)
    tops = dict(zip(scored, top_codes(scores, index), strict=True))
    return [tops.get(i, {}) for i in range(len(texts))]
