-- SPDX-License-Identifier: MIT
-- Rollups of ts_obs (ADR 0027): per target, field and 1-minute / 1-hour bucket, the count of events
-- holding the field, the exact (numeric) sum and the count of its numeric values, the lowest and highest
-- numeric value with the earliest time each was seen, and the first and last value (by observation time,
-- ties by event id). The project stage adds to them in the transaction that inserts the ts_obs rows, and
-- only for the rows that transaction inserted, so they always equal an aggregate of ts_obs.
-- Partitioned by day like ts_obs (an hour and a minute lie within one UTC day), so dropping a day of
-- ts_obs and the same day of the rollups keeps them equal.
SELECT tmi.create_time_partitioned(t.name, $c$
  target_id   uuid NOT NULL,
  field       text NOT NULL,
  bucket      timestamptz NOT NULL,
  count       bigint NOT NULL CHECK (count > 0),
  num_count   bigint NOT NULL CHECK (num_count >= 0),
  sum         numeric,
  min         double precision,
  min_us      bigint,
  max         double precision,
  max_us      bigint,
  first_ts    timestamptz NOT NULL,
  first_event uuid NOT NULL,
  first_value jsonb NOT NULL,
  last_ts     timestamptz NOT NULL,
  last_event  uuid NOT NULL,
  last_value  jsonb NOT NULL,
  PRIMARY KEY (target_id, field, bucket)
$c$, 'bucket')
FROM (VALUES ('tmi.obs_rollup_1m'), ('tmi.obs_rollup_1h')) AS t(name);

-- µs since the epoch as a float8 (exact below 2^53), as min(ARRAY[value, µs]) needs it.
-- The rollups keep the times of their min and max as µs (bigint): a chart reads thousands of them, and
-- converting a timestamptz costs more than the rest of the query.
CREATE OR REPLACE FUNCTION tmi.ts_micros(p_ts timestamptz) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$ SELECT (extract(epoch FROM p_ts) * 1000000)::float8 $fn$;

-- numeric → float8 for answers: sum and avg are computed exactly (numeric) and converted once. Beyond
-- float8's range a value becomes ±Infinity or 0, as float8 arithmetic would give, instead of an error.
CREATE OR REPLACE FUNCTION tmi.float8_edge(p_n numeric) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
BEGIN
  RETURN p_n::float8;
EXCEPTION WHEN numeric_value_out_of_range THEN
  RETURN CASE WHEN abs(p_n) < 1 THEN 0 WHEN p_n > 0 THEN 'Infinity'::float8 ELSE '-Infinity'::float8 END;
END
$fn$;
CREATE OR REPLACE FUNCTION tmi.float8_of(p_n numeric) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT CASE WHEN p_n = 0 OR abs(p_n) BETWEEN 1e-300 AND 1e300 THEN p_n::float8 ELSE tmi.float8_edge(p_n) END
$fn$;

-- The rollup cells of one target's ts_obs rows in [p_from, p_to), in buckets of p_width on the 2000-01-01
-- grid, for the fields p_fields (NULL: every field). The one definition of a cell: the rebuild below and
-- the partial edge buckets of rollup-backed queries (projections/obs-rollups.ts) both read it.
CREATE OR REPLACE FUNCTION tmi.obs_cells(p_target uuid, p_fields text[], p_from timestamptz, p_to timestamptz,
                                         p_width interval)
RETURNS TABLE (bucket timestamptz, field text, count bigint, num_count bigint, sum numeric,
               min double precision, min_us bigint, max double precision, max_us bigint,
               first_ts timestamptz, first_event uuid, first_value jsonb,
               last_ts timestamptz, last_event uuid, last_value jsonb)
LANGUAGE sql STABLE AS $fn$
  WITH obs AS (
    SELECT date_bin(p_width, o.ts, timestamptz '2000-01-01 00:00:00+00') AS bucket, f.field, o.ts,
           CASE WHEN jsonb_typeof(o.payload -> f.field) = 'number' THEN o.payload -> f.field END AS val
    FROM tmi.ts_obs o
    CROSS JOIN LATERAL (SELECT k FROM jsonb_object_keys(o.payload) AS k
                        WHERE p_fields IS NULL OR k = ANY (p_fields)) AS f(field)
    WHERE o.target_id = p_target AND o.ts >= p_from AND o.ts < p_to
  ), cells AS (
    SELECT bucket, field, count(*) AS count, count(val) AS num_count, sum(val::numeric) AS sum,
           min(ARRAY[val::float8, tmi.ts_micros(ts)]) FILTER (WHERE val IS NOT NULL) AS lo,
           max(ARRAY[val::float8, -tmi.ts_micros(ts)]) FILTER (WHERE val IS NOT NULL) AS hi,
           min(ts) AS first_ts, max(ts) AS last_ts
    FROM obs GROUP BY bucket, field
  )
  -- first/last: the earliest/latest row holding the field, ties by event id (one index probe each).
  SELECT c.bucket, c.field, c.count, c.num_count, c.sum, c.lo[1], c.lo[2]::bigint, c.hi[1], (-c.hi[2])::bigint,
         c.first_ts, f.event_id, f.value, c.last_ts, l.event_id, l.value
  FROM cells c
  CROSS JOIN LATERAL (SELECT o.event_id, o.payload -> c.field AS value FROM tmi.ts_obs o
                      WHERE o.target_id = p_target AND o.ts = c.first_ts AND o.payload ? c.field
                      ORDER BY o.event_id LIMIT 1) f
  CROSS JOIN LATERAL (SELECT o.event_id, o.payload -> c.field AS value FROM tmi.ts_obs o
                      WHERE o.target_id = p_target AND o.ts = c.last_ts AND o.payload ? c.field
                      ORDER BY o.event_id DESC LIMIT 1) l
$fn$;

-- Recomputes the rollups of [p_from, p_to) (widened to whole hours) from ts_obs, for one target or
-- (NULL) every target: for the migration of existing data, rows written into ts_obs by hand, and the
-- bench. The table locks wait for the stages' transactions in flight and hold off new ones, whose
-- increments then apply on top of the recomputed rows.
CREATE OR REPLACE FUNCTION tmi.obs_rollups_rebuild(p_target uuid, p_from timestamptz, p_to timestamptz)
RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
  origin constant timestamptz := timestamptz '2000-01-01 00:00:00+00';
  lo timestamptz := CASE WHEN isfinite(p_from) THEN date_bin('1 hour', p_from, origin) ELSE p_from END;
  hi timestamptz := CASE WHEN NOT isfinite(p_to) OR date_bin('1 hour', p_to, origin) = p_to THEN p_to
                         ELSE date_bin('1 hour', p_to, origin) + interval '1 hour' END;
  t uuid;
  made bigint := 0;
  n bigint;
BEGIN
  LOCK TABLE tmi.obs_rollup_1m, tmi.obs_rollup_1h IN SHARE ROW EXCLUSIVE MODE;
  DELETE FROM tmi.obs_rollup_1m r WHERE (p_target IS NULL OR r.target_id = p_target) AND r.bucket >= lo AND r.bucket < hi;
  DELETE FROM tmi.obs_rollup_1h r WHERE (p_target IS NULL OR r.target_id = p_target) AND r.bucket >= lo AND r.bucket < hi;
  FOR t IN SELECT p_target WHERE p_target IS NOT NULL
           UNION SELECT DISTINCT o.target_id FROM tmi.ts_obs o
                 WHERE p_target IS NULL AND o.ts >= lo AND o.ts < hi LOOP
    INSERT INTO tmi.obs_rollup_1m SELECT t, c.field, c.bucket, c.count, c.num_count, c.sum, c.min, c.min_us, c.max, c.max_us,
           c.first_ts, c.first_event, c.first_value, c.last_ts, c.last_event, c.last_value FROM tmi.obs_cells(t, NULL, lo, hi, interval '1 minute') c;
    GET DIAGNOSTICS n = ROW_COUNT;
    made := made + n;
    INSERT INTO tmi.obs_rollup_1h SELECT t, c.field, c.bucket, c.count, c.num_count, c.sum, c.min, c.min_us, c.max, c.max_us,
           c.first_ts, c.first_event, c.first_value, c.last_ts, c.last_event, c.last_value FROM tmi.obs_cells(t, NULL, lo, hi, interval '1 hour') c;
    GET DIAGNOSTICS n = ROW_COUNT;
    made := made + n;
  END LOOP;
  RETURN made;
END
$fn$;

-- The daily partitions of the rollups are made and moved like those of ts_obs (migration 009's functions,
-- with the two tables added to their lists).
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
       AND p.relname IN ('ts_obs', 'geo_trace', 'raw_bucket', 'obs_rollup_1m', 'obs_rollup_1h')
  LOOP
    EXECUTE format('ALTER TABLE tmi.%I SET SCHEMA tmi_partitions', part.relname);
    moved := moved + 1;
  END LOOP;
  RETURN moved;
END
$fn$;

CREATE OR REPLACE FUNCTION tmi.premake_partitions(p_days integer) RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
  parent text;
  day timestamptz;
  made integer := 0;
BEGIN
  FOREACH parent IN ARRAY ARRAY['ts_obs', 'geo_trace', 'raw_bucket', 'obs_rollup_1m', 'obs_rollup_1h'] LOOP
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

SELECT tmi.move_partitions();
DO $do$
BEGIN
  IF to_regclass('partman.part_config') IS NOT NULL THEN
    DELETE FROM partman.part_config WHERE parent_table IN ('tmi.obs_rollup_1m', 'tmi.obs_rollup_1h');
  END IF;
END
$do$;

GRANT SELECT ON tmi.obs_rollup_1m, tmi.obs_rollup_1h TO tmidb_reader;

-- Existing observations get their rollups now (a fresh database has none).
SELECT tmi.obs_rollups_rebuild(NULL, '-infinity', 'infinity');
