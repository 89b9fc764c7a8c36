"""Weekly rollups of the submitted reviews, which the statistics pages read.

Counting agreement over a million decisions means set operations per review
and label: seconds of work that a page cannot wait for. ``stats_refresh``
(review.stats.rollup) recomputes these tables from the reviews in one
transaction, in the background after submissions; the pages then sum a few
hundred thousand rollup rows at most. The tables are derived data: they
may be dropped and refreshed at any time.
"""

from __future__ import annotations

from django.db import models


class LabelWeekStats(models.Model):
    """One label at one level, for the reviews of one model version submitted
    in one week: how often the model and the coder agreed on it.

    ``tp``, ``fp`` and ``fn`` count reviews where both sides, only the model
    or only the coder had the label. On ``code`` rows the outcome counts say
    what became of the suggestions of that code and how often coders added
    it; other levels leave them 0.
    """

    version_id = models.IntegerField()
    week = models.DateField()
    level = models.CharField(max_length=8)
    label = models.CharField(max_length=60)
    chapter = models.CharField(max_length=8, blank=True)
    tp = models.IntegerField(default=0)
    fp = models.IntegerField(default=0)
    fn = models.IntegerField(default=0)
    suggested = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    replaced_more_specific = models.IntegerField(default=0)
    replaced_less_specific = models.IntegerField(default=0)
    replaced_sibling = models.IntegerField(default=0)
    replaced_elsewhere = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)
    added = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["level", "version_id", "week", "label"], name="label_week_stats_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.label} v{self.version_id} {self.week}"


class ReviewWeekStats(models.Model):
    """How many reviews of one model version were submitted in one week."""

    version_id = models.IntegerField()
    week = models.DateField()
    reviews = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version_id", "week"], name="review_week_stats_unique")
        ]

    def __str__(self) -> str:
        return f"v{self.version_id} {self.week}: {self.reviews} reviews"


class StatsRefresh(models.Model):
    """One recomputation of the rollups: when, over how much, how long."""

    finished_at = models.DateTimeField()
    reviews = models.IntegerField()
    decisions = models.IntegerField()
    seconds = models.FloatField()
    time_zone = models.CharField(max_length=64)
    # Figures that need each note's code sets (coder agreement with its
    # bootstrap, coder profiles), computed for the views without a date
    # range: "all" and "version:<id>", each {"coder_agreement", "coders"}.
    precomputed = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-finished_at", "-pk"]
        get_latest_by = "finished_at"

    def __str__(self) -> str:
        return f"Statistics as of {self.finished_at:%Y-%m-%d %H:%M}"
