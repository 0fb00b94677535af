// SPDX-License-Identifier: MIT
// The rows stages write. Times are ISO-8601 strings with microseconds; JSON columns are pre-serialized.

export interface RawRow {
  readonly event_id: string;
  readonly target_id: string;
  readonly kind: string;
  readonly speaker: string;
  readonly occurred_at: string;
  readonly received_at: string;
  readonly schema_id: number;
  readonly stream_seq: number;
  readonly payload: string;
  readonly headers: string;
}

export interface ObsRow {
  readonly target_id: string;
  readonly ts: string;
  readonly event_id: string;
  readonly schema_id: number;
  readonly payload: string;
  readonly received_at: string;
}

export interface StateRow {
  readonly target_id: string;
  readonly field: string;
  readonly value: string;
  readonly ts: string;
  readonly event_id: string;
}
