// SPDX-License-Identifier: MIT
// The rows stages write. Times are microseconds since the epoch (`_us`); JSON columns hold the values
// themselves: a batch is serialized once, as one JSON document (projections/write.ts).

export interface RawRow {
  readonly event_id: string;
  readonly target_id: string;
  readonly kind: string;
  readonly speaker: string;
  readonly occurred_us: number;
  readonly received_us: number;
  readonly schema_id: number;
  readonly stream_seq: number;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, unknown>>;
}

export interface ObsRow {
  readonly target_id: string;
  readonly ts_us: number;
  readonly event_id: string;
  readonly schema_id: number;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly received_us: number;
}

export interface StateRow {
  readonly target_id: string;
  readonly field: string;
  /** Any JSON value but null. */
  readonly value: unknown;
  readonly ts_us: number;
  readonly event_id: string;
}
