-- SPDX-License-Identifier: MIT
-- Which events each projecting stage has already applied. JetStream drops a retried write only inside
-- its duplicate window (TMIDB_DEDUPE_WINDOW_MS); a client that retries later with the same event_id
-- (and without `ts`, so with a new observation time) must still get one event, not two. The stages that
-- write rows claim each event here first, in the same transaction, and skip what was claimed before.
-- Rows older than the streams' retention are pruned by the hourly maintenance.
CREATE TABLE tmi.event_ledger (
  event_id    uuid NOT NULL,
  consumer    text NOT NULL,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (event_id, consumer)
);
CREATE INDEX event_ledger_received_idx ON tmi.event_ledger (received_at);
