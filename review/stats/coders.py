"""Each coder's work: how much, how fast, how they decide, and whether they
rubber-stamp.

A rubber stamp is a submitted review that accepted every suggestion faster
than ``FAST_SECONDS_PER_CODE`` seconds a code, on a double-coded note where
the other coder rejected or replaced at least one of those suggestions. A
coder is flagged when at least ``FLAG_MIN_STAMPS`` of their reviews are
rubber stamps and they make up ``FLAG_MIN_SHARE`` of their double-coded
reviews or more: one hurried note is chance, a habit is a pattern worth a
conversation.
"""

from __future__ import annotations

from typing import Any

from review.stats.filters import StatsFilter
from review.stats.sql import fetch_dicts, ratio

FAST_SECONDS_PER_CODE = 5.0
FLAG_MIN_STAMPS = 2
FLAG_MIN_SHARE = 0.2


def _sql(stats_filter: StatsFilter) -> tuple[str, dict[str, Any]]:
    where, params = stats_filter.where("r")
    sql = f"""
        WITH rv AS MATERIALIZED (
            SELECT r.id, r.coder_id, r.seconds_on_task, t.prediction_id, t.slot
            FROM review_review r JOIN review_reviewtask t ON t.id = r.task_id
            WHERE {where}
        ),
        per_review AS (
            SELECT rv.id, rv.coder_id, rv.seconds_on_task, rv.prediction_id, rv.slot,
                   count(d.suggestion_id) AS suggested,
                   count(*) FILTER (WHERE d.action = 'accept') AS accepted,
                   count(*) FILTER (WHERE d.action = 'replace') AS edited,
                   count(*) FILTER (WHERE d.action = 'reject') AS rejected,
                   count(*) FILTER (WHERE d.action = 'add') AS added
            FROM rv LEFT JOIN review_decision d ON d.review_id = rv.id
            GROUP BY rv.id, rv.coder_id, rv.seconds_on_task, rv.prediction_id, rv.slot
        ),
        -- On double-coded notes: did a coder of that slot reject or replace
        -- any suggestion? (Both slots, whatever the filter: the other coder's
        -- review may fall outside the range.)
        slot_changed AS (
            SELECT t.prediction_id, t.slot,
                   bool_or(d.suggestion_id IS NOT NULL AND d.action <> 'accept') AS changed
            FROM review_reviewtask t
            JOIN review_review o ON o.task_id = t.id AND o.status = 'submitted'
            JOIN review_decision d ON d.review_id = o.id
            WHERE t.double_coded
            GROUP BY t.prediction_id, t.slot
        ),
        judged AS (
            SELECT p.*, other.prediction_id IS NOT NULL AS double_coded,
                   coalesce(other.changed, FALSE) AS overturned
            FROM per_review p
            LEFT JOIN slot_changed other
                ON other.prediction_id = p.prediction_id AND other.slot = 3 - p.slot
        )
        SELECT j.coder_id, u.email, count(*) AS reviews,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY j.seconds_on_task) AS median_seconds,
               sum(j.suggested)::bigint AS suggested, sum(j.accepted)::bigint AS accepted,
               sum(j.edited)::bigint AS edited, sum(j.rejected)::bigint AS rejected,
               sum(j.added)::bigint AS added,
               count(*) FILTER (WHERE j.double_coded) AS double_coded,
               count(*) FILTER (
                   WHERE j.overturned AND j.suggested > 0 AND j.accepted = j.suggested
                     AND j.seconds_on_task < %(fast)s * j.suggested
               ) AS rubber_stamps
        FROM judged j JOIN coding_app_user u ON u.id = j.coder_id
        GROUP BY j.coder_id, u.email
        ORDER BY u.email
    """
    return sql, {**params, "fast": FAST_SECONDS_PER_CODE}


def coder_profiles(stats_filter: StatsFilter) -> list[dict[str, Any]]:
    """One row per coder with submitted reviews under the filter."""
    rows = []
    for row in fetch_dicts(*_sql(stats_filter)):
        counts = {
            name: int(row[name])
            for name in (
                "reviews",
                "suggested",
                "accepted",
                "edited",
                "rejected",
                "added",
                "double_coded",
                "rubber_stamps",
            )
        }
        stamps = counts["rubber_stamps"]
        rows.append(
            {
                "coder_id": row["coder_id"],
                "email": row["email"],
                **counts,
                "median_seconds": float(row["median_seconds"] or 0.0),
                "accepted_share": ratio(counts["accepted"], counts["suggested"]),
                "edited_share": ratio(counts["edited"], counts["suggested"]),
                "rejected_share": ratio(counts["rejected"], counts["suggested"]),
                "added_per_note": ratio(counts["added"], counts["reviews"]),
                "rubber_stamp_share": ratio(stamps, counts["double_coded"]),
                "rubber_stamp_flag": stamps >= FLAG_MIN_STAMPS
                and ratio(stamps, counts["double_coded"]) >= FLAG_MIN_SHARE,
            }
        )
    return rows
