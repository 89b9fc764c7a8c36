"""Issue 13, admin 2: ``make run`` starts a worker per queue, one task each,
so an import never waits behind a prediction chunk."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from coding_app.celery import QUEUES
from coding_app.launcher import run


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_each_queue_gets_a_worker_of_its_own_with_one_process() -> None:
    commands = {queue: run.worker_command(queue) for queue in run.WORKER_QUEUES}
    assert set(run.WORKER_QUEUES) == set(QUEUES)
    for queue, command in commands.items():
        assert command[1:5] == ["-m", "celery", "-A", "coding_app"]
        assert option(command, "--queues") == queue
        assert option(command, "--concurrency") == "1"
    hostnames = {option(command, "--hostname") for command in commands.values()}
    assert hostnames == {"desk-default@%h", "desk-inference@%h", "desk-training@%h"}


def test_a_queue_the_desk_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match="'gpu' is not one of the queues"):
        run.worker_command("gpu")


class ExitedProcess:
    """A child that has already ended, so ``serve`` stops at once."""

    pid = 0

    def poll(self) -> int:
        return 1


def test_serve_starts_the_web_server_and_the_three_workers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    started: list[tuple[str, list[str]]] = []

    def start_child(name: str, command: list[str], env: object, log_dir: Path) -> run.Child:
        started.append((name, command))
        log = io.BytesIO()
        log.name = str(log_dir / f"{name}.log")
        return run.Child(name=name, process=ExitedProcess(), log=log)  # type: ignore[arg-type]  # a Popen stand-in: serve only polls it

    monkeypatch.setattr(run, "prepare", lambda *args: {})
    monkeypatch.setattr(run, "start_child", start_child)
    monkeypatch.setattr(run, "wait_until_answering", lambda *args: None)
    with pytest.raises(run.StartupError, match="stopped unexpectedly"):
        run.serve(tmp_path, "127.0.0.1", 8000)
    names = [name for name, _command in started]
    assert names == ["web server", "default worker", "inference worker", "training worker"]
    queues = [option(command, "--queues") for _name, command in started[1:]]
    assert queues == ["default", "inference", "training"]
