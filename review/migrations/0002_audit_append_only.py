"""Audit events cannot be updated or deleted by any SQL client, not only the ORM."""

from django.db import migrations

CREATE = """
CREATE FUNCTION review_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % is refused on review_auditevent', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER review_auditevent_append_only
    BEFORE UPDATE OR DELETE ON review_auditevent
    FOR EACH ROW EXECUTE FUNCTION review_auditevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS review_auditevent_append_only ON review_auditevent;
DROP FUNCTION IF EXISTS review_auditevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("review", "0001_review_desk")]

    operations = [migrations.RunSQL(CREATE, DROP)]
