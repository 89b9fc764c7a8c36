"""Per-coder figures and the rubber-stamp flag."""

from __future__ import annotations

from collections.abc import Callable

from coding_app.accounts.roles import Role
from coding_app.models import User
from review.stats.coders import coder_profiles
from review.stats.filters import StatsFilter
from tests.review.stats_support import note_with, review_submit

CODES = ["E1165", "I10", "E119"]


def test_fast_acceptance_overturned_by_the_second_coder_is_flagged(
    make_user: Callable[..., User],
) -> None:
    hasty, careful = make_user(Role.CODER), make_user(Role.CODER)
    for i in range(2):
        note = note_with(CODES, prefix=f"stamp{i}")
        review_submit(note, hasty, slot=1, seconds=3)  # 1 s a code, all accepted
        review_submit(note, careful, {"I10": "reject"}, slot=2, seconds=60)
    alone = note_with(CODES, prefix="alone")
    review_submit(alone, hasty, seconds=9, added=["J449"])
    rows = {row["email"]: row for row in coder_profiles(StatsFilter())}
    fast, slow = rows[hasty.email], rows[careful.email]
    assert (fast["reviews"], fast["suggested"], fast["accepted"], fast["added"]) == (3, 9, 9, 1)
    assert fast["median_seconds"] == 3.0
    assert (fast["double_coded"], fast["rubber_stamps"], fast["rubber_stamp_flag"]) == (2, 2, True)
    assert fast["added_per_note"] == 1 / 3
    assert (slow["reviews"], slow["accepted"], slow["rejected"]) == (2, 4, 2)
    assert slow["rejected_share"] == 2 / 6
    assert (slow["rubber_stamps"], slow["rubber_stamp_flag"]) == (0, False)


def test_slow_or_confirmed_acceptance_is_not_a_rubber_stamp(
    make_user: Callable[..., User],
) -> None:
    steady, other = make_user(Role.CODER), make_user(Role.CODER)
    for i in range(3):
        overturned = note_with(CODES, prefix=f"slow{i}")
        review_submit(overturned, steady, slot=1, seconds=90)
        review_submit(overturned, other, {"E119": "E1169"}, slot=2, seconds=90)
        confirmed = note_with(CODES, prefix=f"same{i}")
        review_submit(confirmed, steady, slot=1, seconds=2)
        review_submit(confirmed, other, slot=2, seconds=2)
    rows = {row["email"]: row for row in coder_profiles(StatsFilter())}
    assert rows[steady.email]["double_coded"] == 6
    assert rows[steady.email]["rubber_stamps"] == 0
    assert rows[other.email]["edited"] == 3
