-- SPDX-License-Identifier: MIT
-- geo_trace loses its GiST index on ll_to_earth(lat, lon). No query reads the position history by place:
-- radius queries answer from target_position (which keeps its GiST index), and the trace is read by
-- target and time on the primary key. Keeping the index up to date was the largest single cost of ingest
-- (`npm run bench`, pg_stat_statements: ~55 ms of PostgreSQL time per 1,000 events, more than raw_bucket).
-- A spatial query over the history, if one comes, wants an index per closed partition, built once.
DROP INDEX IF EXISTS tmi.geo_trace_earth_idx;
