"""The model against coders, on hand-made reviews with figures worked out by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from coding_app.accounts.roles import Role
from coding_app.codes.metrics import Level, level_scores
from coding_app.codes.store import current_hierarchy
from coding_app.models import User
from review.stats.breakdown import BreakdownQuery, breakdown
from review.stats.filters import StatsFilter, StatsFilterError, stats_filter
from review.stats.model_vs_coder import model_vs_coders
from review.stats.rollup import stats_refresh
from tests.review.stats_support import MONDAY, note_with, review_submit
from worker.models import ModelVersion
from worker.registry.versions import zero_shot_version_ensure

# No module-wide django_db mark: it would open the test transaction before
# the code set is loaded (tests/review/conftest.py), reloading it every test.
NEXT_WEEK = MONDAY + dt.timedelta(days=7)


@pytest.fixture
def reviewed(make_user: Callable[..., User]) -> dict[str, ModelVersion]:
    """Two reviews of version 1 in one week, one of version 2 the next week.

    Note 1, model E11.65, I10, E11.9: E11.65 replaced by its sibling E11.69,
    I10 accepted, E11.9 rejected, J44.9 added. Note 2, model I21, E11.641:
    I21 replaced by the more specific I21.4, E11.641 by the less specific
    E11.64. Note 3 (version 2), model I10: accepted.
    """
    first = zero_shot_version_ensure()
    second = ModelVersion.objects.create(name="v2", backend="embedding", base_model="x")
    coder = make_user(Role.CODER)
    one = note_with(["E1165", "I10", "E119"], version=first, prefix="one")
    review_submit(one, coder, {"E1165": "E1169", "E119": "reject"}, added=["J449"])
    two = note_with(["I21", "E11641"], version=first, prefix="two")
    review_submit(two, coder, {"I21": "I214", "E11641": "E1164"})
    three = note_with(["I10"], version=second, prefix="three")
    review_submit(three, coder, at=NEXT_WEEK)
    stats_refresh()
    return {"first": first, "second": second}


def test_scores_per_version_match_hand_counts_at_three_levels(
    reviewed: dict[str, ModelVersion],
) -> None:
    figures = model_vs_coders(StatsFilter(model_version_id=reviewed["first"].pk))
    levels = figures["overall"]["levels"]
    assert (levels["code"]["tp"], levels["code"]["fp"], levels["code"]["fn"]) == (1, 4, 4)
    assert levels["code"]["precision_micro"] == pytest.approx(0.2)
    assert levels["code"]["recall_micro"] == pytest.approx(0.2)
    assert levels["code"]["f1_macro"] == pytest.approx(1 / 9)
    assert (levels["category"]["tp"], levels["category"]["fp"], levels["category"]["fn"]) == (
        4, 0, 1,
    )  # fmt: skip
    assert levels["category"]["f1_micro"] == pytest.approx(8 / 9)
    assert levels["category"]["precision_macro"] == pytest.approx(3 / 4)
    assert levels["chapter"]["recall_micro"] == pytest.approx(0.8)


def test_scores_equal_the_code_system_metrics_on_the_same_sets(
    reviewed: dict[str, ModelVersion],
) -> None:
    hierarchy = current_hierarchy()
    model = [{"E1165", "I10", "E119"}, {"I21", "E11641"}, {"I10"}]
    coder = [{"E1169", "I10", "J449"}, {"I214", "E1164"}, {"I10"}]
    overall = model_vs_coders(StatsFilter())["overall"]["levels"]
    from coding_app.codes.metrics import _label

    for level in Level:
        expected = level_scores(
            [{_label(c, level, hierarchy) for c in codes} for codes in model],
            [{_label(c, level, hierarchy) for c in codes} for codes in coder],
        )
        got = overall[level.value]
        for name in ("precision_micro", "recall_micro", "f1_micro", "precision_macro",
                     "recall_macro", "f1_macro"):  # fmt: skip
            assert got[name] == pytest.approx(getattr(expected, name)), (level, name)


def test_outcome_shares_name_what_coders_did_with_each_suggestion(
    reviewed: dict[str, ModelVersion],
) -> None:
    version = model_vs_coders(StatsFilter(model_version_id=reviewed["first"].pk))["versions"][0]
    counts, shares = version["outcomes"]["counts"], version["outcomes"]["shares"]
    assert counts == {
        "reviews": 2, "suggested": 5, "accepted": 1, "replaced_more_specific": 1,
        "replaced_less_specific": 1, "replaced_sibling": 1, "replaced_elsewhere": 0,
        "rejected": 1, "added": 1, "final": 5,
    }  # fmt: skip
    assert shares["accepted"] == pytest.approx(0.2)
    assert shares["added"] == pytest.approx(0.2)


def test_weeks_and_versions_are_kept_apart(reviewed: dict[str, ModelVersion]) -> None:
    figures = model_vs_coders(StatsFilter())
    weeks = {(w["version_id"], w["week"]) for w in figures["weeks"]}
    assert weeks == {
        (reviewed["first"].pk, MONDAY.date().isoformat()),
        (reviewed["second"].pk, NEXT_WEEK.date().isoformat()),
    }
    second = next(v for v in figures["versions"] if v["version_id"] == reviewed["second"].pk)
    assert second["levels"]["code"]["f1_micro"] == 1.0
    later = model_vs_coders(stats_filter(since=NEXT_WEEK.date()))
    assert later["overall"]["levels"]["code"]["tp"] == 1
    assert later["overall"]["outcomes"]["counts"]["suggested"] == 1


def test_chapter_breakdown_shows_where_the_model_fails(reviewed: dict[str, ModelVersion]) -> None:
    chosen = StatsFilter(model_version_id=reviewed["first"].pk)
    rows = {row["group"]: row for row in breakdown(chosen, BreakdownQuery(sort="group"))}
    assert set(rows) == {"4", "9", "10"}
    assert (rows["4"]["suggested"], rows["4"]["replaced_sibling"], rows["4"]["rejected"],
            rows["4"]["replaced_less_specific"], rows["4"]["tp"], rows["4"]["fp"],
            rows["4"]["fn"]) == (3, 1, 1, 1, 0, 3, 2)  # fmt: skip
    assert (rows["9"]["accepted"], rows["9"]["replaced_more_specific"]) == (1, 1)
    assert rows["9"]["precision"] == pytest.approx(0.5)
    assert (rows["10"]["suggested"], rows["10"]["added"], rows["10"]["fn"]) == (0, 1, 1)
    assert rows["4"]["description"].startswith("Endocrine")


def test_code_breakdown_sorts_and_filters(reviewed: dict[str, ModelVersion]) -> None:
    by_f1 = breakdown(StatsFilter(), BreakdownQuery(by="code", sort="f1"))
    assert (by_f1[0]["group"], by_f1[0]["tp"]) == ("I10", 2)
    diabetes = breakdown(StatsFilter(), BreakdownQuery(by="code", search="E11.6", sort="group",
                                                       descending=False))  # fmt: skip
    assert [row["group"] for row in diabetes] == ["E1164", "E11641", "E1165", "E1169"]
    often = breakdown(StatsFilter(), BreakdownQuery(by="code", min_suggested=2))
    assert [row["group"] for row in often] == ["I10"]
    circulatory = breakdown(StatsFilter(), BreakdownQuery(by="code", chapter="9"))
    assert {row["group"] for row in circulatory} == {"I10", "I21", "I214"}


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"by": "week"}, "by"),
        ({"sort": "drop table"}, "sort"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_breakdown_queries_are_refused_naming_the_field(
    arguments: dict[str, object], named: str
) -> None:
    with pytest.raises(StatsFilterError, match=named):
        # Wrong types on purpose: what the page's query string can hold.
        BreakdownQuery(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("arguments", "named"),
    [({"since": "yesterday"}, "since"), ({"since": "2026-03-09", "until": "2026-03-01"}, "until")],
)
def test_bad_dates_are_refused_naming_the_field(arguments: dict[str, str], named: str) -> None:
    with pytest.raises(StatsFilterError, match=named):
        stats_filter(since=arguments["since"], until=arguments.get("until"))


def test_no_reviews_gives_empty_figures_not_an_error(db: None) -> None:
    stats_refresh()
    figures = model_vs_coders(StatsFilter())
    assert (figures["overall"]["levels"], figures["weeks"]) == ({}, [])
