-- SPDX-License-Identifier: MIT
-- Identity and listeners: API keys (stored as SHA-256 of their secret, shown once at creation),
-- listeners with their subscriptions. The fanout stage compiles the subscriptions into an in-memory
-- index; nothing here is read per event.

-- A listener: a named consumer of tmiDB's data, with its own REST endpoint (/api/<name>) and stream
-- (<ns>.listen.<listener_id>.<target_id>).
CREATE TABLE tmi.listener (
  listener_id uuid PRIMARY KEY,
  name        text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z][A-Za-z0-9_-]{0,63}$'),
  description text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- What a listener receives: one target, or every target of a kind (optionally only those whose meta
-- holds each key of meta_filter with that value); only `fields` (NULL = every field); alarms or not.
CREATE TABLE tmi.subscription (
  subscription_id uuid PRIMARY KEY,
  listener_id     uuid NOT NULL REFERENCES tmi.listener (listener_id) ON DELETE CASCADE,
  target_id       uuid,
  kind            text,
  meta_filter     jsonb,
  fields          text[],
  alarms          boolean NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((target_id IS NULL) <> (kind IS NULL)),
  CHECK (meta_filter IS NULL OR (kind IS NOT NULL AND jsonb_typeof(meta_filter) = 'object'))
);
CREATE INDEX subscription_listener_idx ON tmi.subscription (listener_id);

-- API keys. The secret is 256 random bits, so a plain SHA-256 is the right hash (no password
-- stretching needed); only the hash is kept. Scopes: admin (everything), speaker (writes to the
-- granted targets and kinds), listener (reads what its listener's subscriptions allow).
CREATE TABLE tmi.api_key (
  key_id        uuid PRIMARY KEY,
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  scope         text NOT NULL CHECK (scope IN ('admin', 'speaker', 'listener')),
  secret_sha256 text NOT NULL CHECK (secret_sha256 ~ '^[0-9a-f]{64}$'),
  listener_id   uuid REFERENCES tmi.listener (listener_id) ON DELETE CASCADE,
  grant_targets uuid[] NOT NULL DEFAULT '{}',
  grant_kinds   text[] NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz,
  revoked_at    timestamptz,
  CHECK ((scope = 'listener') = (listener_id IS NOT NULL)),
  CHECK (scope = 'speaker' OR (grant_targets = '{}' AND grant_kinds = '{}'))
);
CREATE INDEX api_key_listener_idx ON tmi.api_key (listener_id);
