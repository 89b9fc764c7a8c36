from review.models.evidence import EvidenceSpan
from review.models.reviews import Decision, Review
from review.models.stats import LabelWeekStats, ReviewWeekStats, StatsRefresh
from review.models.tasks import ReviewTask

__all__ = [
    "Decision",
    "EvidenceSpan",
    "LabelWeekStats",
    "Review",
    "ReviewTask",
    "ReviewWeekStats",
    "StatsRefresh",
]
