"""Recompute the weekly rollups (review.models.stats) from the reviews.

One transaction replaces every rollup row, so a page reads either the old
figures or the new ones, never a mix; an advisory lock keeps two refreshes
from running at once. After a submission the desk asks for a refresh
(``stats_refresh_soon``); requests within the same minute share one run.

Coder agreement (with its bootstrap) and the coder profiles need every
note's code sets; the refresh computes them for the views without a date
range (everything, each model version) and keeps them with the refresh, so
those pages answer at once. A date range computes them on demand.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from review.models import ReviewWeekStats, StatsRefresh
from review.stats.coder_agreement import coder_agreement
from review.stats.coders import coder_profiles
from review.stats.filters import StatsFilter
from review.stats.model_vs_coder import OUTCOME_COUNTS_SQL
from review.stats.sql import decision_codes_sql, labelled_sql, release_id, time_zone

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock key: "stats" in ASCII.
REFRESH_LOCK = 0x7374617473
QUEUED_KEY = "review:stats-refresh-queued"
DEBOUNCE_SECONDS = 30
KEEP = 20

REVIEWS = """
    rv AS MATERIALIZED (
        SELECT r.id, r.model_version_id AS version_id,
               date_trunc('week', r.submitted_at AT TIME ZONE %(tz)s)::date AS week
        FROM review_review r
        WHERE r.status = 'submitted'
    )
"""

LABEL_ROWS = f"""
    INSERT INTO review_labelweekstats (
        version_id, week, level, label, chapter, tp, fp, fn, suggested, accepted,
        replaced_more_specific, replaced_less_specific, replaced_sibling,
        replaced_elsewhere, rejected, added
    )
    WITH {REVIEWS},
    codes AS ({decision_codes_sql("rv")}),
    labelled AS ({labelled_sql("codes")}),
    presence AS (
        SELECT l.level, rv.version_id, rv.week, l.label, max(l.chapter) AS chapter,
               bool_or(l.side = 1) AS m, bool_or(l.side = 2) AS h
        FROM labelled l JOIN rv ON rv.id = l.review_id
        GROUP BY l.level, l.review_id, rv.version_id, rv.week, l.label
    ),
    sets AS (
        SELECT level, version_id, week, label, coalesce(max(chapter), '') AS chapter,
               count(*) FILTER (WHERE m AND h) AS tp,
               count(*) FILTER (WHERE m AND NOT h) AS fp,
               count(*) FILTER (WHERE h AND NOT m) AS fn
        FROM presence
        GROUP BY level, version_id, week, label
    ),
    outcome AS (
        SELECT rv.version_id, rv.week, d.code AS label, {OUTCOME_COUNTS_SQL}
        FROM review_decision d JOIN rv ON rv.id = d.review_id
        GROUP BY rv.version_id, rv.week, d.code
    )
    SELECT s.version_id, s.week, s.level, s.label, s.chapter, s.tp, s.fp, s.fn,
           coalesce(o.suggested, 0), coalesce(o.accepted, 0),
           coalesce(o.replaced_more_specific, 0), coalesce(o.replaced_less_specific, 0),
           coalesce(o.replaced_sibling, 0), coalesce(o.replaced_elsewhere, 0),
           coalesce(o.rejected, 0), coalesce(o.added, 0)
    FROM sets s
    LEFT JOIN outcome o
        ON s.level = 'code' AND o.version_id = s.version_id AND o.week = s.week
       AND o.label = s.label
"""

WEEK_ROWS = f"""
    INSERT INTO review_reviewweekstats (version_id, week, reviews)
    WITH {REVIEWS}
    SELECT version_id, week, count(*) FROM rv GROUP BY version_id, week
"""


def stats_refresh() -> StatsRefresh:
    """Replace the rollups with figures from every submitted review now."""
    started = time.perf_counter()
    tz = time_zone()
    params = {"tz": tz, "release_id": release_id()}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK])
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("DELETE FROM review_labelweekstats")
        cursor.execute("DELETE FROM review_reviewweekstats")
        cursor.execute(LABEL_ROWS, params)
        cursor.execute(WEEK_ROWS, params)
        cursor.execute(
            "SELECT (SELECT coalesce(sum(reviews), 0) FROM review_reviewweekstats),"
            " (SELECT count(*) FROM review_decision d JOIN review_review r"
            "  ON r.id = d.review_id AND r.status = 'submitted')"
        )
        reviews, decisions = cursor.fetchone() or (0, 0)
        precomputed = {key: note_level_figures(chosen) for key, chosen in _standard_views()}
        # Only the latest refresh is read; a few are kept to show the history.
        StatsRefresh.objects.filter(
            pk__in=StatsRefresh.objects.order_by("-finished_at", "-pk").values("pk")[KEEP - 1 :]
        ).delete()
        return StatsRefresh.objects.create(
            finished_at=timezone.now(),
            reviews=reviews,
            decisions=decisions,
            seconds=time.perf_counter() - started,
            time_zone=tz,
            precomputed=precomputed,
        )


def _standard_views() -> list[tuple[str, StatsFilter]]:
    """The views without a date range: everything, and each model version."""
    versions = ReviewWeekStats.objects.values_list("version_id", flat=True).distinct()
    return [("all", StatsFilter())] + [
        (view_key(StatsFilter(model_version_id=v)), StatsFilter(model_version_id=v))
        for v in sorted(versions)
    ]


def view_key(chosen: StatsFilter) -> str:
    return "all" if chosen.model_version_id is None else f"version:{chosen.model_version_id}"


def note_level_figures(chosen: StatsFilter) -> dict[str, Any]:
    """The figures read per note rather than from the weekly rollups."""
    return {"coder_agreement": coder_agreement(chosen), "coders": coder_profiles(chosen)}


def figures_for(chosen: StatsFilter) -> dict[str, Any]:
    """Coder agreement and coder profiles for a filter: from the latest
    refresh when it computed this view, computed now otherwise (a date range)."""
    if chosen.since is None and chosen.until is None:
        latest = latest_refresh()
        if latest is not None and view_key(chosen) in latest.precomputed:
            figures: dict[str, Any] = latest.precomputed[view_key(chosen)]
            return figures
    return note_level_figures(chosen)


def stats_refresh_soon() -> None:
    """Ask the default queue for a refresh, unless one is already waiting."""
    from review.tasks import stats_refresh_task

    # Called after the coder's submission has committed: Redis being away
    # must not turn a stored review into an error page. The figures catch up
    # at the next submission or with "Recompute now".
    try:
        if cache.add(QUEUED_KEY, "1", timeout=DEBOUNCE_SECONDS * 4):
            stats_refresh_task.apply_async(countdown=DEBOUNCE_SECONDS)
    except (RedisError, BrokerError) as error:
        logger.warning("Could not queue a statistics refresh: %s", error)


def refresh_started() -> None:
    """A refresh now running covers every request made so far."""
    cache.delete(QUEUED_KEY)


def latest_refresh() -> StatsRefresh | None:
    return StatsRefresh.objects.order_by("-finished_at", "-pk").first()
