"""One entry of an ICD-10-CM release, as every part of the code system sees it.

The release parser produces entries, the ``Code`` table stores them and the
in-memory hierarchy is built from them, so the three can never disagree about
what a code is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models


class CodeKind(models.TextChoices):
    CHAPTER = "chapter", "Chapter"
    BLOCK = "block", "Block"
    CATEGORY = "category", "Category"
    SUBCATEGORY = "subcategory", "Subcategory"
    EXTENDED = "extended", "Extended code"


# Kinds that a coder can write on a claim line (as opposed to the chapter and
# block headings that only group them).
DIAGNOSIS_KINDS = frozenset({CodeKind.CATEGORY, CodeKind.SUBCATEGORY, CodeKind.EXTENDED})


@dataclass(frozen=True, slots=True)
class CodeEntry:
    """A code with its place in the tree and the notes the release gives it.

    ``code`` has no dot and is upper case (``E1165``); ``dotted`` is the form
    coders read (``E11.65``). Chapters are keyed by their number (``4``) and
    blocks by their range (``E08-E13``; a one-category block such as B10 is
    ``B10-B10`` so that it never collides with its category).
    """

    code: str
    dotted: str
    description: str
    kind: CodeKind
    chapter: str
    block: str
    category: str
    parent: str
    billable: bool
    inclusion_terms: tuple[str, ...] = ()
    excludes1: tuple[str, ...] = ()
    excludes2: tuple[str, ...] = ()
    # The 7th characters defined at this node, e.g. {"A": "initial encounter"};
    # empty where the node inherits them or has none.
    seventh_characters: dict[str, str] = field(default_factory=dict)

    @property
    def is_diagnosis(self) -> bool:
        return self.kind in DIAGNOSIS_KINDS
