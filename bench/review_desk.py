"""Twenty simulated coders at the review desk, against the real app on PostgreSQL.

Run from the repository root with DATABASE_URL and REDIS_URL set, as for the
tests: ``python bench/review_desk.py``. It needs locust (``pip install locust``).

A throwaway database. The audit trail is append-only (a trigger refuses to
delete from the audit trail's table), so the rows a run writes could not be
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

Its parts are the modules beside it: ``throwaway_database`` (the database),
``desk_fixtures`` (the desk's data), ``desk_server`` (gunicorn and the child
process), ``desk_load`` (the coders, run in the child) and ``desk_report``
(the tables and the JSON line).

The load client, the server and PostgreSQL share the machine's cores. The
last line is one JSON object: {"page_p95_ms": ..., "decision_p95_ms": ...,
"page_p50_ms": ..., "decision_p50_ms": ..., "requests_per_s": ...,
"reviews_per_s": ..., "coders": 20, "queries_3": ..., "queries_12": ...,
...}, the first six from the paced phase.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

from desk_fixtures import Fixtures, fixtures_make
from desk_load import drive
from desk_report import report
from desk_server import ROOT, serve_and_drive
from throwaway_database import throwaway_database

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/coding_desk"


def main() -> None:
    options = _options()
    if options.drive is not None:
        drive(options.drive)
        return
    server_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    with throwaway_database(server_url, f"bench_desk_{uuid.uuid4().hex[:10]}"):
        _bench(options)


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=800, help="notes in the queue")
    parser.add_argument("--warm", type=float, default=15, help="seconds of warm-up, not counted")
    parser.add_argument("--paced", type=float, default=40, help="seconds with think time")
    parser.add_argument("--saturated", type=float, default=30, help="seconds without")
    parser.add_argument("--drive", type=Path, help=argparse.SUPPRESS)  # the child process
    return parser.parse_args()


def _bench(options: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coding_app.settings")
    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    fixtures = fixtures_make(options.notes)
    print(
        f"database, code set and {options.notes} notes ready in "
        f"{time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    queries = _query_counts(fixtures)
    driven = serve_and_drive(options, fixtures, Path(__file__).resolve())
    report(driven, queries, options)


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


if __name__ == "__main__":
    main()
