-- The AI normalizer (issue 11): the canonical vocabulary, per-kind model roles, one decision per
-- (kind, field) the first time a field is seen, the model's suggestions for a person, and mapping rules
-- that remember who made them (a user, the model, or a person approving a suggestion).

CREATE TABLE tmi.vocabulary (
  name        text PRIMARY KEY,
  unit        text NOT NULL,
  description text NOT NULL DEFAULT '',
  builtin     boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

INSERT INTO tmi.vocabulary (name, unit, description, builtin) VALUES
  ('temperature', 'C', 'Temperature in degrees Celsius.', true),
  ('humidity', '%', 'Relative humidity in percent.', true),
  ('pressure', 'hPa', 'Pressure (barometric, tyre, line) in hectopascals.', true),
  ('lat', 'deg', 'Latitude in decimal degrees (WGS 84).', true),
  ('lon', 'deg', 'Longitude in decimal degrees (WGS 84).', true),
  ('alt', 'm', 'Altitude above sea level in metres.', true),
  ('speed', 'km/h', 'Speed over ground in kilometres per hour.', true),
  ('heading', 'deg', 'Direction of travel in degrees from north.', true),
  ('battery', '%', 'Battery charge in percent.', true),
  ('voltage', 'V', 'Electric potential in volts.', true),
  ('current', 'A', 'Electric current in amperes.', true),
  ('power', 'W', 'Electric power in watts.', true),
  ('energy', 'kWh', 'Energy in kilowatt-hours.', true),
  ('co2', 'ppm', 'Carbon dioxide concentration in parts per million.', true),
  ('pm25', 'ug/m3', 'Fine particulate matter (PM2.5) in µg/m³.', true),
  ('pm10', 'ug/m3', 'Particulate matter (PM10) in µg/m³.', true),
  ('noise', 'dB', 'Sound level in decibels.', true),
  ('rssi', 'dBm', 'Received signal strength in dBm.', true),
  ('heart_rate', 'bpm', 'Heart rate in beats per minute.', true),
  ('steps', 'count', 'Step count.', true),
  ('accuracy', 'm', 'Position accuracy (radius) in metres.', true),
  ('fuel_level', '%', 'Fuel tank level in percent.', true),
  ('odometer', 'km', 'Distance travelled in kilometres.', true),
  ('rpm', 'rpm', 'Engine or shaft speed in revolutions per minute.', true),
  ('door_open', 'bool', 'Whether a door is open.', true),
  ('light', 'lux', 'Illuminance in lux.', true),
  ('wind_speed', 'm/s', 'Wind speed in metres per second.', true),
  ('wind_direction', 'deg', 'Direction the wind comes from, degrees from north.', true),
  ('rainfall', 'mm', 'Precipitation in millimetres.', true),
  ('status', 'text', 'Operational status as text.', true)
ON CONFLICT (name) DO NOTHING;

-- Per kind: auto (default: confident mappings apply), suggest (the model only suggests), off (rules only).
CREATE TABLE tmi.normalize_kind (
  kind       text PRIMARY KEY,
  model_role text NOT NULL DEFAULT 'auto' CHECK (model_role IN ('auto', 'suggest', 'off')),
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- 'map': rename to to_field and convert (value · scale + offset) in one rule, never overwriting a field
-- the event already holds.
ALTER TABLE tmi.mapping_rule DROP CONSTRAINT mapping_rule_action_check;
ALTER TABLE tmi.mapping_rule ADD CONSTRAINT mapping_rule_action_check
  CHECK (action IN ('rename', 'convert', 'drop', 'map'));
ALTER TABLE tmi.mapping_rule ADD CONSTRAINT mapping_rule_map_check
  CHECK (action <> 'map' OR (to_field IS NOT NULL AND scale IS NOT NULL AND "offset" IS NOT NULL));
ALTER TABLE tmi.mapping_rule
  ADD COLUMN source        text NOT NULL DEFAULT 'user' CHECK (source IN ('user', 'model', 'person')),
  ADD COLUMN model_version text,
  ADD COLUMN confidence    double precision,
  ADD COLUMN suggestion_id uuid;

-- One per (kind, field), made the first time the normalize stage sees the field; never remade, so a
-- replay applies what was decided then, whatever the model says today.
CREATE TABLE tmi.normalize_decision (
  kind              text NOT NULL,
  field             text NOT NULL,
  decision          text NOT NULL CHECK (decision IN ('auto', 'suggest', 'keep', 'rule')),
  canonical         text,
  from_unit         text,
  to_unit           text,
  confidence        double precision,
  model_version     text,
  reason            text NOT NULL,
  first_event_id    uuid NOT NULL,
  first_received_at timestamptz NOT NULL,
  decided_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (kind, field)
);

CREATE TABLE tmi.mapping_suggestion (
  suggestion_id uuid PRIMARY KEY,
  kind          text NOT NULL,
  field         text NOT NULL,
  cause         text NOT NULL CHECK (cause IN ('model', 'clash')),
  canonical     text,
  from_unit     text,
  to_unit       text,
  confidence    double precision,
  model_version text,
  samples       jsonb NOT NULL DEFAULT '[]',
  reason        text NOT NULL,
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  rule_id       uuid,
  created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  decided_at    timestamptz,
  UNIQUE (kind, field, cause)
);
CREATE INDEX mapping_suggestion_pending ON tmi.mapping_suggestion (created_at) WHERE status = 'pending';
