"""What the pages say while this machine prepares its code index.

The manage home and the desk home show "Preparing the code index: 41 %"
while a build of the active release's index is unfinished, read from the
progress file its builder keeps in the cache folder (web and workers share
that folder under ``MODEL_DIR``, in ``make run`` and in the compose file).
"""

from __future__ import annotations

from worker.backends.embedding.index_progress import IndexBuildStatus, index_builds_unfinished
from worker.backends.loading import code_index_cache_dir, release_key


def code_index_status() -> IndexBuildStatus | None:
    """The unfinished build of an index of the active release to show (a
    running one first), if any; no query when there is none."""
    builds = index_builds_unfinished(code_index_cache_dir())
    if builds:
        current = release_key()
        builds = [build for build in builds if build.progress.release_key == current]
    builds.sort(key=lambda build: (not build.running, -build.progress.updated_at))
    return builds[0] if builds else None
