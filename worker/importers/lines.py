"""Bounded, decoded lines from a binary stream, and gzip by name or magic."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import IO

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"


def maybe_gunzip(stream: IO[bytes], file_name: str) -> IO[bytes]:
    """The stream itself, or its decompressed view when it is gzip."""
    if file_name.lower().endswith(".gz") or _peek(stream, 2) == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    return stream


def _peek(stream: IO[bytes], size: int) -> bytes:
    start = stream.tell()
    head = stream.read(size)
    stream.seek(start)
    return head


def bounded_lines(stream: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """Yield (line number, raw line) with ``None`` for lines over ``limit`` bytes.

    A line longer than the limit is skipped in slices of ``limit`` bytes, so a
    file that is one enormous line never sits in memory whole.
    """
    number = 0
    while True:
        raw = stream.readline(limit + 1)
        if not raw:
            return
        number += 1
        if len(raw) <= limit or raw.endswith(b"\n"):
            yield number, raw
            continue
        while raw and not raw.endswith(b"\n"):
            raw = stream.readline(limit + 1)
        yield number, None


def decode_line(raw: bytes, first: bool) -> str | None:
    """UTF-8 text (a leading byte-order mark dropped), or None if not UTF-8."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text.removeprefix("\ufeff") if first else text


def encoding_reason(raw: bytes) -> str:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return (
            f"is not UTF-8 (byte 0x{raw[error.start]:02x} at position {error.start}); "
            "save the file as UTF-8"
        )
    return "is UTF-8"
