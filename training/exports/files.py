"""Files written once and hashed while written, and the folder they form.

Nothing is read back to hash it: the digest grows with each write, so a
snapshot of any size costs one pass and a buffer of memory.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Self

BUFFER_BYTES = 1 << 20
CHECKSUMS_FILE = "SHA256SUMS"


@dataclass(frozen=True)
class FileDigest:
    rows: int
    bytes: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "bytes": self.bytes, "sha256": self.sha256}


class HashedFile:
    """A new file; ``write`` adds bytes, ``digest`` says what was written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO = path.open("xb", buffering=BUFFER_BYTES)
        self._hash = hashlib.sha256()
        self.rows = 0
        self.bytes = 0

    def write(self, data: bytes, rows: int = 1) -> None:
        self._file.write(data)
        self._hash.update(data)
        self.rows += rows
        self.bytes += len(data)

    def write_json_line(self, row: Any) -> None:
        line = json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
        self.write(line.encode())

    def digest(self) -> FileDigest:
        return FileDigest(self.rows, self.bytes, self._hash.hexdigest())

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def checksums_write(folder: Path, files: dict[str, FileDigest]) -> str:
    """Write ``SHA256SUMS`` (the ``sha256sum`` format) and return its digest."""
    text = "".join(f"{files[name].sha256}  {name}\n" for name in sorted(files))
    data = text.encode()
    (folder / CHECKSUMS_FILE).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    """The digest of a file on disk, read in blocks (for checks and tests)."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(BUFFER_BYTES):
            digest.update(block)
    return digest.hexdigest()
