"""Which side of the data a note falls on, decided by its id alone.

A note's bucket is a hash of its primary key, so it never changes between
exports, and a note never lands on two sides whatever the filters:

- ``holdout`` (10 %): the frozen evaluation set; no training export ever
  contains it, and every training run is evaluated on it.
- ``validation`` (10 %): the validation split of training exports.
- ``train`` (80 %): the training split.

The salt is fixed: changing it would move notes between sides and leak the
held-out set into training, so it is part of the data format.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

SPLIT_SALT = "coding-desk-split-v1"
BUCKETS = 1000
HOLDOUT_BELOW = 100
VALIDATION_BELOW = 200


class Split(StrEnum):
    TRAIN = "train"
    VALIDATION = "validation"
    HOLDOUT = "holdout"


def note_bucket(note_id: int) -> int:
    """A number in [0, 1000) fixed for ``note_id``."""
    digest = hashlib.sha256(f"{SPLIT_SALT}:{note_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def note_split(note_id: int) -> Split:
    bucket = note_bucket(note_id)
    if bucket < HOLDOUT_BELOW:
        return Split.HOLDOUT
    if bucket < VALIDATION_BELOW:
        return Split.VALIDATION
    return Split.TRAIN
