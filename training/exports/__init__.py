"""Training-data exports: reproducible snapshots of coder decisions.

Public API (kept stable; training runs build on it)::

    from training.exports.services import (
        export_snapshot_create,   # (*, kind, filters, created_by) -> ExportSnapshot
        export_snapshot_write,    # (*, snapshot_id) -> ExportSnapshot (the task's work)
        exports_root,             # () -> Path, STORAGE_DIR / "exports"
    )
    from training.exports.filters import ExportFilters, ExportFilterError, filters_parse
    from training.exports.writers import TRAIN_FILE, VALIDATION_FILE, MANIFEST_FILE

``kind`` is one of ``ExportSnapshot.Kind``: ``sft``, ``dpo``, ``kto``,
``grpo`` (training data, JSONL) and ``agreement`` (the statistics, CSV and
JSON). ``filters`` is a JSON object; every key is optional::

    {"date_from": "2026-01-01", "date_to": "2026-03-31",   # submission day, inclusive
     "model_version": 3, "coders": [5, 8], "chapters": ["4", "9"],
     "double_coded_only": false, "agreement_only": false}

A bad filter raises ``ExportFilterError`` naming it (``filters.chapters: ...``)
before anything is stored. The task (``export_snapshot_write_task``, queue
``default``) writes the snapshot's folder, ``ExportSnapshot.path``:

- ``train.jsonl`` and ``validation.jsonl``: the rows of notes on each side of
  ``training.splits.note_split``; held-out notes are never exported, so
  every run can be evaluated on them;
- ``manifest.txt``: the decision ids behind the rows, one a line;
- ``SHA256SUMS``: each file's digest (``sha256sum -c SHA256SUMS`` checks the
  folder); ``ExportSnapshot.sha256`` is the digest of that file, and
  ``ExportSnapshot.files`` has each file's rows, bytes and sha256.

Row formats (trl's conversational forms; every row also has ``metadata``
with ``note_id``, ``review_id`` and ``model_version_id``):

- ``sft``: ``messages`` = system, user (the inference prompt), assistant
  (``<think>...</think>\\n<diagnosis>\\nE11.65\\n...</diagnosis>``, the coder's
  final codes); see ``training.exports.rows`` for where the reasoning comes
  from (``metadata.reasoning_source``);
- ``dpo``: ``prompt``, ``chosen`` (coder's output), ``rejected`` (model's),
  only for reviews where the coder changed something;
  ``metadata.hard_negative`` and ``metadata.hard_negatives`` mark a model
  code that was a sibling or a less specific code of the coder's;
- ``kto``: ``prompt``, ``completion``, ``label`` (the model's output, true
  when accepted unchanged; plus the coder's output, true, where changed);
- ``grpo``: ``prompt`` and ``gold_codes`` (dotted) for
  ``coding_app.codes.reward.reward``.

Which review stands for a note is documented in ``training.exports.source``.
Trainers on these files: ``training.runs.trainers.trainer_build``.
"""
