"""The review desk bench's server and its load: gunicorn, and the child that drives it.

gunicorn serves the app from the throwaway database; the load runs in a child
process (``review_desk.py --drive``, see ``desk_load``) because locust patches
sockets with gevent when imported, and the Django side must not be patched.
The server's own time per request comes from its access log.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import subprocess

    from desk_fixtures import Fixtures

ROOT = Path(__file__).resolve().parent.parent
WORKERS, THREADS = 4, 2
# gunicorn's access log: the bench's own tag (phase and kind), status, µs.
ACCESS_FORMAT = "%({x-bench}i)s|%(s)s|%(D)s"


def serve_and_drive(options: argparse.Namespace, fixtures: Fixtures, entry: Path) -> dict[str, Any]:
    """Serve the desk, run ``entry --drive`` against it for the phases of
    ``options``; return what the child measured, with the server's times."""
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
                "host": f"http://127.0.0.1:{port}",
                "sessions": fixtures.sessions,
                "replacements": fixtures.replacements,
                "server_pid": server.pid,
                "phases": [
                    ["warm", options.warm],
                    ["paced", options.paced],
                    ["saturated", options.saturated],
                ],
                "out": str(out),
            }
            config_path = Path(folder) / "config.json"
            config_path.write_text(json.dumps(config))
            limit = options.warm + options.paced + options.saturated + 120
            child = [sys.executable, str(entry), "--drive", str(config_path)]
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
        sys.executable,
        "-m",
        "gunicorn",
        "coding_app.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--threads",
        str(THREADS),
        "--access-logfile",
        str(log),
        "--access-logformat",
        ACCESS_FORMAT,
        "--log-level",
        "warning",
    ]
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
