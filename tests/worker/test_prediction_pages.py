"""The admin's prediction-job pages: start, watch, cancel; nobody else gets in."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client
from django.urls import reverse

from coding_app.accounts.roles import Role
from coding_app.models import User
from worker.models import ModelVersion, PredictionJob, UploadBatch
from worker.predictions.services import prediction_chunk_run, prediction_job_create
from worker.registry.versions import zero_shot_version_ensure

MakeBatch = Callable[..., UploadBatch]
LoginAs = Callable[[Role], User]


def test_only_admins_reach_the_job_pages(client: Client, login_as: LoginAs) -> None:
    login_as(Role.CODER)
    assert client.get(reverse("worker:jobs")).status_code == 403
    assert client.post(reverse("worker:jobs"), {}).status_code == 403


def test_the_form_offers_the_active_version_and_not_retired_ones(
    client: Client, login_as: LoginAs
) -> None:
    active = zero_shot_version_ensure()
    ModelVersion.objects.create(
        name="old-head", backend="embedding", base_model="x", status="retired"
    )
    login_as(Role.ADMIN)
    html = client.get(reverse("worker:jobs")).content.decode()
    assert f'<option value="{active.pk}" selected>' in html
    assert "old-head" not in html
    assert "All notes without a prediction from this model" in html


def test_starting_a_job_for_an_upload_leads_to_its_page(
    client: Client, login_as: LoginAs, clinical_batch: MakeBatch
) -> None:
    version = zero_shot_version_ensure()
    batch = clinical_batch(5)
    login_as(Role.ADMIN)
    response = client.post(
        reverse("worker:jobs"),
        {"model_version": version.pk, "batch": batch.pk, "chunk_size": 2},
    )
    job = PredictionJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("worker:job_detail", args=[job.pk])
    assert (job.batch, job.notes_total, job.chunks_total) == (batch, 5, 3)
    page = client.get(response["Location"]).content.decode()
    assert "0 of 5 notes" in page
    assert 'hx-trigger="every 2s"' in page


def test_a_job_with_nothing_to_do_is_refused_with_the_reason(
    client: Client, login_as: LoginAs, clinical_batch: MakeBatch
) -> None:
    version = zero_shot_version_ensure()
    batch = clinical_batch(1)
    for chunk in prediction_job_create(version=version, batch=batch).chunks.all():
        prediction_chunk_run(chunk.pk)
    login_as(Role.ADMIN)
    response = client.post(
        reverse("worker:jobs"), {"model_version": version.pk, "batch": batch.pk, "chunk_size": 50}
    )
    assert response.status_code == 400
    assert "already has a prediction from minilm-zero-shot" in response.content.decode()
    assert PredictionJob.objects.count() == 1


def test_a_chunk_size_out_of_range_is_refused(client: Client, login_as: LoginAs) -> None:
    version = zero_shot_version_ensure()
    login_as(Role.ADMIN)
    response = client.post(
        reverse("worker:jobs"), {"model_version": version.pk, "chunk_size": 5000}
    )
    assert response.status_code == 400
    assert "less than or equal to 1000" in response.content.decode()


def test_progress_stops_polling_when_the_job_is_over(
    client: Client, login_as: LoginAs, clinical_batch: MakeBatch
) -> None:
    job = prediction_job_create(version=zero_shot_version_ensure(), batch=clinical_batch(3))
    login_as(Role.ADMIN)
    url = reverse("worker:job_progress", args=[job.pk])
    running = client.get(url)
    assert running.status_code == 200
    for chunk in job.chunks.all():
        prediction_chunk_run(chunk.pk)
    done = client.get(url)
    html = done.content.decode()
    assert done.status_code == 286  # htmx: swap this in and stop polling
    assert "Done" in html
    assert "3 of 3 notes" in html
    assert "hx-trigger" not in html


def test_cancelling_from_the_page(
    client: Client, login_as: LoginAs, clinical_batch: MakeBatch
) -> None:
    job = prediction_job_create(version=zero_shot_version_ensure(), batch=clinical_batch(2))
    login_as(Role.ADMIN)
    response = client.post(reverse("worker:job_cancel", args=[job.pk]), follow=True)
    job.refresh_from_db()
    assert job.status == PredictionJob.Status.CANCELLED
    assert f"Job {job.pk} is cancelled" in response.content.decode()
    assert client.get(reverse("worker:job_cancel", args=[job.pk])).status_code == 405


def test_the_note_page_highlights_the_evidence_and_escapes_what_the_model_wrote(
    client: Client, login_as: LoginAs, clinical_batch: MakeBatch
) -> None:
    from worker.models import Prediction

    version = zero_shot_version_ensure()
    batch = clinical_batch(1)
    job = prediction_job_create(version=version, batch=batch)
    prediction_chunk_run(job.chunks.get().pk)
    prediction = Prediction.objects.get(job=job)
    Prediction.objects.filter(pk=prediction.pk).update(raw_output="<script>alert(1)</script>")
    suggestion = prediction.suggestions.order_by("rank").first()
    assert suggestion is not None
    login_as(Role.ADMIN)
    job_page = client.get(reverse("worker:job_detail", args=[job.pk])).content.decode()
    url = reverse("worker:note_detail", args=[prediction.note_id])
    assert f'href="{url}"' in job_page
    html = client.get(url, {"suggestion": suggestion.pk}).content.decode()
    start, end = suggestion.evidence[0]
    assert f"<mark>{prediction.note.text[start:end]}</mark>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
