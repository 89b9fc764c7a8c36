"""Streaming readers, one per file format, that turn bytes into note records.

Readers only parse: each yields an ``IncomingNote`` per row it could read or
a ``RowProblem`` per row it could not, and raises ``FileProblem`` when the
file as a whole is unreadable. The rules about what a good note is live in
``worker.uploads.note_rules``; storing lives in ``worker.uploads.services``.
"""

from worker.importers.records import FileProblem, IncomingNote, RowProblem

__all__ = ["FileProblem", "IncomingNote", "RowProblem"]
