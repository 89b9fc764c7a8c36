"""Issue 13, admin 1: the job page counts failed notes apart from predicted
ones, says why a chunk stopped in words, and an admin retries it there."""

from __future__ import annotations

import re

import pytest
from billiard.exceptions import SoftTimeLimitExceeded
from playwright.sync_api import Page, expect

from coding_app.models import AuditEvent
from tests import admin_browser_support as support
from tests.worker.conftest import ImportFile, clinical_notes_jsonl
from worker.events import WorkerAuditKind
from worker.models import PredictionChunk, PredictionJob
from worker.predictions import services
from worker.predictions.tasks import predict_chunk_task
from worker.registry.versions import zero_shot_version_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

code_tables = support.code_tables
code_set = support.code_set
page = support.page


def test_a_failed_chunk_reads_as_failed_in_words_and_is_retried_from_the_page(
    page: Page, live_server: object, import_file: ImportFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The live server runs in this process: what the job and the retry queue
    # is noted here instead of going to a broker, where the session's worker
    # would predict the chunks this test means to fail.
    queued: list[int] = []
    monkeypatch.setattr(services, "_dispatch", queued.extend)
    batch = import_file("ward.jsonl", clinical_notes_jsonl(6))
    job = services.prediction_job_create(
        version=zero_shot_version_ensure(), batch=batch, chunk_size=3
    )
    first, second = job.chunks.order_by("index")
    assert queued == [first.pk, second.pk]
    queued.clear()

    def too_slow(*args: object, **kwargs: object) -> None:
        raise SoftTimeLimitExceeded()

    with monkeypatch.context() as patch:  # both chunks hit the time limit
        patch.setattr(services, "backend_for", too_slow)
        for chunk in (first, second):
            predict_chunk_task.apply(args=(chunk.pk,))

    support.admin_signed_in(page, str(live_server))
    page.goto(f"{live_server}/notes/predictions/{job.pk}/")
    status = page.locator("#job-status")
    expect(status).to_contain_text("Failed: 0 of 6 notes predicted, 6 failed.")
    bar = page.get_by_role("img", name="0 % predicted, 100 % failed")
    expect(bar).to_be_visible()
    failed = page.locator("table.failed-chunks tbody tr")
    expect(failed).to_have_count(2)
    expect(failed.first).to_contain_text("the chunk took longer than the time limit of 1500 s")
    expect(status).not_to_contain_text("SoftTimeLimitExceeded")
    support.screenshot(page, "admin-job-failed-chunks")

    page.get_by_role("button", name="Retry chunk 1").click()
    expect(page.get_by_role("status")).to_contain_text("1 chunk of 3 notes sent back to the queue.")
    expect(page.locator("table.failed-chunks tbody tr")).to_have_count(1)
    expect(page.locator("#job-status")).to_contain_text(re.compile(r"^\s*Running: 0 of 6"))
    assert queued == [first.pk]
    first.refresh_from_db()
    assert (first.status, first.error) == (PredictionChunk.Status.QUEUED, "")
    assert PredictionJob.objects.get(pk=job.pk).status == PredictionJob.Status.RUNNING
    event = AuditEvent.objects.get(kind=WorkerAuditKind.PREDICTION_CHUNK_RETRIED)
    assert event.payload["chunk_index"] == 0
    support.screenshot(page, "admin-job-chunk-retried")
