"""A suggestion's score as a coder reads it: likely, possible or unlikely."""

from __future__ import annotations

import math

import pytest

from review.desk.likelihood import LIKELY_FROM, POSSIBLE_FROM, likelihood

# No query here, but the package's autouse code-set fixture needs the test
# database set up, which only a db test asks for.
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (1.0, "likely"),
        (LIKELY_FROM, "likely"),
        (0.4999, "possible"),
        (POSSIBLE_FROM, "possible"),
        (0.1999, "unlikely"),
        (0.02, "unlikely"),
        (0.0, "unlikely"),
    ],
)
def test_a_calibrated_score_reads_as_its_band(score: float, band: str) -> None:
    found = likelihood(score)
    assert found is not None
    assert found.label == band


def test_the_hover_text_gives_the_percentage_and_the_raw_number() -> None:
    found = likelihood(0.1123)
    assert found is not None
    assert found.explanation == "11 % chance the code is right (model score 0.1123)"


def test_a_tiny_score_is_not_called_zero_percent() -> None:
    found = likelihood(0.003)
    assert found is not None
    assert found.percent == "<1 %"


def test_a_code_without_a_score_has_no_band() -> None:
    assert likelihood(None) is None


@pytest.mark.parametrize("score", [-0.1, 1.5, math.nan, math.inf])
def test_a_score_that_is_not_a_probability_is_refused(score: float) -> None:
    with pytest.raises(ValueError, match=r"lies in \[0, 1\]"):
        likelihood(score)
