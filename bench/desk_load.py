"""The review desk bench's load, run in the child process: locust's coders.

Locust's ``FastHttpUser`` used as a library. A coder takes the next note,
opens its page, decides on every suggestion with an htmx POST (accept, reject
or replace), and submits; logged in by the session made for it, with the CSRF
token read from the ``csrftoken`` cookie of the desk page. Locust patches
sockets with gevent when imported: this module imports it only inside
``drive``, which runs in the child process alone.
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from desk_fixtures import CODERS

if TYPE_CHECKING:
    from locust.contrib.fasthttp import FastHttpSession

THINK_SECONDS = (0.5, 1.5)
MEASURED = ("paced", "saturated")
WARM_REQUESTS, WARM_LIMIT_SECONDS = 10 * CODERS, 180
VERSION_PATTERN = re.compile(r'id="work" data-version="(\d+)"')
SUGGESTION_PATTERN = re.compile(r'data-suggestion="(\d+)"')


@dataclass
class DriveState:
    """What the simulated coders share: the phase, and what they measured."""

    replacements: list[str]
    server_pid: int
    phase: str = "warm"
    dry: bool = False
    completed: int = 0
    times: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    reviews: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, dict[str, float]] = field(default_factory=dict)

    def record(self, name: str, response_time: float, exception: Any, **_: Any) -> None:
        self.completed += 1
        if exception is not None:
            self.failures.append(f"{self.phase} {name}: {exception}"[:300])
        elif self.phase in MEASURED:
            self.times.setdefault(self.phase, {}).setdefault(name, []).append(response_time)

    def submitted(self) -> None:
        self.reviews[self.phase] = self.reviews.get(self.phase, 0) + 1

    def think(self, rng: random.Random) -> None:
        if self.phase != "saturated":
            # locust patched time.sleep with gevent's: only this coder waits.
            time.sleep(rng.uniform(*THINK_SECONDS))


class DeskCoder:
    """One coder's way through the desk, over one locust HTTP session."""

    def __init__(self, client: FastHttpSession, state: DriveState, session_key: str) -> None:
        from http.cookiejar import Cookie

        self.client, self.state = client, state
        self.rng = random.Random(session_key)
        host = urlsplit(client.base_url or "").hostname or "127.0.0.1"
        client.cookiejar.set_cookie(
            Cookie(
                0,
                "sessionid",
                session_key,
                None,
                False,
                host,
                False,
                False,
                "/",
                True,
                False,
                None,
                True,
                None,
                None,
                {},
            )
        )
        self.csrf = ""

    def start(self) -> None:
        with self._request("GET", "/desk/", "home") as response:
            if response.status_code != 200:
                response.failure(f"desk home answered {response.status_code}")
        tokens = [c.value for c in self.client.cookiejar if c.name == "csrftoken" and c.value]
        if not tokens:
            raise SystemExit("the desk page set no csrftoken cookie")
        self.csrf = tokens[0]

    def review_one(self) -> None:
        from locust.exception import StopUser

        location = self._next_note()
        if location is None:
            self.state.dry = True
            raise StopUser()
        self.state.think(self.rng)
        version, suggestions = self._page(location)
        for suggestion in suggestions:
            self.state.think(self.rng)
            version = self._decide(f"{location}suggestions/{suggestion}/decide/", version)
        self.state.think(self.rng)
        self._submit(f"{location}submit/", version)

    def _next_note(self) -> str | None:
        with self._request("POST", "/desk/next/", "next") as response:
            location = response.headers.get("Location", "") if response.headers else ""
            if response.status_code != 302 or not location:
                response.failure(f"next answered {response.status_code}")
                return None
        path = urlsplit(location).path
        return path if path.startswith("/desk/reviews/") else None

    def _page(self, location: str) -> tuple[int, list[str]]:
        with self._request("GET", location, "page") as response:
            text = response.text or ""
            version = VERSION_PATTERN.search(text)
            if response.status_code != 200 or version is None:
                response.failure(f"page answered {response.status_code}")
                return 0, []
        return int(version.group(1)), list(dict.fromkeys(SUGGESTION_PATTERN.findall(text)))

    def _decide(self, path: str, version: int) -> int:
        data = {"version": str(version), "selected": path.split("/")[-3], **self._choice()}
        with self._request("POST", path, "decision", data, htmx=True) as response:
            text = response.text or ""
            drawn = VERSION_PATTERN.search(text)
            if response.status_code != 200 or drawn is None or "work-error" in text:
                response.failure(f"decision answered {response.status_code}: {text[:200]}")
                return version
        return int(drawn.group(1))

    def _choice(self) -> dict[str, str]:
        roll = self.rng.random()
        if roll < 0.7:
            return {"action": "accept"}
        if roll < 0.85:
            return {"action": "reject", "reason": "not_documented"}
        return {"action": "replace", "replacement": self.rng.choice(self.state.replacements)}

    def _submit(self, path: str, version: int) -> None:
        with self._request("POST", path, "submit", {"version": str(version)}, htmx=True) as answer:
            # A submission sends htmx back to the desk (HX-Redirect); the
            # status is 2xx without a body either way, 200 from django-htmx.
            redirect = answer.headers.get("HX-Redirect", "") if answer.headers else ""
            if answer.status_code not in (200, 204) or not redirect:
                answer.failure(f"submit answered {answer.status_code}: {(answer.text or '')[:200]}")
                return
        self.state.submitted()

    def _request(
        self,
        method: str,
        path: str,
        kind: str,
        data: dict[str, str] | None = None,
        *,
        htmx: bool = False,
    ) -> Any:
        headers = {"X-Bench": f"{self.state.phase} {kind}", "X-CSRFToken": self.csrf}
        if htmx:
            headers["HX-Request"] = "true"
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.client.request(
            method,
            path,
            name=kind,
            data=urlencode(data) if data else None,
            headers=headers,
            allow_redirects=False,
            catch_response=True,
        )


def drive(config_path: Path) -> None:
    """Run the phases of the config at ``config_path``; write what was measured
    to the file it names."""
    from locust import FastHttpUser, constant, task  # patches sockets with gevent
    from locust.env import Environment

    config = json.loads(config_path.read_text())
    state = DriveState(replacements=config["replacements"], server_pid=config["server_pid"])
    sessions = iter(config["sessions"])

    class Coder(FastHttpUser):
        host = config["host"]
        wait_time = constant(0)

        def on_start(self) -> None:
            self.desk = DeskCoder(self.client, state, next(sessions))
            self.desk.start()

        @task
        def review(self) -> None:
            self.desk.review_one()

    environment = Environment(user_classes=[Coder])
    # locust's EventHook.add_listener carries no annotations.
    environment.events.request.add_listener(state.record)  # type: ignore[no-untyped-call]
    runner = environment.create_local_runner()
    runner.start(len(config["sessions"]), spawn_rate=len(config["sessions"]))
    for phase, seconds in config["phases"]:
        _phase_run(state, phase, seconds)
        if state.dry:
            print(f"the queue ran dry in the {phase} phase; use more --notes", file=sys.stderr)
            break
    runner.quit()
    Path(config["out"]).write_text(json.dumps(_driven(state)))


def _phase_run(state: DriveState, phase: str, seconds: float) -> None:
    state.phase = phase
    before, started = _cpu_seconds(state.server_pid), time.perf_counter()
    time.sleep(seconds)  # gevent's sleep, once locust is imported
    # The warm-up lasts until every worker has surely read the hierarchy,
    # which takes seconds per worker on a busy machine.
    while phase == "warm" and state.completed < WARM_REQUESTS:
        if time.perf_counter() - started > WARM_LIMIT_SECONDS:
            raise SystemExit(f"{state.completed} requests in {WARM_LIMIT_SECONDS} s of warm-up")
        time.sleep(0.5)
    state.seconds[phase] = time.perf_counter() - started
    state.cpu[phase] = _cpu_spent(before, _cpu_seconds(state.server_pid))
    print(f"{phase} phase done in {state.seconds[phase]:.0f} s", file=sys.stderr)


def _driven(state: DriveState) -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "times": state.times,
        "reviews": state.reviews,
        "failures": state.failures,
        "seconds": state.seconds,
        "cpu": state.cpu,
        "dry": state.dry,
        "locust": version("locust"),
    }


def _cpu_seconds(server_pid: int) -> dict[str, dict[int, float]]:
    """CPU seconds so far per process of the server, this client and PostgreSQL,
    and of the whole machine (under pid 0)."""
    import psutil

    def spent(processes: list[psutil.Process]) -> dict[int, float]:
        seconds = {}
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.Error:  # a connection's backend that just ended
                continue
            seconds[process.pid] = float(times.user + times.system)
        return seconds

    server = psutil.Process(server_pid)
    machine = psutil.cpu_times()
    return {
        "server": spent([server, *server.children(recursive=True)]),
        "client": spent([psutil.Process()]),
        "database": spent(
            [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]
        ),
        "machine": {0: float(machine.user + machine.system + machine.nice + machine.softirq)},
    }


def _cpu_spent(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
) -> dict[str, float]:
    """CPU seconds between two snapshots, per group (the processes alive at the
    end: PostgreSQL backends that ended in between are not counted)."""
    spent = {
        group: sum(seconds - before[group].get(pid, 0.0) for pid, seconds in processes.items())
        for group, processes in after.items()
    }
    spent["others"] = spent["machine"] - spent["server"] - spent["client"] - spent["database"]
    return spent
