"""Writing the code index's files so that no reader ever sees half of one.

Every file (a published matrix and its JSON, a part of a build, a plan) is
written to a temporary file in the same folder, flushed to disk and renamed
over its name: a rename within a folder is atomic, so a reader finds the old
file, the new one, or none, and a builder killed mid-write leaves only a
dot-named temporary file that nothing reads.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np


@contextmanager
def atomic_file(path: Path) -> Iterator[IO[bytes]]:
    """A binary handle whose content replaces ``path`` once the block ends."""
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def matrix_write(path: Path, matrix: np.ndarray) -> None:
    with atomic_file(path) as handle:
        np.save(handle, np.asarray(matrix), allow_pickle=False)


def matrix_read(path: Path, *, mapped: bool) -> np.ndarray:
    """A float32 matrix; ``mapped`` maps it copy-on-write (pages shared between
    worker processes, and torch can wrap it: it refuses read-only arrays)."""
    matrix: np.ndarray = np.load(path, mmap_mode="c" if mapped else None, allow_pickle=False)
    if matrix.dtype != np.float32 or matrix.ndim != 2:
        raise ValueError(f"{path.name} holds a {matrix.dtype} array of shape {matrix.shape}")
    return matrix


def json_write(path: Path, data: dict[str, Any]) -> None:
    with atomic_file(path) as handle:
        handle.write(json.dumps(data).encode())


def json_read(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} does not hold a JSON object")
    return data
