// SPDX-License-Identifier: MIT
// SQL fragments every read model shares.

/** A timestamptz column as the API's ISO-8601 UTC string with microseconds (`2026-11-22T10:00:00.123456Z`). */
export function isoOf(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}
