-- SPDX-License-Identifier: MIT
-- Files (issue 14), and the Kafka listener sink's connector type (at the end). Files: the object lives
-- in the S3 bucket under object_key; this row says which target it belongs to and what was verified
-- (size, sha256). 'pending' rows are presigned uploads not completed yet: they have no event and
-- expire. Deleting a target deletes its rows (the API deletes the objects first).
CREATE TABLE tmi.file (
  file_id      uuid PRIMARY KEY,
  target_id    uuid NOT NULL REFERENCES tmi.target (target_id) ON DELETE CASCADE,
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  object_key   text NOT NULL UNIQUE,
  content_type text NOT NULL,
  state        text NOT NULL CHECK (state IN ('pending', 'complete')),
  size         bigint CHECK (size >= 0),
  sha256       text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  event_id     uuid,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz,
  CHECK (state = 'pending' OR (size IS NOT NULL AND sha256 IS NOT NULL AND event_id IS NOT NULL))
);
CREATE INDEX file_target_idx ON tmi.file (target_id);

-- The Kafka listener sink (issue 14) is a managed connector too: its lease, cursor and status live in
-- the same tables as the sources'.
ALTER TABLE tmi.ingest_connector DROP CONSTRAINT ingest_connector_type_check;
ALTER TABLE tmi.ingest_connector ADD CONSTRAINT ingest_connector_type_check
  CHECK (type IN ('http', 'nats', 'sql', 'poll', 'kafka', 'kafka_sink', 'files'));
