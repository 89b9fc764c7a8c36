"""The web process loads no machine-learning library to serve a page.

Importing torch and sentence_transformers took the first page of a fresh
web process 20 to 25 seconds (the URLconf reached them through the runs
page's imports). They belong to the workers; the web imports them, if
ever, inside the functions that need them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests import layout_rules

HEAVY = ("torch", "sentence_transformers", "transformers", "trl", "peft", "spacy")

LOADED = f"""
import json, sys
import django
django.setup()
import coding_app.urls
print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
"""


def test_the_urlconf_imports_no_ml_library() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "coding_app.settings"}
    done = subprocess.run(
        [sys.executable, "-c", LOADED],
        cwd=layout_rules.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
