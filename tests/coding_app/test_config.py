"""Settings come from the environment; bad values stop start-up with one line."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from coding_app.config import ConfigError, parse_database_url, parse_redis_url
from coding_app.launcher.preflight import database_problem, redis_problem

BASE_DIR = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env_overrides: str) -> subprocess.CompletedProcess[str]:
    # The browser tests allow async-unsafe ORM calls in this process; a
    # deployment never does, and check --deploy says so.
    dropped = {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env() -> dict[str, str]:
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50)[:50],
        "ALLOWED_HOSTS": "example.org",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": os.environ["REDIS_URL"],
    }


def test_production_settings_pass_the_deployment_checklist() -> None:
    result = run_manage("check", "--deploy", **production_env())
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_development_settings_load_without_any_variables() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DEBUG, settings.DATABASES['default']['HOST'], settings.REDIS.url)",
        ],
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "coding_app.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "127.0.0.1", "redis://127.0.0.1:6379/0"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "mysql://db/desk", "DATABASE_URL must start with postgresql://"),
        ("DATABASE_URL", "postgresql://db:notaport/desk", "DATABASE_URL has a port"),
        ("DATABASE_URL", "postgresql://db:5432/", "DATABASE_URL names no database"),
        ("REDIS_URL", "http://cache:6379", "REDIS_URL must start with redis://"),
        ("REDIS_URL", "redis://cache:6379/zero", "REDIS_URL has a database number"),
        ("SECRET_KEY", "short", "SECRET_KEY is 5 characters long"),
        ("ALLOWED_HOSTS", "", "ALLOWED_HOSTS is not set"),
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(
    variable: str, value: str, message: str
) -> None:
    env = production_env()
    env[variable] = value
    result = run_manage("check", **env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("Configuration error: ")
    assert message in result.stderr


def test_production_refuses_to_start_without_service_urls() -> None:
    env = production_env()
    del env["REDIS_URL"]
    result = run_manage("check", **{**env, "REDIS_URL": ""})
    assert result.returncode == 2
    assert "REDIS_URL is not set" in result.stderr


def test_a_server_that_does_not_answer_is_named_in_one_line() -> None:
    result = run_manage(
        "preflight",
        DATABASE_URL="postgresql://postgres@127.0.0.1:1/desk",
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "DATABASE_URL: cannot use PostgreSQL at 127.0.0.1" in lines[0]
    assert "REDIS_URL: cannot reach Redis" in lines[0]


def test_preflight_passes_against_the_real_services() -> None:
    assert database_problem(parse_database_url(os.environ["DATABASE_URL"])) is None
    assert redis_problem(parse_redis_url(os.environ["REDIS_URL"])) is None


def test_socket_urls_of_the_embedded_services_are_understood() -> None:
    database = parse_database_url("postgresql://postgres:@/postgres?host=/data/pg")
    assert (database.host, database.name, database.user) == ("/data/pg", "postgres", "postgres")
    redis = parse_redis_url("unix:///tmp/r/redis.socket?db=2")
    assert redis.celery_url == "redis+socket:///tmp/r/redis.socket?virtual_host=2"
    assert parse_redis_url("redis://h:6379/3").celery_url == "redis://h:6379/3"


def test_config_errors_name_the_variable_they_came_from() -> None:
    with pytest.raises(ConfigError, match=r"^BROKER must start with"):
        parse_redis_url("", variable="BROKER")
