"""The rollups: refreshed after submissions, once per burst, read by the pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import redis
from django.core.cache import cache

from coding_app.accounts.roles import Role
from coding_app.celery import app
from coding_app.models import User
from review.desk.decisions import DecisionInput, decide, review_submit
from review.desk.queue import lease_next
from review.models import StatsRefresh
from review.stats.filters import StatsFilter, stats_filter
from review.stats.rollup import KEEP, QUEUED_KEY, figures_for, stats_refresh
from review.tasks import stats_refresh_task
from tests.review.conftest import MakeNotes
from tests.review.stats_support import MONDAY, note_with
from tests.review.stats_support import review_submit as submitted


def _default_queue_length() -> int:
    broker = redis.Redis.from_url(app.conf.broker_url)
    return int(broker.llen("default"))


def test_submissions_ask_for_one_refresh_that_counts_them(
    make_user: Callable[..., User],
    make_notes: MakeNotes,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0
    coder = make_user(Role.CODER)
    make_notes(2, codes=["I10"])
    cache.delete(QUEUED_KEY)
    # A session worker, if one runs, must not take the refresh off the queue
    # before it is counted: it stops consuming `default` for this test.
    app.control.cancel_consumer("default", reply=True, timeout=2)
    app.control.purge()
    for _ in range(2):
        review = lease_next(coder)
        assert review is not None
        suggestion = review.prediction.suggestions.get()
        decide(
            review_id=review.pk,
            coder=coder,
            suggestion_id=suggestion.pk,
            choice=DecisionInput(action="accept"),
        )
        with django_capture_on_commit_callbacks(execute=True):
            review_submit(review_id=review.pk, coder=coder)
    try:
        assert _default_queue_length() == 1  # two submissions, one refresh
    finally:
        app.control.purge()
        app.control.add_consumer("default", reply=True, timeout=2)
    stats_refresh_task()  # what the worker runs
    refresh = StatsRefresh.objects.latest()
    assert (refresh.reviews, refresh.decisions) == (2, 2)
    assert cache.get(QUEUED_KEY) is None  # the next submission asks again


def test_pages_read_the_refresh_and_a_date_range_is_computed_now(
    make_user: Callable[..., User],
) -> None:
    first, second = make_user(Role.CODER), make_user(Role.CODER)
    note = note_with(["E1165", "I10"], prefix="fresh")
    submitted(note, first, slot=1)
    submitted(note, second, {"I10": "reject"}, slot=2)
    refresh = stats_refresh()
    shown = figures_for(StatsFilter())
    assert shown == refresh.precomputed["all"]
    assert shown["coder_agreement"]["notes"] == 1
    version = note.predictions.get().model_version_id
    assert f"version:{version}" in refresh.precomputed
    later = note_with(["E1165"], prefix="later")
    submitted(later, first, slot=1, at=MONDAY + dt.timedelta(days=1))
    submitted(later, second, slot=2, at=MONDAY + dt.timedelta(days=1))
    assert figures_for(StatsFilter())["coder_agreement"]["notes"] == 1  # until the next refresh
    dated = figures_for(stats_filter(since=MONDAY.date()))
    assert dated["coder_agreement"]["notes"] == 2


def test_only_the_latest_refreshes_are_kept(db: None) -> None:
    for _ in range(KEEP + 2):
        stats_refresh()
    assert StatsRefresh.objects.count() == KEEP


def test_a_submission_is_kept_when_redis_cannot_queue_the_refresh(
    make_user: Callable[..., User],
    make_notes: MakeNotes,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    caplog: Any,
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0
    coder = make_user(Role.CODER)
    make_notes(1, codes=["I10"])
    review = lease_next(coder)
    assert review is not None
    suggestion = review.prediction.suggestions.get()
    decide(
        review_id=review.pk,
        coder=coder,
        suggestion_id=suggestion.pk,
        choice=DecisionInput(action="accept"),
    )
    # Nothing listens on port 1: the cache (and so the refresh) is away.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with django_capture_on_commit_callbacks(execute=True):
        review_submit(review_id=review.pk, coder=coder)
    review.refresh_from_db()
    assert review.status == review.Status.SUBMITTED
    assert "Could not queue a statistics refresh" in caplog.text
