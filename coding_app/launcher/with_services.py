"""Run one command with PostgreSQL and Redis available.

``python -m coding_app.launcher.with_services pytest ...`` uses ``DATABASE_URL`` and
``REDIS_URL`` when they are set (CI points them at the machine's servers) and
otherwise starts embedded ones under ``DATA_DIR/test-services``, separate from
the run command's data, and stops them when the command ends.
"""

from __future__ import annotations

import os
import subprocess
import sys

from coding_app.config import ConfigError, env_path
from coding_app.launcher.embedded import EmbeddedService
from coding_app.launcher.run import BASE_DIR, StartupError, run_lock, say, service_urls


def main(command: list[str]) -> int:
    if not command:
        say("usage: python -m coding_app.launcher.with_services COMMAND [ARGS...]")
        return 2
    data_dir = env_path("DATA_DIR", BASE_DIR / ".data") / "test-services"
    started: list[EmbeddedService] = []
    try:
        with run_lock(data_dir):
            database_url, redis_url = service_urls(data_dir, started)
            env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
            return subprocess.call(command, env=env)
    except (StartupError, ConfigError) as error:
        say(f"Cannot start the services for the tests: {error}")
        return 2
    finally:
        for service in reversed(started):
            service.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
