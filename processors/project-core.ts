// SPDX-License-Identifier: MIT
// project, pure core: normalized events → ts_obs rows (one per event) and target_state rows reduced to
// the newest value per (target, field) by observation time, ties broken by event id.
import type { ObsRow, StateRow } from '../projections/index.js';
import { microsToIso } from '../schemas/index.js';
import type { DecodedMessage } from './decode.js';

export interface ProjectRows {
  readonly obs: ObsRow[];
  readonly state: StateRow[];
}

export function projectRows(messages: readonly DecodedMessage[]): ProjectRows {
  const obs: ObsRow[] = [];
  const newest = new Map<string, { row: StateRow; micros: number }>();
  for (const { events } of messages) {
    for (const { envelope, data } of events) {
      const ts = microsToIso(envelope.occurred_at);
      obs.push({
        target_id: envelope.target_id,
        ts,
        event_id: envelope.event_id,
        schema_id: envelope.schema_id,
        payload: JSON.stringify(data),
        received_at: microsToIso(envelope.received_at),
      });
      for (const [field, value] of Object.entries(data)) {
        const key = `${envelope.target_id}\u0000${field}`;
        const prior = newest.get(key);
        if (prior && !isNewer(envelope.occurred_at, envelope.event_id, prior.micros, prior.row.event_id))
          continue;
        newest.set(key, {
          micros: envelope.occurred_at,
          row: {
            target_id: envelope.target_id,
            field,
            value: JSON.stringify(value),
            ts,
            event_id: envelope.event_id,
          },
        });
      }
    }
  }
  // A fixed row order keeps concurrent workers from deadlocking on the same state rows.
  const state = [...newest.values()].map((v) => v.row);
  state.sort((a, b) => (a.target_id === b.target_id ? cmp(a.field, b.field) : cmp(a.target_id, b.target_id)));
  return { obs, state };
}

/** The same order PostgreSQL applies: (ts, event_id) compared as a pair; uuid order is byte order. */
function isNewer(micros: number, eventId: string, priorMicros: number, priorEventId: string): boolean {
  if (micros !== priorMicros) return micros > priorMicros;
  return eventId.toLowerCase() > priorEventId.toLowerCase();
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
