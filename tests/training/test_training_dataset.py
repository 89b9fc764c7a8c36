"""An export loads for training whatever its bookkeeping columns hold."""

from __future__ import annotations

import json
from pathlib import Path

from training.runs.trainers import training_dataset


def test_evidence_empty_at_first_and_full_later_still_loads(tmp_path: Path) -> None:
    rows = [
        {
            "messages": [{"role": "user", "content": f"note {i}"}],
            "evidence": [] if i < 5000 else [{"code": "I10", "start": 0, "end": 4, "text": "note"}],
            "metadata": {"hard_negatives": [] if i < 5000 else [{"code": "I10"}]},
        }
        for i in range(5001)
    ]
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    data = training_dataset(tmp_path)
    assert data["train"].num_rows == 5001
    assert data["train"].column_names == ["messages"]
    assert data["train"][5000]["messages"][0]["content"] == "note 5000"
