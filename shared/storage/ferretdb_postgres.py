"""What the PostgreSQL under FerretDB v1 needs so that the revision guard is atomic.

FerretDB v1 runs an update as a plain SELECT, the filter in Go, then `UPDATE ... WHERE _id = $1`
with no condition and no lock held in between. So `replace_one({_id, _rev: r}, ...)` from two
writers at once passes for both: each reads revision r, each writes r + 1, and the first write is
lost (measured: with 4 concurrent writers, 28 trials of 30 had more than one "winner").

This trigger closes that gap where it can be closed, in the database: every UPDATE of a FerretDB
table (a table with a `_jsonb` column) whose old and new documents both carry `_rev` must raise it
by exactly one, else it fails with SQLSTATE 40001 ("lifecycle revision conflict"). PostgreSQL
serialises concurrent UPDATEs of a row, so the second writer sees the first one's revision and
fails; shared.storage.revisions turns that into a StaleProjection (re-read and retry). Every writer
in the project already writes `_rev` + 1; documents without `_rev` are untouched.

`install` is idempotent: it (re)creates the function, attaches the trigger to every FerretDB table
that lacks it, and adds an event trigger that attaches it to each table FerretDB creates later.
The local PostgreSQL setup runs it next to the GIN indexes on `_id`; shared.storage.backend checks
at start that writes are guarded this way and says so (a warning where they are not, e.g. SQLite).
"""

from __future__ import annotations

CONFLICT_MESSAGE = "lifecycle revision conflict"

REVISION_GUARD_SQL = f"""
CREATE OR REPLACE FUNCTION public.lifecycle_revision_guard() RETURNS trigger
LANGUAGE plpgsql AS $guard$
BEGIN
  IF NEW._jsonb ? '_rev' AND OLD._jsonb ? '_rev'
     AND (NEW._jsonb -> '_rev')::numeric <> (OLD._jsonb -> '_rev')::numeric + 1 THEN
    RAISE EXCEPTION '{CONFLICT_MESSAGE}: _id % is at _rev %, a write of _rev % lost the race',
      OLD._jsonb -> '_id', OLD._jsonb -> '_rev', NEW._jsonb -> '_rev'
      USING ERRCODE = 'serialization_failure';
  END IF;
  RETURN NEW;
END $guard$;

CREATE OR REPLACE FUNCTION public.lifecycle_guard_table(target regclass) RETURNS void
LANGUAGE plpgsql AS $attach$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = target AND tgname = 'lifecycle_revision_guard') THEN
    EXECUTE format('CREATE TRIGGER lifecycle_revision_guard BEFORE UPDATE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION public.lifecycle_revision_guard()', target);
  END IF;
END $attach$;

CREATE OR REPLACE FUNCTION public.lifecycle_guard_new_tables() RETURNS event_trigger
LANGUAGE plpgsql AS $created$
DECLARE
  created record;
BEGIN
  FOR created IN
    SELECT c.oid::regclass AS target FROM pg_event_trigger_ddl_commands() AS d
    JOIN pg_class AS c ON c.oid = d.objid
    WHERE d.command_tag = 'CREATE TABLE' AND c.relkind = 'r'
      AND EXISTS (SELECT 1 FROM pg_attribute AS a
                  WHERE a.attrelid = c.oid AND a.attname = '_jsonb' AND NOT a.attisdropped)
  LOOP
    PERFORM public.lifecycle_guard_table(created.target);
  END LOOP;
END $created$;

DO $existing$
DECLARE
  found record;
BEGIN
  FOR found IN
    SELECT c.oid::regclass AS target FROM pg_class AS c
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND EXISTS (SELECT 1 FROM pg_attribute AS a
                  WHERE a.attrelid = c.oid AND a.attname = '_jsonb' AND NOT a.attisdropped)
  LOOP
    PERFORM public.lifecycle_guard_table(found.target);
  END LOOP;
END $existing$;

DROP EVENT TRIGGER IF EXISTS lifecycle_guard_new_tables;
CREATE EVENT TRIGGER lifecycle_guard_new_tables ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
  EXECUTE FUNCTION public.lifecycle_guard_new_tables();
"""


def install(postgres_url: str) -> None:
    """Install the revision guard in the PostgreSQL database FerretDB stores its data in."""
    import psycopg  # only the setup step needs it

    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(REVISION_GUARD_SQL)
