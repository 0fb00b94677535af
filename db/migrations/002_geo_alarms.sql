-- SPDX-License-Identifier: MIT
-- The geo projection and the alarm engine (issue 4). Like every projection these are derived from
-- TMI_NORM; alarm rules and the alarms' acknowledgements are the only state people write.

-- Latest position per target: last write wins by observation time, ties broken by event id, so a late
-- event never moves a target backwards. /v1/geo/near searches this table through the GiST index.
CREATE TABLE tmi.target_position (
  target_id  uuid PRIMARY KEY,
  ts         timestamptz NOT NULL,
  event_id   uuid NOT NULL,
  lat        double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
  lon        double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
  alt        double precision,
  speed      double precision,
  heading    double precision,
  accuracy   double precision,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX target_position_earth_idx ON tmi.target_position USING gist (ll_to_earth(lat, lon));

-- Events a stage read and deliberately did not project, with the reason (geo: coordinates out of range,
-- not numbers, half a position). One row per stage and event, so a redelivered batch records nothing
-- twice; `tmictl pipeline status` counts them. Pruned with the streams' retention.
CREATE TABLE tmi.stage_skip (
  consumer    text NOT NULL,
  event_id    uuid NOT NULL,
  target_id   uuid NOT NULL,
  ts          timestamptz NOT NULL,
  reason      text NOT NULL,
  detail      text NOT NULL DEFAULT '',
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
CREATE INDEX stage_skip_reason_idx ON tmi.stage_skip (consumer, reason);
CREATE INDEX stage_skip_recorded_idx ON tmi.stage_skip (recorded_at);

-- Alarm rules. Scope: one target, one kind, or (both null) every target. `spec` is the validated
-- definition of its `type` (processors/alarm-rule.ts). A change of the definition bumps `version`, clears
-- the rule's open alarms and resets its evaluation state. Deleted rules stay (their alarms refer to them).
CREATE TABLE tmi.alarm_rule (
  rule_id     uuid PRIMARY KEY,
  name        text NOT NULL,
  description text NOT NULL DEFAULT '',
  target_id   uuid,
  kind        text,
  severity    text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning', 'info')),
  type        text NOT NULL CHECK (type IN ('threshold', 'deadman', 'geofence')),
  spec        jsonb NOT NULL,
  enabled     boolean NOT NULL DEFAULT true,
  version     integer NOT NULL DEFAULT 1 CHECK (version > 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz,
  CHECK (target_id IS NULL OR kind IS NULL)
);
CREATE INDEX alarm_rule_live_idx ON tmi.alarm_rule (created_at) WHERE deleted_at IS NULL;

-- Alarms: active → acknowledged → cleared (or active → cleared). At most one open alarm per rule × target.
CREATE TABLE tmi.alarm (
  alarm_id        uuid PRIMARY KEY,
  rule_id         uuid NOT NULL REFERENCES tmi.alarm_rule (rule_id),
  rule_version    integer NOT NULL,
  target_id       uuid NOT NULL,
  severity        text NOT NULL,
  state           text NOT NULL CHECK (state IN ('active', 'acknowledged', 'cleared')),
  raised_at       timestamptz NOT NULL,
  reason          text NOT NULL,
  trigger         jsonb NOT NULL DEFAULT '{}',
  acknowledged_at timestamptz,
  acknowledged_by text,
  cleared_at      timestamptz,
  cleared_by      text,
  clear_reason    text,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((state = 'cleared') = (cleared_at IS NOT NULL)),
  CHECK (state <> 'acknowledged' OR acknowledged_at IS NOT NULL)
);
CREATE UNIQUE INDEX alarm_open_uq ON tmi.alarm (rule_id, target_id) WHERE state <> 'cleared';
CREATE INDEX alarm_raised_idx ON tmi.alarm (raised_at DESC, alarm_id DESC);
CREATE INDEX alarm_target_idx ON tmi.alarm (target_id, raised_at DESC);
CREATE INDEX alarm_rule_idx ON tmi.alarm (rule_id, raised_at DESC);

-- The full history: every transition of every alarm, once (the key makes a repeated write harmless).
CREATE TABLE tmi.alarm_event (
  alarm_id    uuid NOT NULL REFERENCES tmi.alarm (alarm_id),
  transition  text NOT NULL CHECK (transition IN ('raised', 'acknowledged', 'cleared')),
  at          timestamptz NOT NULL,
  by          text NOT NULL,
  reason      text NOT NULL,
  detail      jsonb NOT NULL DEFAULT '{}',
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (alarm_id, transition)
);

-- Evaluation state per rule × target (field values seen, condition-true-since, inside/outside, the open
-- alarm), written in the same transaction as the batch and the checkpoint. `due_us` (µs since the epoch)
-- is when a time-based condition (`for`, deadman) must be looked at again even without new data: the
-- alarm stage's timer claims due rows with FOR UPDATE SKIP LOCKED, so a deadline survives a restart.
CREATE TABLE tmi.alarm_state (
  rule_id      uuid NOT NULL,
  target_id    uuid NOT NULL,
  rule_version integer NOT NULL,
  state        jsonb NOT NULL,
  due_us       bigint,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rule_id, target_id)
);
CREATE INDEX alarm_state_due_idx ON tmi.alarm_state (due_us) WHERE due_us IS NOT NULL;
CREATE INDEX alarm_state_target_idx ON tmi.alarm_state (target_id);

-- Transitions waiting to be published to <ns>.alarm.<target_id>: written in the transaction that makes
-- them, published after the commit with Nats-Msg-Id = msg_id (`<alarm_id>:<transition>`), then deleted.
CREATE TABLE tmi.alarm_outbox (
  outbox_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  msg_id     text NOT NULL,
  target_id  uuid NOT NULL,
  body       jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
