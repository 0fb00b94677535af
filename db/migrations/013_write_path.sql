-- SPDX-License-Identifier: MIT
-- The write path's cost per event (issue 15, ADR 0028). geo_trace, the position history, loses its GiST
-- index on ll_to_earth(lat, lon): no query searches the history by place (radius queries use
-- target_position and its own GiST index; a trace is read by target and time through the primary key),
-- and maintaining it cost more PostgreSQL time than any other statement of the pipeline (84 → 24 ms per
-- 1,000 rows without it). Dropping the partitioned index drops it from every partition.
DROP INDEX IF EXISTS tmi.geo_trace_earth_idx;
