"""Background work of the review app: adapters that call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task  # routed to the default queue (coding_app.celery)
def stats_refresh_task() -> None:
    from review.stats.rollup import refresh_started, stats_refresh

    refresh_started()
    stats_refresh()
