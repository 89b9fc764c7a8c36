"""compose.yaml points at things that exist, so it cannot rot unnoticed."""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import get_commands

from coding_app.celery import QUEUES

BASE_DIR = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((BASE_DIR / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]


def command_of(service: str) -> list[str]:
    command = SERVICES[service]["command"]
    if isinstance(command, str):
        return shlex.split(command)
    if command[:2] == ["sh", "-c"]:
        return shlex.split(command[2])
    return list(command)


def option(command: list[str], name: str) -> str:
    for index, word in enumerate(command):
        if word == name:
            return command[index + 1]
        if word.startswith(f"{name}="):
            return word.split("=", 1)[1]
    raise AssertionError(f"{name} missing from {command}")


def test_the_services_of_the_design_are_all_there() -> None:
    assert set(SERVICES) == {
        "postgres",
        "redis",
        "migrate",
        "web",
        "worker",
        "gpu-worker",
        "beat",
        "vllm",
    }


@pytest.mark.parametrize("service", ["worker", "gpu-worker", "beat"])
def test_celery_commands_name_the_real_app_and_queues(service: str) -> None:
    command = command_of(service)
    assert command[0] == "celery"
    module = importlib.import_module(option(command, "--app"))
    assert module.celery_app.main == "coding_app"
    if "worker" in command:
        assert set(option(command, "--queues").split(",")) <= set(QUEUES)


def test_the_gpu_worker_serves_inference_and_training_one_task_at_a_time() -> None:
    command = command_of("gpu-worker")
    assert set(option(command, "--queues").split(",")) == {"inference", "training"}
    assert option(command, "--concurrency") == "1"
    devices = SERVICES["gpu-worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia"


def test_the_web_server_loads_the_real_wsgi_application() -> None:
    command = command_of("web")
    assert command[0] == "gunicorn"
    module_name, attribute = command[1].split(":")
    assert hasattr(importlib.import_module(module_name), attribute)
    assert "migrate" not in " ".join(command)


def test_migrations_run_once_in_their_own_service_before_the_app() -> None:
    words = [word for word in command_of("migrate") if word not in {"&&"}]
    commands = [words[i + 1] for i, word in enumerate(words) if word == "manage.py"]
    assert commands == ["preflight", "migrate"]
    assert set(commands) <= set(get_commands())
    for service in ("web", "worker", "gpu-worker", "beat"):
        depends = SERVICES[service]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_the_app_services_use_the_real_settings_module_and_production_mode() -> None:
    for service in ("migrate", "web", "worker", "gpu-worker", "beat"):
        environment = SERVICES[service]["environment"]
        importlib.import_module(environment["DJANGO_SETTINGS_MODULE"])
        assert environment["DEBUG"] == "false"
        assert environment["REDIS_URL"].startswith("redis://redis:")
        assert environment["DATABASE_URL"].startswith("postgresql://")


def test_postgres_keeps_its_data_and_reports_health() -> None:
    postgres = SERVICES["postgres"]
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_vllm_serves_with_run_time_lora_loading() -> None:
    vllm = SERVICES["vllm"]
    assert "--enable-lora" in vllm["command"]
    assert vllm["environment"]["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] == "True"


def test_every_path_the_dockerfile_copies_exists() -> None:
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    for sources in re.findall(r"^COPY (.+) \S+$", dockerfile, flags=re.MULTILINE):
        for source in sources.split():
            assert (BASE_DIR / source).exists(), source
