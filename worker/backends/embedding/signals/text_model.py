"""The nearest reviewed notes and per-code linear classifiers, over TF-IDF.

Both read the same TF-IDF vectors (words and word pairs, sublinear counts):

- nearest notes: the ``neighbours`` most similar reviewed notes (cosine),
  each voting for its final codes with its similarity; a code's score is the
  share of the neighbours' similarity that voted for it ("similar to 12
  reviewed notes");
- classifiers: one ridge-regularised linear classifier per code with at
  least ``min_examples`` notes, all solved at once in their dual form
  (kernel ridge with the linear kernel, scikit-learn's ``KernelRidge`` on the
  precomputed note x note similarities): the model keeps one weight per
  training note and code instead of one per word and code, and reuses the
  similarities the neighbours already need;
- category classifiers: the same, one per ICD-10 category (the code's first
  three characters) with ``min_examples`` notes. A category has more
  examples than any of its codes, so it is learned sooner and surer, and
  the ranker weighs a code by its category's score beside its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.kernel_ridge import KernelRidge


@dataclass(frozen=True)
class TextModelSettings:
    neighbours: int = 20
    min_examples: int = 2
    ridge_alpha: float = 0.3
    max_features: int = 50_000


@dataclass
class TextModel:
    vectorizer: TfidfVectorizer
    notes: sparse.csr_matrix  # training notes x terms
    labels: sparse.csr_matrix  # training notes x codes, 0/1
    codes: tuple[str, ...]
    classified: np.ndarray  # column indices of codes with a classifier
    dual: np.ndarray  # training notes x classified codes
    offset: np.ndarray  # classified codes: the mean label
    neighbours: int
    categories: tuple[str, ...]  # categories with a classifier
    category_dual: np.ndarray  # training notes x categories
    category_offset: np.ndarray


@dataclass(frozen=True)
class TextScores:
    """Per note: scores over ``TextModel.codes``."""

    neighbour_share: np.ndarray  # notes x codes
    neighbour_count: np.ndarray  # notes x codes: how many neighbours had it
    classifier: np.ndarray  # notes x codes (0 where no classifier)
    category_classifier: np.ndarray  # notes x TextModel.categories


def text_model_fit(
    texts: Sequence[str], codes: Sequence[frozenset[str]], settings: TextModelSettings
) -> TextModel:
    vocabulary = tuple(sorted({c for note in codes for c in note}))
    column = {code: i for i, code in enumerate(vocabulary)}
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2),
        min_df=2 if len(texts) >= 10 else 1,
        sublinear_tf=True,
        stop_words="english",
        max_features=settings.max_features,
        dtype=np.float32,
    )
    notes = sparse.csr_matrix(vectorizer.fit_transform(texts))
    rows = [i for i, note in enumerate(codes) for _ in note]
    cols = [column[c] for note in codes for c in sorted(note)]
    shape = (len(texts), len(vocabulary))
    labels = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape)
    counts = np.asarray(labels.sum(axis=0)).ravel()
    classified = np.flatnonzero(counts >= settings.min_examples)
    targets = labels[:, classified].toarray()
    offset = targets.mean(axis=0) if len(texts) else np.zeros(len(classified))
    kernel = (notes @ notes.T).toarray()
    dual = _dual(kernel, targets - offset, settings.ridge_alpha)
    categories, category_targets = _category_targets(codes, settings.min_examples)
    category_offset = category_targets.mean(axis=0) if len(texts) else np.zeros(len(categories))
    category_dual = _dual(kernel, category_targets - category_offset, settings.ridge_alpha)
    return TextModel(
        vectorizer=vectorizer,
        notes=notes,
        labels=labels,
        codes=vocabulary,
        classified=classified,
        dual=np.asarray(dual, dtype=np.float32),
        offset=np.asarray(offset, dtype=np.float32),
        neighbours=settings.neighbours,
        categories=categories,
        category_dual=np.asarray(category_dual, dtype=np.float32),
        category_offset=np.asarray(category_offset, dtype=np.float32),
    )


def _dual(kernel: np.ndarray, targets: np.ndarray, alpha: float) -> np.ndarray:
    """The dual weights of one ridge classifier per target column."""
    if not targets.shape[1]:
        return np.zeros((kernel.shape[0], 0))
    ridge = KernelRidge(alpha=alpha, kernel="precomputed")
    return np.asarray(ridge.fit(kernel, targets).dual_coef_).reshape(kernel.shape[0], -1)


def _category_targets(
    codes: Sequence[frozenset[str]], min_examples: int
) -> tuple[tuple[str, ...], np.ndarray]:
    notes_of: dict[str, set[int]] = {}
    for i, note in enumerate(codes):
        for code in note:
            notes_of.setdefault(code[:3], set()).add(i)
    categories = tuple(sorted(c for c, seen in notes_of.items() if len(seen) >= min_examples))
    targets = np.zeros((len(codes), len(categories)), dtype=np.float32)
    for j, category in enumerate(categories):
        targets[sorted(notes_of[category]), j] = 1.0
    return categories, targets


def text_scores(model: TextModel, texts: Sequence[str]) -> TextScores:
    queries = sparse.csr_matrix(model.vectorizer.transform(texts))
    similarity = (queries @ model.notes.T).toarray()
    share, count = _neighbour_votes(model, similarity)
    classifier = np.zeros((len(texts), len(model.codes)), dtype=np.float32)
    if len(model.classified):
        classifier[:, model.classified] = similarity @ model.dual + model.offset
    categories = similarity @ model.category_dual + model.category_offset
    return TextScores(share, count, classifier, np.asarray(categories, dtype=np.float32))


def _neighbour_votes(model: TextModel, similarity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = min(model.neighbours, similarity.shape[1])
    shape = (similarity.shape[0], len(model.codes))
    if k == 0:
        return np.zeros(shape, dtype=np.float32), np.zeros(shape, dtype=np.float32)
    nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    weights = np.take_along_axis(similarity, nearest, axis=1)
    share = np.zeros(shape, dtype=np.float32)
    count = np.zeros(shape, dtype=np.float32)
    for row, (near, weight) in enumerate(zip(nearest, weights, strict=True)):
        votes = model.labels[near]
        count[row] = np.asarray(votes.sum(axis=0)).ravel()
        share[row] = np.asarray(votes.T @ weight).ravel() / max(float(weight.sum()), 1e-9)
    return share, count
