-- SPDX-License-Identifier: MIT
-- tmiDB core tables. Projections (ts_obs, target_state, geo_trace, raw_bucket) are derived from the
-- JetStream streams and can be rebuilt by replaying them; event_id makes every derived row idempotent.
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;

-- Creates a table partitioned by time: a TimescaleDB hypertable when the extension is loadable,
-- else native range partitions managed by pg_partman, else one default partition (external servers
-- without either extension still work, unpartitioned).
CREATE OR REPLACE FUNCTION tmi.create_time_partitioned(p_table text, p_columns text, p_time_col text)
RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
  partman_version text;
BEGIN
  IF to_regclass(p_table) IS NOT NULL THEN
    RETURN 'exists';
  END IF;
  IF current_setting('shared_preload_libraries', true) LIKE '%timescaledb%'
     AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
    CREATE EXTENSION IF NOT EXISTS timescaledb;
    EXECUTE format('CREATE TABLE %s (%s)', p_table, p_columns);
    EXECUTE format('SELECT create_hypertable(%L, %L, chunk_time_interval => interval %L)', p_table, p_time_col, '1 day');
    RETURN 'timescaledb';
  END IF;
  EXECUTE format('CREATE TABLE %s (%s) PARTITION BY RANGE (%I)', p_table, p_columns, p_time_col);
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_partman') THEN
    CREATE SCHEMA IF NOT EXISTS partman;
    CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA partman;
    SELECT extversion INTO partman_version FROM pg_extension WHERE extname = 'pg_partman';
    IF split_part(partman_version, '.', 1)::int >= 5 THEN
      EXECUTE format($q$SELECT partman.create_parent(p_parent_table => %L, p_control => %L, p_interval => '1 day',
        p_type => 'range', p_premake => 7, p_start_partition => (now() - interval '30 days')::text)$q$, p_table, p_time_col);
    ELSE
      EXECUTE format($q$SELECT partman.create_parent(p_parent_table => %L, p_control => %L, p_type => 'native',
        p_interval => 'daily', p_premake => 7, p_start_partition => (now() - interval '30 days')::text)$q$, p_table, p_time_col);
    END IF;
    RETURN 'pg_partman ' || partman_version;
  END IF;
  EXECUTE format('CREATE TABLE %s_default PARTITION OF %s DEFAULT', p_table, p_table);
  RETURN 'default partition only';
END
$fn$;

CREATE TABLE tmi.target (
  target_id  uuid PRIMARY KEY,
  name       text NOT NULL,
  kind       text NOT NULL,
  meta       jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX target_kind_idx ON tmi.target (kind, target_id);

-- One row per subject (a target kind, or '<kind>#norm' for normalized payloads).
CREATE TABLE tmi.schema_subject (
  subject       text PRIMARY KEY,
  compatibility text NOT NULL DEFAULT 'BACKWARD' CHECK (compatibility IN ('BACKWARD', 'NONE')),
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- Every registered payload schema; events keep their writer schema_id forever.
CREATE TABLE tmi.model_versions (
  schema_id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subject     text NOT NULL REFERENCES tmi.schema_subject (subject),
  version     integer NOT NULL CHECK (version > 0),
  schema      jsonb NOT NULL,
  fingerprint text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (subject, version),
  UNIQUE (subject, fingerprint)
);

CREATE TABLE tmi.ingest_connector (
  connector_id uuid PRIMARY KEY,
  name         text NOT NULL UNIQUE,
  type         text NOT NULL CHECK (type IN ('http', 'nats', 'sql', 'poll', 'kafka', 'files')),
  config       jsonb NOT NULL DEFAULT '{}',
  enabled      boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Normalization rules. A rule applies to events received at or after its created_at, so replaying
-- the stream gives the same result however often it runs.
CREATE TABLE tmi.mapping_rule (
  rule_id    uuid PRIMARY KEY,
  kind       text,
  target_id  uuid,
  field      text NOT NULL,
  action     text NOT NULL CHECK (action IN ('rename', 'convert', 'drop')),
  to_field   text,
  scale      double precision,
  "offset"   double precision,
  from_unit  text,
  to_unit    text,
  position   integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  deleted_at timestamptz,
  CHECK (action <> 'rename' OR to_field IS NOT NULL),
  CHECK (action <> 'convert' OR (scale IS NOT NULL AND "offset" IS NOT NULL))
);

-- Latest value and observation time per target and field (last write wins by observation time).
CREATE TABLE tmi.target_state (
  target_id  uuid NOT NULL,
  field      text NOT NULL,
  value      jsonb NOT NULL,
  ts         timestamptz NOT NULL,
  event_id   uuid NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (target_id, field)
);

-- Per stage: the highest stream sequence committed. Only rises.
CREATE TABLE tmi.consumer_checkpoint (
  consumer    text PRIMARY KEY,
  stream      text NOT NULL,
  stream_seq  bigint NOT NULL CHECK (stream_seq >= 0),
  events      bigint NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

SELECT tmi.create_time_partitioned('tmi.raw_bucket', $c$
  raw_id      bigint GENERATED ALWAYS AS IDENTITY,
  event_id    uuid NOT NULL,
  target_id   uuid NOT NULL,
  kind        text NOT NULL,
  speaker     text NOT NULL,
  occurred_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL,
  schema_id   integer NOT NULL,
  stream_seq  bigint NOT NULL,
  payload     jsonb NOT NULL,
  headers     jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (event_id, received_at)
$c$, 'received_at');

SELECT tmi.create_time_partitioned('tmi.ts_obs', $c$
  target_id   uuid NOT NULL,
  ts          timestamptz NOT NULL,
  event_id    uuid NOT NULL,
  schema_id   integer NOT NULL,
  payload     jsonb NOT NULL,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (target_id, ts, event_id)
$c$, 'ts');

SELECT tmi.create_time_partitioned('tmi.geo_trace', $c$
  target_id uuid NOT NULL,
  ts        timestamptz NOT NULL,
  event_id  uuid NOT NULL,
  lat       double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
  lon       double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
  alt       double precision,
  speed     double precision,
  heading   double precision,
  accuracy  double precision,
  PRIMARY KEY (target_id, ts, event_id)
$c$, 'ts');
CREATE INDEX geo_trace_earth_idx ON tmi.geo_trace USING gist (ll_to_earth(lat, lon));
