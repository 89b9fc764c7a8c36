"""Tasks for the predictions stored before tasks were made with them.

Review tasks used to be made when a coder pressed "Next note", so the desk
counted none of the predictions nobody had asked for yet. Predictions now
get their tasks in the transaction that stores them; this gives the ones
already stored theirs, once, with the same statement (written out here, as
a migration must not follow later changes of the app's code). Reversing it
removes nothing: a task may have a review by then.
"""

from django.apps.registry import Apps
from django.conf import settings
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

BACKFILL = """
    INSERT INTO review_reviewtask
        (note_id, prediction_id, slot, double_coded, priority, confidence, state, created_at)
    SELECT p.note_id, p.id, slot.n, picked.double, 0,
           (SELECT MIN(s.score) FROM worker_suggestion s WHERE s.prediction_id = p.id),
           'open', p.created_at
    FROM worker_prediction p
    CROSS JOIN LATERAL (
        SELECT (hashtext('double-coding:' || p.note_id::text) & 2147483647) %% 1000 < %s
            AS double
    ) picked
    CROSS JOIN LATERAL generate_series(1, CASE WHEN picked.double THEN 2 ELSE 1 END)
        AS slot(n)
    WHERE NOT EXISTS (SELECT 1 FROM review_reviewtask t WHERE t.prediction_id = p.id)
    ON CONFLICT DO NOTHING
"""


def backfill(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    share = int(getattr(settings, "REVIEW_DOUBLE_CODING_PER_MILLE", 100))
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(BACKFILL, [share])


class Migration(migrations.Migration):
    dependencies = [("review", "0008_evidence_span")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
