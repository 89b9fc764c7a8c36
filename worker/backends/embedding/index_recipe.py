"""What a billable code is embedded as, and the name of an index of them.

Recipe (``INDEX_RECIPE``): every billable code gets one vector for its
description and one for each inclusion term, and a code's similarity to a
sentence is the best of its vectors (max-pooling). Measured on the CodiEsp
train split (500 notes, the note's sentences against all 74,719 billable
codes of the April 2026 release, a code scored by its best sentence), gold
codes found in the top 10 / top 30:

- description only                       11.9 % / 18.9 %
- mean of description and terms           11.5 % / 18.5 %
- max over description and terms (kept)   12.9 % / 20.4 %

Averaging blurs a precise description with loose synonyms; taking the best
lets "Diabetes, type 2" and "Type 2 diabetes mellitus" each match their own
wording. It costs ~11 % more rows (8,560 terms) and one scatter-max a note.

An index is named by release key, encoder name and a digest of everything
that went into it (recipe, encoder, release, each code and its texts), so a
new release, encoder or wording is a new index and never a stale one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from coding_app.codes.entry import CodeEntry

INDEX_RECIPE = "desc+terms-maxpool-v1"


def code_index_texts(entry: CodeEntry) -> list[str]:
    """What one code is embedded as: its description, then its terms."""
    texts = [entry.description.strip()]
    texts.extend(t.strip() for t in entry.inclusion_terms if t.strip() and t.strip() != texts[0])
    return [t for t in texts if t] or [entry.dotted]


def billable_entries(entries: Iterable[CodeEntry]) -> list[CodeEntry]:
    """The billable ones among ``entries``, in their order; at least one."""
    billable = [e for e in entries if e.billable]
    if not billable:
        raise ValueError("The code index needs at least one billable code; none were given")
    return billable


def index_digest(billable: list[CodeEntry], encoder_name: str, release_key: str) -> str:
    digest = hashlib.sha256(f"{INDEX_RECIPE}\0{encoder_name}\0{release_key}".encode())
    for entry in billable:
        digest.update("\0".join([entry.code, *code_index_texts(entry), "\n"]).encode())
    return digest.hexdigest()


def cache_stem(encoder_name: str, release_key: str, digest: str) -> str:
    """The cache file name without suffix: readable parts, then the digest
    that keeps two names slugged alike (``a/b`` and ``a-b``) apart."""
    return f"code-index-{_slug(release_key)}-{_slug(encoder_name)}-{digest[:16]}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._]+", "-", text).strip("-.")[:48] or "x"
