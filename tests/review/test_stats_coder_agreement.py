"""Coder against coder: the figures agree with scikit-learn and krippendorff."""

from __future__ import annotations

import random
from collections.abc import Callable

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from coding_app.accounts.roles import Role
from coding_app.codes.metrics import Level, _label
from coding_app.codes.store import current_hierarchy
from coding_app.models import User
from review.desk.decisions import final_codes
from review.models import Review
from review.stats.coder_agreement import alpha_binary, coder_agreement, kappa_binary
from review.stats.filters import StatsFilter
from tests.review.stats_support import note_with, review_submit

SUGGESTED = ["E1165", "I10", "E119", "J449"]
REPLACEMENTS = {"E1165": "E1169", "I10": "I110", "E119": "E1165", "J449": "J441"}
ADDED = ["N179", "J189", "E785"]
NOTES = 24


def _choices(rng: random.Random) -> tuple[dict[str, str], list[str]]:
    choices = {}
    for code in SUGGESTED:
        draw = rng.random()
        if draw > 0.85:
            choices[code] = "reject"
        elif draw > 0.7:
            choices[code] = REPLACEMENTS[code]
    return choices, [code for code in ADDED if rng.random() < 0.25]


@pytest.fixture
def double_coded(make_user: Callable[..., User]) -> list[tuple[Review, Review]]:
    """24 notes, each coded blind by two coders who mostly, not always, agree."""
    rng = random.Random(7)
    first, second = make_user(Role.CODER), make_user(Role.CODER)
    pairs = []
    for i in range(NOTES):
        note = note_with(SUGGESTED, prefix=f"dc{i}")
        choices, added = _choices(rng)
        one = review_submit(note, first, choices, added=added, slot=1)
        if rng.random() < 0.6:  # the second coder often agrees outright
            two = review_submit(note, second, choices, added=added, slot=2)
        else:
            choices, added = _choices(rng)
            two = review_submit(note, second, choices, added=added, slot=2)
        pairs.append((one, two))
    return pairs


def _presence(pairs: list[tuple[Review, Review]], level: Level) -> tuple[list[str], np.ndarray]:
    """Labels and a (2, notes, labels) 0/1 array of who chose what."""
    hierarchy = current_hierarchy()
    sets = [
        [{_label(code, level, hierarchy) for code in final_codes(review)} for review in pair]
        for pair in pairs
    ]
    labels = sorted({label for pair in sets for chosen in pair for label in chosen})
    marks = np.array(
        [[[label in pair[who] for label in labels] for pair in sets] for who in (0, 1)], dtype=int
    )
    return labels, marks


def test_kappa_alpha_and_f1_agree_with_sklearn_and_krippendorff(
    double_coded: list[tuple[Review, Review]],
) -> None:
    figures = coder_agreement(StatsFilter(), resamples=200)
    assert figures["notes"] == NOTES
    for level in Level:
        labels, marks = _presence(double_coded, level)
        got = figures["levels"][level.value]
        assert got["labels"] == len(labels)
        kappas = {row["label"]: row for row in got["kappa"]}
        for index, label in enumerate(labels):
            first, second = marks[0, :, index], marks[1, :, index]
            if len(set(first) | set(second)) == 1:
                assert kappas[label]["value"] is None  # undefined, as sklearn's nan
                continue
            expected = cohen_kappa_score(first, second)
            assert kappas[label]["value"] == pytest.approx(expected, abs=1e-9), (level, label)
            assert kappas[label]["n"] == NOTES
        alpha = krippendorff.alpha(
            reliability_data=marks.reshape(2, -1), level_of_measurement="nominal"
        )
        assert got["alpha"]["value"] == pytest.approx(alpha, abs=1e-9), level
        both = int((marks[0] & marks[1]).sum())
        only = int((marks[0] ^ marks[1]).sum())
        assert got["f1"]["value"] == pytest.approx(2 * both / (2 * both + only)), level


def test_intervals_hold_the_estimate_and_repeat_exactly(
    double_coded: list[tuple[Review, Review]],
) -> None:
    once = coder_agreement(StatsFilter(), resamples=200)
    assert once["levels"]["code"]["kappa"], "the data must give kappas to check"
    again = coder_agreement(StatsFilter(), resamples=200)
    assert once == again  # fixed seed: a page and its download agree
    for level in once["levels"].values():
        for name in ("f1", "alpha"):
            low, high = level[name]["ci95"]
            assert low <= level[name]["value"] <= high
            assert level[name]["n"] == NOTES
        defined = [row["ci95"] for row in level["kappa"] if row["value"] is not None]
        assert any(low < high for low, high in defined)


def test_notes_coded_once_or_twice_by_one_coder_are_not_pairs(
    make_user: Callable[..., User],
) -> None:
    coder = make_user(Role.CODER)
    single = note_with(SUGGESTED, prefix="single")
    review_submit(single, coder)
    same = note_with(SUGGESTED, prefix="same")
    review_submit(same, coder, slot=1)
    review_submit(same, coder, slot=2)
    figures = coder_agreement(StatsFilter(), resamples=10)
    assert figures["notes"] == 0
    assert figures["levels"]["code"]["alpha"]["value"] is None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_binary_formulas_match_the_reference_implementations(seed: int) -> None:
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 2, 60)
    second = np.where(rng.random(60) < 0.8, first, 1 - first)
    both = np.array([float((first & second).sum())])
    only_first = np.array([float((first & (1 - second)).sum())])
    only_second = np.array([float(((1 - first) & second).sum())])
    kappa = kappa_binary(both, only_first, only_second, notes=60.0)[0]
    assert kappa == pytest.approx(cohen_kappa_score(first, second), abs=1e-12)
    alpha = alpha_binary(both, only_first, only_second, 60.0)[0]
    reference = krippendorff.alpha(
        reliability_data=np.vstack([first, second]), level_of_measurement="nominal"
    )
    assert alpha == pytest.approx(reference, abs=1e-12)
