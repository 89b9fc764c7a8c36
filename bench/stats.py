"""Time the statistics pages' queries over 1,000,000 decisions.

Run from the repository root with DATABASE_URL (and REDIS_URL) set. The bench
creates its own database ``coding_desk_bench_stats`` on the same server,
migrates it, loads the code set, generates the data in SQL (INSERT ...
SELECT over generate_series: 180,000 notes and predictions, 20,000 of them
double coded, 200,000 submitted reviews of 5 decisions each by 40 coders
over 26 weeks and 3 model versions), refreshes the statistics rollups (the
background job after submissions), runs each page's query set a few times
and drops the database again. It also prints, for information, what the
figures computed on demand for a date range cost.

    python bench/stats.py [--predictions N] [--keep] [--reuse]

``--predictions`` makes a smaller (or larger) run, a ninth of its notes double
coded; ``--keep`` leaves the database for a look at the plans, ``--reuse``
times a kept one.

The last line printed is one JSON object:
{"decisions": 1000000, "seconds": <the slowest page's query set, median of runs>}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from throwaway_database import postgres_server_url, sql_script_run, throwaway_database

BENCH_DATABASE = "coding_desk_bench_stats"
PREDICTIONS = 180_000
DOUBLE_CODED_SHARE = 9  # one note in nine: 20,000 of the 180,000
CODERS = 40
RUNS = 3


GENERATE = """
SELECT setseed(0.42);
CREATE TEMP TABLE pool AS
    SELECT (row_number() OVER (ORDER BY code))::int AS i, code
    FROM coding_app_code
    WHERE release_id = %(release)s AND billable AND id %% 17 = 0;
INSERT INTO worker_note (source, external_id, text, text_sha256, text_seen_before,
                         reference_codes, reference_code_flags, metadata, created_at,
                         batch_id)
    SELECT 'bench', 'b-' || g, 'Bench note ' || g, md5(g::text), false, '[]', '[]', '{}',
           now(), %(batch)s
    FROM generate_series(1, %(predictions)s) g;
INSERT INTO worker_prediction (prompt_version, reasoning, raw_output, parse_problem,
                               created_at, model_version_id, note_id)
    SELECT '', '', '', '', now(), (%(versions)s::int[])[1 + n.id %% 3], n.id
    FROM worker_note n WHERE n.batch_id = %(batch)s;
-- Half the predictions have 5 suggestions, half 4 (their reviews add a
-- code); code frequencies are skewed, as real ones are.
INSERT INTO worker_suggestion (rank, code, valid, problem, score, evidence, rationale,
                               prediction_id)
    SELECT r, pool.code, true, '', 0.5, '[]', '', q.id
    FROM (SELECT p.id, r, 1 + floor(power(random(), 2) * (SELECT count(*) FROM pool))::int AS i
          FROM worker_prediction p
          CROSS JOIN generate_series(1, 5) r
          JOIN worker_note n ON n.id = p.note_id AND n.batch_id = %(batch)s
          WHERE r <= 4 + (p.id %% 2 = 0)::int) q (id, r, i)
    JOIN pool ON pool.i = q.i;
INSERT INTO review_reviewtask (slot, double_coded, priority, state, created_at, note_id,
                               prediction_id)
    SELECT s.slot, p.id < (SELECT min(id) FROM worker_prediction) + %(double)s, 0, 'done',
           now(), p.note_id, p.id
    FROM worker_prediction p CROSS JOIN generate_series(1, 2) s (slot)
    WHERE s.slot = 1 OR p.id < (SELECT min(id) FROM worker_prediction) + %(double)s;
INSERT INTO review_review (prompt_version, status, version, comment, seconds_on_task,
                           started_at, updated_at, submitted_at, coder_id, model_version_id,
                           note_id, prediction_id, task_id)
    SELECT '', 'submitted', 1, '', random() * 240, now(), now(),
           now() - random() * interval '182 days',
           (%(coders)s::int[])[1 + (t.prediction_id + t.slot) %% %(coder_count)s],
           p.model_version_id, t.note_id, t.prediction_id, t.id
    FROM review_reviewtask t JOIN worker_prediction p ON p.id = t.prediction_id;
-- Both coders of a note mostly decide alike: the draw is the suggestion's
-- own most of the time, a fresh one otherwise.
INSERT INTO review_decision (action, code, replacement, reason, relation, comment,
                             created_at, updated_at, suggestion_id, review_id)
    SELECT CASE WHEN u < 0.72 THEN 'accept' WHEN u < 0.82 THEN 'reject' ELSE 'replace' END,
           code,
           CASE WHEN u >= 0.82 THEN (SELECT pool.code FROM pool WHERE pool.i = 1 + sid %% 500)
                ELSE '' END,
           CASE WHEN u >= 0.72 AND u < 0.82 THEN 'not_documented' ELSE '' END,
           CASE WHEN u >= 0.82 THEN (ARRAY['ancestor', 'descendant', 'sibling',
                                           'same_category', 'unrelated'])[1 + sid %% 5]
                ELSE '' END,
           '', now(), now(), sid, rid
    FROM (SELECT r.id AS rid, s.id AS sid, s.code,
                 CASE WHEN random() < 0.8 THEN ((s.id * 2654435761) %% 1000) / 1000.0
                      ELSE random() END AS u
          FROM review_review r JOIN worker_suggestion s ON s.prediction_id = r.prediction_id
         ) q;
INSERT INTO review_decision (action, code, replacement, reason, relation, comment,
                             created_at, updated_at, suggestion_id, review_id)
    SELECT 'add', pool.code, '', '', '', '', now(), now(), NULL, r.id
    FROM review_review r
    JOIN pool ON pool.i = 1 + (r.id * 7919) %% (SELECT count(*) FROM pool)
    WHERE r.prediction_id %% 2 = 1;
ANALYZE;
"""


def generate(predictions: int) -> int:
    """Generate the notes, reviews and decisions in SQL; return the decisions."""
    from coding_app.codes.store import active_release
    from coding_app.models import User
    from review.models import Decision
    from worker.models import ModelVersion, UploadBatch

    release = active_release()
    assert release is not None
    batch = UploadBatch.objects.create(source="bench", file_name="bench", status="done")
    versions = [
        ModelVersion.objects.create(name=f"bench-v{i}", backend="embedding", base_model="bench")
        for i in range(1, 4)
    ]
    coders = User.objects.bulk_create(
        User(email=f"coder{i}@bench.example", password="!") for i in range(CODERS)
    )
    params: dict[str, Any] = {
        "release": release.pk,
        "batch": batch.pk,
        "predictions": predictions,
        "double": predictions // DOUBLE_CODED_SHARE,
        "versions": [v.pk for v in versions],
        "coders": [c.pk for c in coders],
        "coder_count": CODERS,
    }
    sql_script_run(GENERATE, params)
    return Decision.objects.count()


def page_query_sets() -> dict[str, Callable[[], object]]:
    """What each statistics page asks the database for."""
    from review.stats.breakdown import BreakdownQuery, breakdown
    from review.stats.filters import StatsFilter
    from review.stats.model_vs_coder import model_vs_coders
    from review.stats.rollup import figures_for, latest_refresh
    from worker.models import ModelVersion

    everything = StatsFilter()
    first = ModelVersion.objects.order_by("pk").values_list("pk", flat=True).first()
    one_version = StatsFilter(model_version_id=first)
    return {
        "overview": lambda: (
            latest_refresh(),
            model_vs_coders(everything),
            breakdown(everything, BreakdownQuery()),
        ),
        "overview, one version": lambda: (
            model_vs_coders(one_version),
            breakdown(one_version, BreakdownQuery()),
        ),
        "codes": lambda: breakdown(everything, BreakdownQuery(by="code", limit=200)),
        "coder agreement": lambda: figures_for(everything),
        "coders": lambda: figures_for(one_version),
    }


def on_demand() -> dict[str, Callable[[], object]]:
    """What a date range costs: coder figures computed while the page waits."""
    from review.stats.coder_agreement import coder_agreement
    from review.stats.coders import coder_profiles
    from review.stats.filters import stats_filter

    recent = stats_filter(since="2000-01-01")
    return {
        "coder agreement, dated": lambda: coder_agreement(recent),
        "coders, dated": lambda: coder_profiles(recent),
    }


def main() -> None:
    options = _options()
    server_url = postgres_server_url()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coding_app.settings")
    with throwaway_database(server_url, BENCH_DATABASE, keep=options.keep, reuse=options.reuse):
        import django

        django.setup()
        decisions = _prepare(options)
        medians = _time_pages()
        _time_on_demand()
    print(json.dumps({"decisions": decisions, "seconds": round(max(medians.values()), 3)}))


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictions", type=int, default=PREDICTIONS, help="notes to code")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--reuse", action="store_true", help="time a kept bench database")
    return parser.parse_args()


def _prepare(options: argparse.Namespace) -> int:
    """The data (made, or the kept one) and its rollups; returns the decisions."""
    from django.core.management import call_command

    from review.models import Decision
    from review.stats.rollup import stats_refresh

    started = time.perf_counter()
    if options.reuse:
        decisions = Decision.objects.count()
    else:
        call_command("migrate", verbosity=0)
        call_command("load_codes", verbosity=0)
        decisions = generate(options.predictions)
    print(f"setup and data: {time.perf_counter() - started:.1f} s, {decisions:,} decisions")
    refresh = stats_refresh()
    print(f"rollup refresh (background, after submissions): {refresh.seconds:.1f} s")
    return decisions


def _time_pages() -> dict[str, float]:
    """Each page's query set, ``RUNS`` times; returns the median seconds."""
    medians: dict[str, float] = {}
    print(f"{'page query set':<24}{'median s':>10}{'slowest s':>11}")
    for name, run in page_query_sets().items():
        times = []
        for _ in range(RUNS):
            began = time.perf_counter()
            run()
            times.append(time.perf_counter() - began)
        medians[name] = statistics.median(times)
        print(f"{name:<24}{medians[name]:>10.3f}{max(times):>11.3f}")
    return medians


def _time_on_demand() -> None:
    print("computed on demand (a date range), once each:")
    for name, run in on_demand().items():
        began = time.perf_counter()
        run()
        print(f"{name:<24}{time.perf_counter() - began:>10.3f}")


if __name__ == "__main__":
    main()
