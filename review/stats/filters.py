"""Which reviews the statistics rest on: a model version and a date range."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict
from django.utils import timezone


class StatsFilterError(ValueError):
    """A filter value the statistics cannot use; the message names it."""


@dataclass(frozen=True)
class StatsFilter:
    """Submitted reviews of ``model_version_id`` (any when None) submitted in
    ``[since, until)``; a date means its midnight in the server's time zone."""

    model_version_id: int | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def where(
        self, alias: str = "r", moment: str = "", *, submitted: bool = True
    ) -> tuple[str, dict[str, Any]]:
        """An SQL condition on submitted reviews (table ``alias``) and its
        parameters; the date range applies to ``moment`` (an SQL expression,
        the review's submission by default)."""
        parts = [f"{alias}.status = 'submitted'" if submitted else "TRUE"]
        moment = moment or f"{alias}.submitted_at"
        params: dict[str, Any] = {}
        if self.model_version_id is not None:
            parts.append(f"{alias}.model_version_id = %(model_version_id)s")
            params["model_version_id"] = self.model_version_id
        if self.since is not None:
            parts.append(f"{moment} >= %(since)s")
            params["since"] = self.since
        if self.until is not None:
            parts.append(f"{moment} < %(until)s")
            params["until"] = self.until
        return " AND ".join(parts), params

    def weeks_where(self, alias: str, time_zone: str) -> tuple[str, dict[str, Any]]:
        """An SQL condition on weekly rollup rows (table ``alias``): the weeks
        from the one holding ``since`` to the one holding the range's last
        moment, so a range is widened to whole weeks."""
        parts = ["TRUE"]
        params: dict[str, Any] = {"tz": time_zone}
        if self.model_version_id is not None:
            parts.append(f"{alias}.version_id = %(model_version_id)s")
            params["model_version_id"] = self.model_version_id
        if self.since is not None:
            parts.append(f"{alias}.week >= date_trunc('week', %(since)s AT TIME ZONE %(tz)s)::date")
            params["since"] = self.since
        if self.until is not None:
            parts.append(
                f"{alias}.week <= date_trunc('week', "
                "(%(until)s - interval '1 microsecond') AT TIME ZONE %(tz)s)::date"
            )
            params["until"] = self.until
        return " AND ".join(parts), params

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_version_id": self.model_version_id,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }

    def query_string(self) -> str:
        """The filter as URL parameters, for download links."""
        parts = []
        if self.model_version_id is not None:
            parts.append(f"model_version={self.model_version_id}")
        if self.since is not None:
            parts.append(f"since={self.since.date().isoformat()}")
        if self.until is not None:
            parts.append(f"until={(self.until - dt.timedelta(days=1)).date().isoformat()}")
        return "&".join(parts)


def as_moment(value: object, name: str) -> dt.datetime | None:
    """A date, datetime or ISO text as an aware datetime (None stays None)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value
        try:
            value = dt.datetime.fromisoformat(text) if "T" in text else dt.date.fromisoformat(text)
        except ValueError:
            raise StatsFilterError(f"{name}: “{text[:40]}” is not a date (YYYY-MM-DD).") from None
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if isinstance(value, dt.date):
        return timezone.make_aware(dt.datetime.combine(value, dt.time.min))
    raise StatsFilterError(f"{name}: {type(value).__name__} is not a date.")


def stats_filter(
    *, model_version_id: int | None = None, since: object = None, until: object = None
) -> StatsFilter:
    start, end = as_moment(since, "since"), as_moment(until, "until")
    if start is not None and end is not None and end <= start:
        raise StatsFilterError("until: the end of the range must come after its start.")
    return StatsFilter(model_version_id=model_version_id, since=start, until=end)


def filter_from_query(query: QueryDict) -> StatsFilter:
    """The filter from a page's GET parameters; ``until`` is a day included."""
    raw_version = query.get("model_version", "").strip()
    if raw_version and not raw_version.isdigit():
        raise StatsFilterError(f"model_version: “{raw_version[:20]}” is not a version id.")
    until = as_moment(query.get("until", "").strip(), "until")
    return stats_filter(
        model_version_id=int(raw_version) if raw_version else None,
        since=query.get("since", "").strip(),
        until=until + dt.timedelta(days=1) if until else None,
    )
