"""Celery: routing by task, late acknowledgement where it is safe, a real worker."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from coding_app.accounts.roles import Role
from coding_app.celery import QUEUES, QueueTaskOptions, app, queue_for_task
from coding_app.models import User
from coding_app.tasks import ping
from coding_app.workers import workers_online


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("worker.predictions.tasks.predict_chunk_task", "inference"),
        ("training.tasks.train_run_task", "training"),
        ("training.tasks.evaluate_run_task", "training"),
        ("worker.uploads.tasks.import_upload_task", "default"),
        ("coding_app.tasks.ping", "default"),
    ],
)
def test_tasks_are_routed_to_their_queue_by_name(task_name: str, queue: str) -> None:
    assert queue_for_task(task_name) == queue
    assert app.amqp.router.route({}, task_name)["queue"].name == queue


def test_only_inference_and_training_tasks_are_acknowledged_late() -> None:
    class FakeTask:
        def __init__(self, name: str) -> None:
            self.name = name

    annotate = QueueTaskOptions().annotate
    assert annotate(FakeTask("coding_app.tasks.ping")) is None
    inference = annotate(FakeTask("worker.predictions.tasks.predict_chunk_task"))
    assert inference == {"acks_late": True, "reject_on_worker_lost": True}
    training = annotate(FakeTask("training.tasks.train_run_task"))
    assert training is not None
    assert training["acks_late"] is True
    assert training["time_limit"] > app.conf.task_time_limit


def test_configuration_is_json_only_with_one_task_prefetched() -> None:
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert [queue.name for queue in app.conf.task_queues] == list(QUEUES)


def test_a_task_round_trips_through_a_real_worker_on_redis(celery_worker_process: str) -> None:
    result = ping.delay().get(timeout=30)
    assert result == {"pong": "ok", "hostname": celery_worker_process, "queue": "default"}


def test_the_admin_page_lists_the_running_workers(celery_worker_process: str) -> None:
    workers = {worker.hostname: worker.queues for worker in workers_online(timeout=2.0)}
    assert workers[celery_worker_process] == ["default", "inference", "training"]


def test_the_admin_worker_panel_names_each_worker_and_its_queues(
    celery_worker_process: str, client: Client, login_as: Callable[[Role], User]
) -> None:
    login_as(Role.ADMIN)
    response = client.get("/manage/workers/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<strong>{celery_worker_process}</strong>: default, inference, training" in html
    assert "<html" not in html  # the partial alone, for htmx to swap in
