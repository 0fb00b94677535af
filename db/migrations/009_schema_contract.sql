-- SPDX-License-Identifier: MIT
-- The schema as a contract (issue 12): Confluent's compatibility modes, the lifecycle of a kind's
-- versions (deprecated, sunset, retired), the versions clients pin, typed SQL views per kind in the
-- `kinds` schema (recreated by a trigger whenever a version registers, in the registering
-- transaction, whichever process registers it), the read-only role for analysts, and partitions
-- moved out of `tmi` into `tmi_partitions` so that `\dt tmi.*` lists tables, not days.

ALTER TABLE tmi.schema_subject DROP CONSTRAINT IF EXISTS schema_subject_compatibility_check;
ALTER TABLE tmi.schema_subject ADD CONSTRAINT schema_subject_compatibility_check CHECK (compatibility IN (
  'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE', 'NONE'));

-- One row per version whose lifecycle changed. A version without a row is active.
CREATE TABLE tmi.kind_version_status (
  kind          text NOT NULL,
  version       integer NOT NULL CHECK (version > 0),
  status        text NOT NULL CHECK (status IN ('active', 'deprecated', 'retired')),
  deprecated_at timestamptz,
  sunset_at     timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, version)
);

-- Versions that clients pinned (/v1/kinds/{kind}/v{n}/…), at most one write per version per minute.
CREATE TABLE tmi.kind_version_use (
  kind         text NOT NULL,
  version      integer NOT NULL CHECK (version > 0),
  last_used_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, version)
);

CREATE SCHEMA IF NOT EXISTS kinds;
COMMENT ON SCHEMA kinds IS 'tmiDB: typed views per target kind (<kind>_obs, <kind>_state), recreated when a version registers';
CREATE SCHEMA IF NOT EXISTS tmi_partitions;
COMMENT ON SCHEMA tmi_partitions IS 'tmiDB: time partitions of tmi.ts_obs, tmi.geo_trace and tmi.raw_bucket';

-- An identifier of at most 63 bytes (PostgreSQL's limit): longer names keep a prefix and a hash.
CREATE OR REPLACE FUNCTION tmi.short_ident(p_name text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
  SELECT CASE WHEN octet_length(p_name) <= 63 THEN p_name
    ELSE (SELECT string_agg(c, '' ORDER BY i) FROM (
            SELECT c, i, sum(octet_length(c)) OVER (ORDER BY i) AS upto
              FROM regexp_split_to_table(p_name, '') WITH ORDINALITY AS t(c, i)) s WHERE upto <= 54)
         || '_' || left(md5(p_name), 8)
  END
$fn$;

-- The SQL expression reading one field of the jsonb `p_src` as the column type of its Avro type:
-- values of another JSON type (older versions under NONE) read as NULL, never as an error.
CREATE OR REPLACE FUNCTION tmi.kind_column_expr(p_src text, p_field text, p_type jsonb)
RETURNS text LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
  core jsonb := CASE WHEN jsonb_typeof(p_type) = 'array' THEN p_type -> 1 ELSE p_type END;
  v text := format('%s -> %L', p_src, p_field);
BEGIN
  IF core = '"double"' THEN
    RETURN format('CASE WHEN jsonb_typeof(%s) = ''number'' THEN (%s)::double precision END', v, v);
  ELSIF core = '"string"' THEN
    RETURN format('CASE WHEN jsonb_typeof(%s) = ''string'' THEN %s ->> %L END', v, p_src, p_field);
  ELSIF core = '"boolean"' THEN
    RETURN format('CASE WHEN jsonb_typeof(%s) = ''boolean'' THEN (%s)::boolean END', v, v);
  ELSIF core = '"null"' THEN
    RETURN format('%s', v);
  END IF;
  RETURN v; -- nested objects and arrays stay jsonb
END
$fn$;

-- (Re)creates kinds.<kind>_obs and kinds.<kind>_state from the latest version of '<kind>#norm' (the
-- shape readers see, after mapping rules). A view an analyst made on top of ours keeps the old views
-- alive: the recreation is skipped with a warning rather than failing the registration.
CREATE OR REPLACE FUNCTION tmi.refresh_kind_views(p_kind text) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  latest jsonb;
  latest_version integer;
  f jsonb;
  col text;
  used text[] := ARRAY['target_id', 'name', 'ts', 'event_id', 'schema_id', 'updated_at'];
  obs_cols text := '';
  state_cols text := '';
  obs_view text := format('kinds.%I', tmi.short_ident(p_kind || '_obs'));
  state_view text := format('kinds.%I', tmi.short_ident(p_kind || '_state'));
BEGIN
  SELECT schema, version INTO latest, latest_version FROM tmi.model_versions
   WHERE subject = p_kind || '#norm' ORDER BY version DESC LIMIT 1;
  IF latest IS NULL THEN RETURN; END IF;
  FOR f IN SELECT value FROM jsonb_array_elements(latest -> 'fields') LOOP
    col := tmi.short_ident(f ->> 'name');
    IF col = ANY (used) THEN col := tmi.short_ident('field_' || (f ->> 'name')); END IF;
    IF col = ANY (used) THEN CONTINUE; END IF;
    used := used || col;
    obs_cols := obs_cols || format(', %s AS %I', tmi.kind_column_expr('o.payload', f ->> 'name', f -> 'type'), col);
    state_cols := state_cols || format(', %s AS %I', tmi.kind_column_expr('s.v', f ->> 'name', f -> 'type'), col);
  END LOOP;
  BEGIN
    EXECUTE format('DROP VIEW IF EXISTS %s, %s', obs_view, state_view);
    EXECUTE format(
      'CREATE VIEW %s AS SELECT o.target_id, t.name, o.ts%s, o.event_id, o.schema_id
         FROM tmi.ts_obs o JOIN tmi.target t ON t.target_id = o.target_id WHERE t.kind = %L',
      obs_view, obs_cols, p_kind);
    EXECUTE format(
      'CREATE VIEW %s AS SELECT t.target_id, t.name, s.ts%s
         FROM tmi.target t
         LEFT JOIN LATERAL (SELECT jsonb_object_agg(field, value) AS v, max(ts) AS ts
                              FROM tmi.target_state WHERE target_id = t.target_id) s ON true
        WHERE t.kind = %L',
      state_view, state_cols, p_kind);
    EXECUTE format('COMMENT ON VIEW %s IS %L', obs_view,
      format('tmiDB: observations of kind %s, typed as version %s', p_kind, latest_version));
    EXECUTE format('COMMENT ON VIEW %s IS %L', state_view,
      format('tmiDB: latest state of each target of kind %s, typed as version %s', p_kind, latest_version));
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tmidb_reader') THEN
      EXECUTE format('GRANT SELECT ON %s, %s TO tmidb_reader', obs_view, state_view);
    END IF;
  EXCEPTION WHEN dependent_objects_still_exist THEN
    RAISE WARNING 'tmiDB: views of kind % are kept as they were: other objects depend on them (%)', p_kind, SQLERRM;
  END;
END
$fn$;

CREATE OR REPLACE FUNCTION tmi.model_versions_refresh_views() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF NEW.subject LIKE '%#norm' THEN
    PERFORM tmi.refresh_kind_views(left(NEW.subject, -5));
  END IF;
  RETURN NEW;
END
$fn$;

CREATE TRIGGER model_versions_refresh_views AFTER INSERT ON tmi.model_versions
  FOR EACH ROW EXECUTE FUNCTION tmi.model_versions_refresh_views();

SELECT tmi.refresh_kind_views(left(subject, -5)) FROM tmi.schema_subject WHERE subject LIKE '%#norm';

-- Moves every partition of tmiDB's partitioned tables into tmi_partitions (pg_partman makes new ones
-- next to their parent; the hourly maintenance calls this after it). Returns how many moved.
CREATE OR REPLACE FUNCTION tmi.move_partitions() RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
  part record;
  moved integer := 0;
BEGIN
  FOR part IN
    SELECT c.relname FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
      JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relnamespace = 'tmi'::regnamespace AND c.relnamespace = 'tmi'::regnamespace
       AND p.relname IN ('ts_obs', 'geo_trace', 'raw_bucket')
  LOOP
    EXECUTE format('ALTER TABLE tmi.%I SET SCHEMA tmi_partitions', part.relname);
    moved := moved + 1;
  END LOOP;
  RETURN moved;
END
$fn$;
SELECT tmi.move_partitions();

-- The [from, to) ranges of a parent's partitions (the default partition has none).
CREATE OR REPLACE FUNCTION tmi.partition_ranges(p_parent regclass)
RETURNS TABLE (lo timestamptz, hi timestamptz) LANGUAGE sql STABLE AS $fn$
  SELECT m[1]::timestamptz, m[2]::timestamptz
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
         regexp_match(pg_get_expr(c.relpartbound, c.oid), $re$FROM \('([^']+)'\) TO \('([^']+)'\)$re$) AS m
   WHERE i.inhparent = p_parent
$fn$;

-- pg_partman 4 finds a parent's partitions only in the parent's schema, so it can no longer make them:
-- the hourly maintenance calls this instead. Daily partitions from yesterday to `p_days` ahead are made
-- in tmi_partitions where no partition covers them yet. Days already covered are skipped before any
-- lock is taken (making a partition locks its parent).
CREATE OR REPLACE FUNCTION tmi.premake_partitions(p_days integer) RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
  parent text;
  day timestamptz;
  made integer := 0;
BEGIN
  FOREACH parent IN ARRAY ARRAY['ts_obs', 'geo_trace', 'raw_bucket'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_partitioned_table pt JOIN pg_class c ON c.oid = pt.partrelid
                    WHERE c.relnamespace = 'tmi'::regnamespace AND c.relname = parent) THEN
      CONTINUE;
    END IF;
    FOR day IN SELECT generate_series(date_trunc('day', now()) - interval '1 day',
                                      date_trunc('day', now()) + p_days * interval '1 day', interval '1 day') LOOP
      IF EXISTS (SELECT 1 FROM tmi.partition_ranges(format('tmi.%I', parent)::regclass) r
                  WHERE r.lo < day + interval '1 day' AND r.hi > day) THEN
        CONTINUE;
      END IF;
      BEGIN
        EXECUTE format('CREATE TABLE tmi_partitions.%I PARTITION OF tmi.%I FOR VALUES FROM (%L) TO (%L)',
          parent || '_p' || to_char(day, 'YYYY_MM_DD'), parent, day, day + interval '1 day');
        made := made + 1;
      EXCEPTION WHEN invalid_object_definition OR duplicate_table THEN
        NULL; -- another process made it just now
      END;
    END LOOP;
  END LOOP;
  RETURN made + tmi.move_partitions();
END
$fn$;
DO $do$
BEGIN
  IF to_regclass('partman.part_config') IS NOT NULL THEN
    DELETE FROM partman.part_config WHERE parent_table IN ('tmi.ts_obs', 'tmi.geo_trace', 'tmi.raw_bucket');
  END IF;
END
$do$;

-- The analysts' role: SELECT on the typed views and the projections, nothing else. It cannot log in
-- until `tmictl psql --read-only` gives it a password (derived from the admin password); analysts
-- may also get logins of their own: CREATE ROLE alice LOGIN PASSWORD '…' IN ROLE tmidb_reader.
DO $do$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tmidb_reader') THEN
    BEGIN
      CREATE ROLE tmidb_reader NOLOGIN;
      ALTER ROLE tmidb_reader SET default_transaction_read_only = on;
      ALTER ROLE tmidb_reader SET search_path = kinds, tmi, public;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- the role is cluster-wide: another database's migration made it just now
    END;
  END IF;
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO tmidb_reader', current_database());
END
$do$;
GRANT USAGE ON SCHEMA kinds, tmi TO tmidb_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA kinds TO tmidb_reader;
GRANT SELECT ON tmi.target, tmi.target_state, tmi.ts_obs, tmi.geo_trace, tmi.target_position,
  tmi.alarm, tmi.alarm_rule, tmi.model_versions, tmi.schema_subject TO tmidb_reader;
