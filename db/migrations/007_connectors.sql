-- SPDX-License-Identifier: MIT
-- Managed connectors (issue 13): their run state, lease and source cursor; the tmi.speak() outbox.
-- A connector's cursor moves only after JetStream's PubAck for what it read, in an UPDATE fenced by the
-- lease (owner + epoch), so a process that lost its lease can never move a cursor another one owns.

ALTER TABLE tmi.ingest_connector ADD COLUMN paused boolean NOT NULL DEFAULT false;

CREATE TABLE tmi.connector_state (
  connector_id     uuid PRIMARY KEY REFERENCES tmi.ingest_connector (connector_id) ON DELETE CASCADE,
  cursor           jsonb,
  state            text NOT NULL DEFAULT 'idle'
                   CHECK (state IN ('idle', 'running', 'paused', 'backing_off', 'failing', 'stopped')),
  owner            text,
  lease_expires_at timestamptz,
  lease_epoch      bigint NOT NULL DEFAULT 0,
  failures         integer NOT NULL DEFAULT 0,
  last_success_at  timestamptz,
  last_error       text,
  last_error_code  text,
  last_error_at    timestamptz,
  next_run_at      timestamptz,
  events_emitted   bigint NOT NULL DEFAULT 0,
  items_rejected   bigint NOT NULL DEFAULT 0,
  bytes_read       bigint NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Processes that run connectors (`tmictl up`, `tmictl connector run`): their heartbeats tell each one
-- how many share the work, so each takes its share of the connectors.
CREATE TABLE tmi.connector_worker (
  worker_id    text PRIMARY KEY,
  pid          integer NOT NULL,
  host         text NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);

-- UUIDv7 (time-ordered, like every other event id) from PostgreSQL 15's gen_random_uuid().
CREATE FUNCTION tmi.uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $fn$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
              FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$fn$;

-- Events written by SQL clients with tmi.speak(), waiting for the drainer (the `speak` connector) to
-- publish them; deleted after the PubAck.
CREATE TABLE tmi.speak_outbox (
  outbox_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id   uuid NOT NULL,
  target_id  uuid NOT NULL,
  data       jsonb NOT NULL,
  ts         timestamptz NOT NULL,
  db_user    text NOT NULL DEFAULT current_user,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Outbox rows the write path refused (bad data, unknown target, schema conflict), with the reason.
CREATE TABLE tmi.speak_rejected (
  outbox_id   bigint PRIMARY KEY,
  event_id    uuid NOT NULL,
  target_id   uuid NOT NULL,
  data        jsonb NOT NULL,
  ts          timestamptz NOT NULL,
  db_user     text NOT NULL,
  created_at  timestamptz NOT NULL,
  code        text NOT NULL,
  reason      text NOT NULL,
  rejected_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX speak_rejected_at_idx ON tmi.speak_rejected (rejected_at);

CREATE FUNCTION tmi.speak(target_id uuid, data jsonb, ts timestamptz DEFAULT NULL, event_id uuid DEFAULT NULL)
RETURNS uuid LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, tmi AS $fn$
DECLARE
  id uuid := coalesce(speak.event_id, tmi.uuid_v7());
BEGIN
  IF speak.target_id IS NULL OR speak.data IS NULL THEN
    RAISE EXCEPTION 'tmi.speak: target_id and data must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  INSERT INTO tmi.speak_outbox (event_id, target_id, data, ts, db_user)
  VALUES (id, speak.target_id, speak.data, coalesce(speak.ts, clock_timestamp()), session_user);
  -- Delivered at COMMIT only (and once per transaction): a rolled-back speak wakes nobody.
  PERFORM pg_notify('tmi_speak', '');
  RETURN id;
END
$fn$;

COMMENT ON FUNCTION tmi.speak(uuid, jsonb, timestamptz, uuid) IS
  'tmiDB: write one event about a target from SQL; returns its event_id. Joins your transaction: a rollback '
  'emits nothing, a commit emits exactly once (published to TMI_IN by the speak connector after COMMIT, '
  'speaker sql:speak). data is a JSON object of fields; ts defaults to the call time; pass event_id to make '
  'a retry idempotent. Rows the write path refuses land in tmi.speak_rejected with the reason.';

-- The built-in connector that drains the outbox: paused, resumed and watched like any other.
INSERT INTO tmi.ingest_connector (connector_id, name, type, config)
VALUES ('00000000-0000-7000-8000-000000000001', 'speak', 'sql', '{"outbox": true}');
