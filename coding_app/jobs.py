"""The shape every background job shares, and the view that polls one.

Upload batches, prediction jobs and their chunks (worker), export snapshots
and training runs (training) are all work a Celery task does later: each
waits, runs and ends done, failed or cancelled, with the error it met and
when it started and finished. ``Job`` holds that once; the concrete models
add what their work needs. ``created_at`` is not here: a prediction chunk is
made with its job and has none, and on the others it is the record's own
timestamp (as on a note or a prediction), not part of the job's life.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import HttpResponseStopPolling


class JobStatus(models.TextChoices):
    """Where a background job is: waiting, at work, or over (the last three)."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# A job in one of these never changes status again. Upload batches and export
# snapshots cannot be cancelled today; were one to be, it would be over too.
FINISHED_STATUSES = frozenset({JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED})


class Job(models.Model):
    """A unit of background work: its status, its error, when it ran."""

    # ``Model.Status`` stays the name the code and the templates use.
    Status = JobStatus

    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        """Whether the job has ended (done, failed or cancelled)."""
        return self.status in FINISHED_STATUSES


def poll_response(
    request: HttpRequest,
    template_name: str,
    context: Mapping[str, object],
    *,
    finished: bool,
) -> HttpResponse:
    """The fragment a page polls (``hx-trigger="every 2s"``) for a job.

    Once the job is finished the same fragment comes with htmx's stop-polling
    status (286): htmx swaps in the final state and stops asking.
    """
    response = render(request, template_name, context)
    if finished:
        return HttpResponseStopPolling(response.content)
    return response
