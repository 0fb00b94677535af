-- SPDX-License-Identifier: MIT
-- Autovacuum could not analyze tmi.target_position (issue 15, ADR 0033): its GiST index is on
-- ll_to_earth(lat, lon), an SQL function of earthdistance 1.1 whose text body names earth() and the type
-- earth unqualified; PostgreSQL inlines it when it reads the index's expression, and autovacuum runs with
-- an empty search_path, so every automatic analyze (and the end of every automatic vacuum) failed with
-- `type "earth" does not exist`: the planner's statistics of the table /v1/geo/near reads were never
-- refreshed. The same formula with an SQL-standard body binds its names when it is created, whatever the
-- search_path of whoever evaluates it later.
CREATE FUNCTION tmi.ll_to_earth(lat double precision, lon double precision) RETURNS earth
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN cube(cube(cube(earth() * cos(radians(lat)) * cos(radians(lon))),
                   earth() * cos(radians(lat)) * sin(radians(lon))),
              earth() * sin(radians(lat)))::earth;

DROP INDEX tmi.target_position_earth_idx;
CREATE INDEX target_position_earth_idx ON tmi.target_position USING gist (tmi.ll_to_earth(lat, lon));
