"""Twenty simulated coders at the review desk, against the real app on PostgreSQL.

Run from the repository root with DATABASE_URL and REDIS_URL set, as for the
tests: ``python bench/review_desk.py``. It needs locust (``pip install locust``).

A throwaway database. The audit trail is append-only (a trigger refuses to
delete from ``review_auditevent``), so the rows a run writes could not be
cleaned out of a shared database. The bench creates ``bench_desk_<random>``
on the server of DATABASE_URL, migrates it, works only there and drops it at
the end, also when the run fails.

What it does:

1. loads the code set, makes the embedding version active, creates 20 coders
   and ``--notes`` notes (CodiEsp case reports from ``demo_data``), each with
   a stored prediction of 3 to 12 real billable codes (no model runs);
2. counts the SQL queries of the review page and of one decision with the
   test client, for a note with 3 suggestions and one with 12: the two must
   be equal;
3. starts gunicorn (4 workers, 2 threads each) and drives it with locust's
   ``FastHttpUser`` used as a library, in a child process of this script
   (locust patches sockets with gevent when imported; the Django side of the
   bench must not be patched). A coder takes the next note, opens its page,
   decides on every suggestion with an htmx POST (accept, reject or replace),
   and submits. Coders are logged in by session: a session made with
   Django's session engine, its key set as the ``sessionid`` cookie. The
   login form would only add password hashing to the warm-up, and logging in
   is not what is measured. The CSRF token is read from the ``csrftoken``
   cookie of the desk page and sent as ``X-CSRFToken``;
4. runs three phases: a warm-up that is not counted (each gunicorn worker
   reads the code hierarchy on its first request), a paced phase where each
   coder thinks 0.5 to 1.5 s between actions (a fast coder at the keyboard:
   the latency figures), and a saturated phase without thinking (the
   capacity of the machine);
5. measures each request on the client, and on the server from gunicorn's
   access log (``%(D)s``: from request read to response written), and the
   CPU time of the client, the server and PostgreSQL per phase.

The load client, the server and PostgreSQL share the machine's cores. The
last line is one JSON object: {"page_p95_ms": ..., "decision_p95_ms": ...,
"page_p50_ms": ..., "decision_p50_ms": ..., "requests_per_s": ...,
"reviews_per_s": ..., "coders": 20, "queries_3": ..., "queries_12": ...,
...}, the first six from the paced phase.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:  # imported for real in the process that uses them
    import subprocess

    from locust.contrib.fasthttp import FastHttpSession

    from coding_app.models import User
    from review.models import ReviewTask

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/coding_desk"
CODERS = 20
WORKERS, THREADS = 4, 2
THINK_SECONDS = (0.5, 1.5)
KINDS = ("next", "page", "decision", "submit")
MEASURED = ("paced", "saturated")
WARM_REQUESTS, WARM_LIMIT_SECONDS = 10 * CODERS, 180
# gunicorn's access log: the bench's own tag (phase and kind), status, µs.
ACCESS_FORMAT = "%({x-bench}i)s|%(s)s|%(D)s"
VERSION_PATTERN = re.compile(r'id="work" data-version="(\d+)"')
SUGGESTION_PATTERN = re.compile(r'data-suggestion="(\d+)"')


def main() -> None:
    options = _options()
    if options.drive is not None:
        _drive(options.drive)
        return
    server_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    name = f"bench_desk_{uuid.uuid4().hex[:10]}"
    _database_create(server_url, name)
    try:
        os.environ["DATABASE_URL"] = _with_database(server_url, name)
        _bench(options)
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        _database_drop(server_url, name)


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=800, help="notes in the queue")
    parser.add_argument("--warm", type=float, default=15, help="seconds of warm-up, not counted")
    parser.add_argument("--paced", type=float, default=40, help="seconds with think time")
    parser.add_argument("--saturated", type=float, default=30, help="seconds without")
    parser.add_argument("--drive", type=Path, help=argparse.SUPPRESS)  # the child process
    return parser.parse_args()


# --- The throwaway database ------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _database_create(url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _database_drop(url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as admin:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        admin.execute(drop)


# --- The desk's data ------------------------------------------------------------------


@dataclass
class Fixtures:
    sessions: list[str]
    replacements: list[str]
    checker: User
    sized_tasks: dict[int, ReviewTask]


def _bench(options: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coding_app.settings")
    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    fixtures = _fixtures(options.notes)
    print(f"database, code set and {options.notes} notes ready in "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)  # fmt: skip
    queries = _query_counts(fixtures)
    driven = _serve_and_drive(options, fixtures)
    _report(driven, queries, options)


def _fixtures(note_count: int) -> Fixtures:
    from django.core.management import call_command

    from coding_app.codes.store import active_release
    from coding_app.models.codes import Code
    from review.desk.queue import review_tasks_materialize
    from worker.registry.versions import zero_shot_version_ensure

    if active_release() is None:
        call_command("load_codes", verbosity=0)
    release = active_release()
    assert release is not None
    version = zero_shot_version_ensure()
    billable = list(
        Code.objects.filter(release=release, billable=True)
        .order_by("code")
        .values_list("code", flat=True)
    )
    rng = random.Random(20)
    coders = _coders_make(CODERS + 1)
    sizes = [rng.randint(3, 12) for _ in range(note_count)]
    _notes_make(sizes, billable, rng, "desk")
    sized_notes = _notes_make([3, 12], billable, rng, "sized")
    review_tasks_materialize(version)
    sized_tasks = {
        size: _task_of(note_id) for size, note_id in zip((3, 12), sized_notes, strict=True)
    }
    return Fixtures(
        sessions=[_session_key(coder) for coder in coders[:CODERS]],
        replacements=rng.sample(billable, 300),
        checker=coders[CODERS],
        sized_tasks=sized_tasks,
    )


def _coders_make(count: int) -> list[User]:
    from django.test.utils import override_settings

    from coding_app.accounts.roles import Role
    from coding_app.accounts.services import user_create

    # Throwaway users in a throwaway database: a fast hasher saves seconds
    # of PBKDF2 that tell nothing about the desk.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        return [
            user_create(
                email=f"coder-{i}@bench.example.org",
                password=uuid.uuid4().hex,
                roles=[Role.CODER],
                check_password=False,
            )
            for i in range(count)
        ]


def _session_key(user: User) -> str:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    key: str = session.session_key
    return key


def _notes_make(sizes: list[int], codes: list[str], rng: random.Random, prefix: str) -> list[int]:
    """One note per size, predicted with that many codes; returns the note ids."""
    import hashlib

    from worker.backends.base import NotePrediction
    from worker.models import Note, UploadBatch
    from worker.predictions.services import predictions_store
    from worker.registry.versions import zero_shot_version_ensure
    from worker.uploads.demo_notes import DEMO_FILE

    texts = [json.loads(line)["text"] for line in DEMO_FILE.open()]
    batch = UploadBatch.objects.create(
        source="bench-desk", file_name=f"{prefix}.jsonl", status=UploadBatch.Status.DONE
    )
    notes = Note.objects.bulk_create(
        Note(
            source="bench-desk",
            external_id=f"{prefix}-{i}",
            text=text,
            batch=batch,
            text_sha256=hashlib.sha256(text.encode()).hexdigest(),
        )
        for i, text in enumerate(rng.choice(texts) for _ in sizes)
    )
    predictions = [
        NotePrediction(
            note_id=note.pk,
            codes=_suggested(size, note.text, codes, rng),
            reasoning="The note documents the suggested conditions.",
            raw_output="{}",
            prompt_version="bench-v1",
        )
        for note, size in zip(notes, sizes, strict=True)
    ]
    predictions_store(predictions, version=zero_shot_version_ensure(), job=None)
    return [note.pk for note in notes]


def _suggested(size: int, text: str, billable: list[str], rng: random.Random) -> tuple[Any, ...]:
    from worker.backends.base import SuggestedCode

    # Half the codes from one neighbourhood of the sorted code list, so that
    # the page shows related-code hints as it does for real predictions.
    start = rng.randrange(len(billable) - 60)
    near = rng.sample(billable[start : start + 60], size // 2)
    codes = list(dict.fromkeys(near + rng.sample(billable, size)))[:size]
    spans = []
    for _ in codes:
        begin = rng.randrange(max(1, len(text) - 80))
        spans.append((begin, min(len(text), begin + rng.randint(20, 80))))
    return tuple(
        SuggestedCode(
            code=code,
            score=round(0.95 - rank * 0.05, 2),
            evidence=(span,),
            rationale=f"Suggested because of the sentence at {span[0]}.",
        )
        for rank, (code, span) in enumerate(zip(codes, spans, strict=True))
    )


def _task_of(note_id: int) -> ReviewTask:
    from review.models import ReviewTask

    return ReviewTask.objects.get(note_id=note_id, slot=1)


# --- The constant number of queries -------------------------------------------------


def _query_counts(fixtures: Fixtures) -> dict[str, int]:
    """Queries of the page and of one decision, for 3 and for 12 suggestions."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from review.desk.queue import task_reassign
    from worker.models import Suggestion

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(fixtures.checker)
    counts: dict[str, int] = {}
    for size, task in fixtures.sized_tasks.items():
        review = task_reassign(task, fixtures.checker, fixtures.checker)
        page = reverse("review:review", args=[review.pk])
        client.get(page)  # the first request of a process reads the hierarchy
        with CaptureQueriesContext(connection) as drawn:
            response = client.get(page)
        assert response.status_code == 200, response.status_code
        suggestion = Suggestion.objects.filter(prediction_id=review.prediction_id).first()
        assert suggestion is not None
        decide = reverse("review:decide", args=[review.pk, suggestion.pk])
        data = {"action": "accept", "version": review.version, "selected": suggestion.pk}
        with CaptureQueriesContext(connection) as decided:
            response = client.post(decide, data, headers={"HX-Request": "true"})
        assert response.status_code == 200, response.status_code
        assert b"work-error" not in response.content, response.content
        counts[f"queries_{size}"] = len(drawn.captured_queries)
        counts[f"decision_queries_{size}"] = len(decided.captured_queries)
    return counts


# --- The server and the load client ------------------------------------------------


def _serve_and_drive(options: argparse.Namespace, fixtures: Fixtures) -> dict[str, Any]:
    import socket
    import subprocess
    import tempfile

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "access.log"
        server = _server_start(port, log)
        try:
            _wait_for_health(server, f"http://127.0.0.1:{port}/healthz")
            out = Path(folder) / "driven.json"
            config = {
                "host": f"http://127.0.0.1:{port}", "sessions": fixtures.sessions,
                "replacements": fixtures.replacements, "server_pid": server.pid,
                "phases": [["warm", options.warm], ["paced", options.paced],
                           ["saturated", options.saturated]],
                "out": str(out),
            }  # fmt: skip
            config_path = Path(folder) / "config.json"
            config_path.write_text(json.dumps(config))
            limit = options.warm + options.paced + options.saturated + 120
            child = [sys.executable, str(Path(__file__).resolve()), "--drive", str(config_path)]
            subprocess.run(child, check=True, cwd=ROOT, timeout=limit)
            driven: dict[str, Any] = json.loads(out.read_text())
        finally:
            server.terminate()
            server.wait(30)
        driven["server"] = _server_times(log)
    return driven


def _server_start(port: int, log: Path) -> subprocess.Popen[bytes]:
    import subprocess

    env = dict(os.environ, DJANGO_SETTINGS_MODULE="coding_app.settings", LOG_LEVEL="WARNING")
    command = [
        sys.executable, "-m", "gunicorn", "coding_app.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS), "--threads", str(THREADS),
        "--access-logfile", str(log), "--access-logformat", ACCESS_FORMAT,
        "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env)


def _wait_for_health(server: subprocess.Popen[bytes], url: str) -> None:
    from urllib.request import urlopen

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            with urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:  # not listening yet, or the workers still booting
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def _server_times(log: Path) -> dict[str, dict[str, list[float]]]:
    """Server milliseconds per phase and kind, from the access log."""
    times: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for line in log.read_text().splitlines():
        tag, _status, micros = line.rsplit("|", 2)
        phase, _, kind = tag.partition(" ")
        if kind:  # not the health checks
            times[phase][kind].append(int(micros) / 1000)
    return {phase: dict(kinds) for phase, kinds in times.items()}


# --- The child process: locust ---------------------------------------------------------


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
        client.cookiejar.set_cookie(Cookie(
            0, "sessionid", session_key, None, False, host, False, False, "/", True,
            False, None, True, None, None, {},
        ))  # fmt: skip
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
            if answer.status_code != 204:
                answer.failure(f"submit answered {answer.status_code}: {(answer.text or '')[:200]}")
                return
        self.state.submitted()

    def _request(
        self, method: str, path: str, kind: str, data: dict[str, str] | None = None,
        *, htmx: bool = False,
    ) -> Any:  # fmt: skip
        headers = {"X-Bench": f"{self.state.phase} {kind}", "X-CSRFToken": self.csrf}
        if htmx:
            headers["HX-Request"] = "true"
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.client.request(
            method, path, name=kind, data=urlencode(data) if data else None, headers=headers,
            allow_redirects=False, catch_response=True,
        )  # fmt: skip


def _drive(config_path: Path) -> None:
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
        "times": state.times, "reviews": state.reviews, "failures": state.failures,
        "seconds": state.seconds, "cpu": state.cpu, "dry": state.dry,
        "locust": version("locust"),
    }  # fmt: skip


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


# --- The report -------------------------------------------------------------------------


def _percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _phase_table(driven: dict[str, Any], phase: str) -> dict[str, float]:
    """Print the phase's table; return its figures."""
    times = driven["times"].get(phase, {})
    server = driven["server"].get(phase, {})
    seconds = driven["seconds"].get(phase, 0.0) or 1.0
    requests = sum(len(times.get(kind, [])) for kind in KINDS)
    reviews = driven["reviews"].get(phase, 0)
    _print_latencies(phase, seconds, times, server)
    _print_load(driven["cpu"].get(phase, {}), seconds, requests, reviews)
    return {
        "page_p95_ms": _percentile(times.get("page", []), 0.95),
        "decision_p95_ms": _percentile(times.get("decision", []), 0.95),
        "page_p50_ms": _percentile(times.get("page", []), 0.5),
        "decision_p50_ms": _percentile(times.get("decision", []), 0.5),
        "requests_per_s": requests / seconds,
        "reviews_per_s": reviews / seconds,
        "server_page_p95_ms": _percentile(server.get("page", []), 0.95),
        "server_decision_p95_ms": _percentile(server.get("decision", []), 0.95),
    }


def _print_latencies(
    phase: str, seconds: float, times: dict[str, list[float]], server: dict[str, list[float]]
) -> None:
    print(f"\n{phase} phase, {seconds:.0f} s"
          + (f" (coders think {THINK_SECONDS[0]}-{THINK_SECONDS[1]} s between actions)"
             if phase == "paced" else " (no think time)"))  # fmt: skip
    print(f"{'request':<10}{'count':>7}{'client p50':>12}{'client p95':>12}"
          f"{'server p50':>12}{'server p95':>12}   (ms)")  # fmt: skip
    for kind in KINDS:
        mine, theirs = times.get(kind, []), server.get(kind, [])
        print(f"{kind:<10}{len(mine):>7}{_percentile(mine, 0.5):>12.1f}"
              f"{_percentile(mine, 0.95):>12.1f}{_percentile(theirs, 0.5):>12.1f}"
              f"{_percentile(theirs, 0.95):>12.1f}")  # fmt: skip


def _print_load(cpu: dict[str, float], seconds: float, requests: int, reviews: int) -> None:
    cores = os.cpu_count() or 1
    per_request = cpu.get("server", 0) / max(1, requests) * 1000
    print(f"throughput {requests / seconds:.1f} requests/s, {reviews / seconds:.2f} reviews/s; "
          f"server CPU {per_request:.1f} ms per request")  # fmt: skip
    print(f"CPU use of {cores} cores: server {cpu.get('server', 0) / seconds:.0%}"
          f" of a core, client {cpu.get('client', 0) / seconds:.0%},"
          f" PostgreSQL {cpu.get('database', 0) / seconds:.0%},"
          f" other processes {cpu.get('others', 0) / seconds:.0%};"
          f" machine busy {cpu.get('machine', 0) / seconds / cores:.0%}")  # fmt: skip
    if cpu.get("others", 0) / seconds > 0.25:
        print(f"warning: other processes took {cpu['others'] / seconds:.0%} of a core in this "
              "phase; these figures are not the desk's alone")  # fmt: skip


def _report(driven: dict[str, Any], queries: dict[str, int], options: argparse.Namespace) -> None:
    print(f"Review desk: {CODERS} simulated coders (locust {driven['locust']} FastHttpUser), "
          f"gunicorn {WORKERS} workers x {THREADS} threads, {options.notes} notes; "
          f"client, server and PostgreSQL share {os.cpu_count()} CPU cores.")  # fmt: skip
    warm = driven["server"].get("warm", {})
    slowest = max((max(times) for times in warm.values() if times), default=0.0)
    print(f"warm-up {driven['seconds'].get('warm', 0):.0f} s, not counted; its slowest request "
          f"took {slowest / 1000:.1f} s on the server (a worker's first request reads the "
          "code hierarchy)")  # fmt: skip
    paced = _phase_table(driven, "paced")
    saturated = _phase_table(driven, "saturated")
    print(f"\nSQL queries per review page: {queries['queries_3']} with 3 suggestions, "
          f"{queries['queries_12']} with 12; per decision: {queries['decision_queries_3']} "
          f"and {queries['decision_queries_12']}"
          + (" (constant)." if queries["queries_3"] == queries["queries_12"]
             else " (NOT constant: the page's queries grow with its suggestions)."))  # fmt: skip
    failures = driven["failures"]
    print(f"failed requests: {len(failures)}" + "".join(f"\n  {f}" for f in failures[:5]))
    if driven["dry"]:
        print("the queue ran dry before the end: figures cover a shorter run")
    figures: dict[str, Any] = {key: round(value, 2) for key, value in paced.items()}
    figures |= {"coders": CODERS, **queries}
    figures |= {f"saturated_{key}": round(value, 2) for key, value in saturated.items()}
    figures["failures"] = len(failures)
    figures["cold_request_s"] = round(slowest / 1000, 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
