"""`brickwork_expect(got, wanted, what)`: a compare-and-set checked by PostgreSQL itself.

The engine sends a step's last writes and its COMMIT in one round trip (runner/fastsql.py);
a compare-and-set that missed must then fail the statement, so that COMMIT commits
nothing, rather than be noticed by the client once COMMIT has already run.
"""

from django.db import migrations

from core.postgresql.migration_ops import PostgreSQLOnly

CREATE = """
CREATE OR REPLACE FUNCTION brickwork_expect(got bigint, wanted bigint, what text)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF got IS DISTINCT FROM wanted THEN
        RAISE EXCEPTION USING ERRCODE = 'BW001', MESSAGE = what;
    END IF;
    RETURN got;
END
$$
"""

DROP = "DROP FUNCTION IF EXISTS brickwork_expect(bigint, bigint, text)"


class Migration(migrations.Migration):
    dependencies = [("runner", "0022_key_order_and_attempt_log")]

    operations = [PostgreSQLOnly([CREATE], [DROP])]
