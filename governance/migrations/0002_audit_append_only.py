"""On PostgreSQL the database itself keeps the audit log append-only: UPDATE and DELETE are refused.

The model's save() is no guard (a queryset update or raw SQL bypasses it); this trigger is. TRUNCATE
stays possible for an operator with table rights (and for test database flushes).
"""

from django.db import migrations

FUNCTION = "governance_audit_append_only"
TRIGGER = "governance_auditentry_append_only"
TABLE = "governance_auditentry"

CREATE = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only: % refused on {TABLE}', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();
"""
DROP = f"DROP TRIGGER IF EXISTS {TRIGGER} ON {TABLE}; DROP FUNCTION IF EXISTS {FUNCTION}();"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
