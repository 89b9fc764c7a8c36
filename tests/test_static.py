"""Static assets are served from the project, never from a CDN."""

import hashlib
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"


def test_vendored_htmx_matches_its_recorded_version_and_checksum() -> None:
    record = (STATIC / "vendor/htmx/VENDORED.md").read_text()
    expected = re.search(r"sha256: `([0-9a-f]{64})`", record)
    assert expected is not None
    actual = hashlib.sha256((STATIC / "vendor/htmx/htmx.min.js").read_bytes()).hexdigest()
    assert actual == expected.group(1)
    assert "version **2.0.11**" in record
    assert (STATIC / "vendor/htmx/LICENSE").read_text().startswith("Zero-Clause BSD")


def test_no_template_loads_anything_from_another_host() -> None:
    templates = Path(__file__).resolve().parent.parent / "templates"
    for template in templates.rglob("*.html"):
        assert not re.search(r'(src|href)="(https?:)?//', template.read_text()), template
