-- Makes a PostgreSQL database fit for FerretDB v1's point lookups. Idempotent: infra/postgres.sh runs it at every start.
--
-- FerretDB v1 stores a Mongo database as a schema and each collection as a table with one jsonb column, `_jsonb`
-- (the table's name is in <schema>._ferretdb_database_metadata). It pushes a top-level scalar equality down as
-- `_jsonb->'field' @> value`, but the indexes it creates are btree expression indexes on `_jsonb->'field'`, which
-- `@>` cannot use: every lookup, even by `_id`, scans the table. A GIN `jsonb_path_ops` index on the same expression
-- serves it. The event trigger below adds that GIN "twin" whenever FerretDB creates an index whose first key is a
-- top-level field; FerretDB creates the `_id_` index with every collection, so each collection, in every database
-- (per-test ones too), gets its `_id` GIN index at creation. lifecycle_gin_index() adds one for any other field.

SET client_min_messages = warning;

-- FerretDB's pgx driver caches prepared statements; after five runs PostgreSQL may switch to a generic plan, which
-- cannot see the value inside `@>` and so never picks the GIN index. Custom plans are cheap for these queries.
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET plan_cache_mode = force_custom_plan', current_database()); END $$;

-- Creates (if missing) the GIN index for `_jsonb->field` on one FerretDB collection table; returns its name.
-- fastupdate = off: by default GIN queues new entries in a pending list that every lookup scans in full until
-- (auto)vacuum merges it; after a burst of 20k inserts that tripled the time of a find by _id (3.0 vs 1.3 ms).
-- The name is derived from table and field, so a second call finds it; the `_gin` suffix cannot clash with
-- FerretDB's own index names, which end in `_idx`.
CREATE OR REPLACE FUNCTION lifecycle_gin_index_on(tbl regclass, field text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    sch text;
    rel text;
    idx text;
BEGIN
    SELECT n.nspname, c.relname INTO sch, rel
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = tbl;
    idx := left(rel, 30) || '_' || left(md5(rel || '.' || field), 12) || '_gin';
    -- Checked first so that the usual case sends no "already exists" notice to FerretDB's log;
    -- IF NOT EXISTS still covers two sessions racing.
    IF to_regclass(format('%I.%I', sch, idx)) IS NULL THEN
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin ((_jsonb -> %L) jsonb_path_ops) '
                       'WITH (fastupdate = off)', idx, sch, rel, field);
    END IF;
    RETURN idx;
END $$;

-- For the storage layer: a GIN index on top-level `field` of collection `collection` in Mongo database `db`
-- (= schema). Idempotent; returns the index name. Raises if the collection does not exist yet.
CREATE OR REPLACE FUNCTION lifecycle_gin_index(db text, collection text, field text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    rel text;
BEGIN
    IF to_regclass(format('%I._ferretdb_database_metadata', db)) IS NULL THEN
        RAISE EXCEPTION 'no FerretDB database %', db USING ERRCODE = 'undefined_table';
    END IF;
    EXECUTE format('SELECT _jsonb->>''table'' FROM %I._ferretdb_database_metadata WHERE _jsonb->>''_id'' = $1', db)
        INTO rel USING collection;
    IF rel IS NULL THEN
        RAISE EXCEPTION 'no collection %.% in FerretDB', db, collection USING ERRCODE = 'undefined_table';
    END IF;
    RETURN lifecycle_gin_index_on(format('%I.%I', db, rel)::regclass, field);
END $$;

-- If `index` is a btree index that FerretDB made on a collection table and its first key is a top-level field
-- (`_jsonb -> 'field'`, not a dotted path), adds the GIN twin for that field. Only the first key: it is the
-- equality prefix of a compound index; later keys are usually sort keys, which FerretDB never pushes down.
CREATE OR REPLACE FUNCTION lifecycle_gin_twin(index oid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    tbl oid;
    key text;
    m text[];
BEGIN
    SELECT i.indrelid, pg_get_indexdef(i.indexrelid, 1, false) INTO tbl, key
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_am am ON am.oid = ic.relam
    JOIN pg_class t ON t.oid = i.indrelid
    WHERE i.indexrelid = index
      AND am.amname = 'btree'
      AND t.relname <> '_ferretdb_database_metadata'
      -- a collection table: its schema holds FerretDB's metadata table
      AND EXISTS (SELECT FROM pg_class md
                  WHERE md.relnamespace = t.relnamespace AND md.relname = '_ferretdb_database_metadata');
    IF tbl IS NULL THEN
        RETURN;
    END IF;
    m := regexp_match(key, '^\(*_jsonb -> ''((?:[^'']|'''')*)''::text\)*$');
    IF m IS NOT NULL THEN
        PERFORM lifecycle_gin_index_on(tbl, replace(m[1], '''''', ''''));
    END IF;
END $$;

CREATE OR REPLACE FUNCTION lifecycle_gin_on_create_index() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    cmd record;
BEGIN
    FOR cmd IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'index' LOOP
        PERFORM lifecycle_gin_twin(cmd.objid);
    END LOOP;
END $$;

-- CREATE EVENT TRIGGER has no IF NOT EXISTS or OR REPLACE.
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_event_trigger WHERE evtname = 'lifecycle_gin_on_create_index') THEN
        CREATE EVENT TRIGGER lifecycle_gin_on_create_index ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
            EXECUTE FUNCTION lifecycle_gin_on_create_index();
    END IF;
END $$;

-- Catch up with collections created before this trigger existed (or while it was missing).
SELECT lifecycle_gin_twin(i.indexrelid)
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relnamespace IN (SELECT relnamespace FROM pg_class WHERE relname = '_ferretdb_database_metadata');
