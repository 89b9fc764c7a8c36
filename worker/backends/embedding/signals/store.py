"""Saving and loading a fitted suggester: one folder, two files.

``suggester.json`` is what a person can read: ``format``
(``coding-desk-suggester``), ``version`` (``1``), ``recipe``, the encoder and
release it was trained with, the cut-off and its validation figures, the
fit's settings and counts, and the lexicon (phrase -> codes with precision
and support). ``signals.joblib`` holds the scikit-learn parts (TF-IDF, the
classifiers' weights, the neighbours' notes, the ranker and its
calibration) and the coders' feedback counts, as scikit-learn documents
persisting models. joblib files are pickles: a model folder is trusted like
code, and only this product's training runs write one (under MODEL_DIR).
Both files are written under temporary names and renamed, manifest last,
so a reader never sees half a model.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import joblib

from worker.backends.base import BackendConfigError
from worker.backends.embedding.signals.features import FEATURES
from worker.backends.embedding.signals.fit import Fitted
from worker.backends.embedding.signals.lexicon import Entries, Lexicon
from worker.backends.embedding.signals.signals import Signals

MANIFEST = "suggester.json"
PARTS = "signals.joblib"
FORMAT = "coding-desk-suggester"
VERSION = 1
# v3: the ranker also reads each signal's view of the code's category.
RECIPE = "embedding-v3"


def is_suggester(path: Path | str) -> bool:
    return bool(str(path).strip()) and (Path(path) / MANIFEST).is_file()


def suggester_save(
    fitted: Fitted, folder: Path, *, encoder: str, release_key: str, settings: dict[str, Any]
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "recipe": RECIPE,
        "encoder": encoder,
        "release_key": release_key,
        "cutoff": fitted.ranker.cutoff,
        "validation": fitted.ranker.validation,
        "notes": fitted.notes,
        "codes": fitted.codes,
        "settings": settings,
        "features": list(FEATURES),
        "lexicon": {
            "affirmed": _entries(fitted.signals.lexicon.affirmed),
            "family": _entries(fitted.signals.lexicon.family),
        },
    }
    parts = {
        "text": fitted.signals.text,
        "feedback": fitted.signals.feedback,
        "ranker": fitted.ranker,
    }
    _replace(folder / PARTS, lambda name: joblib.dump(parts, name, compress=3))
    _replace(
        folder / MANIFEST,
        lambda name: Path(name).write_text(json.dumps(manifest), encoding="utf-8"),
    )
    return folder


def suggester_load(
    folder: Path | str, *, expect_encoder: str | None = None
) -> tuple[Fitted, dict[str, Any]]:
    """The fitted suggester and its manifest; ``BackendConfigError`` says
    what is wrong with a folder that is not one."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        parts = joblib.load(folder / PARTS)
    except (OSError, ValueError, EOFError, KeyError) as error:
        raise BackendConfigError(f"{folder} does not hold a readable suggester: {error}") from error
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackendConfigError(
            f"{folder / MANIFEST} is not a version {VERSION} {FORMAT} file "
            f"(format {manifest.get('format')!r}, version {manifest.get('version')!r})"
        )
    if expect_encoder is not None and manifest.get("encoder") != expect_encoder:
        raise BackendConfigError(
            f"The suggester at {folder} was trained with the encoder {manifest.get('encoder')!r}; "
            f"this model version uses {expect_encoder!r}"
        )
    if manifest.get("features") != list(FEATURES):
        raise BackendConfigError(
            f"The suggester at {folder} was trained with recipe {manifest.get('recipe')!r}, "
            f"whose ranker reads other features than this release's ({RECIPE}); "
            "train a new version with a head run"
        )
    lexicon = Lexicon(
        affirmed=_read_entries(manifest["lexicon"]["affirmed"]),
        family=_read_entries(manifest["lexicon"]["family"]),
    )
    signals = Signals(lexicon=lexicon, text=parts["text"], feedback=parts["feedback"])
    fitted = Fitted(signals, parts["ranker"], int(manifest["notes"]), int(manifest["codes"]))
    return fitted, manifest


def _entries(entries: Entries) -> dict[str, list[list[Any]]]:
    return {phrase: [list(item) for item in codes] for phrase, codes in entries.items()}


def _read_entries(raw: dict[str, list[list[Any]]]) -> Entries:
    return {
        phrase: tuple((str(c), float(p), int(n)) for c, p, n in codes)
        for phrase, codes in raw.items()
    }


def _replace(target: Path, write: Any) -> None:
    descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(descriptor)
    try:
        write(name)
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
