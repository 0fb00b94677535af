// SPDX-License-Identifier: MIT
// project, pure core: normalized events → ts_obs rows (one per event) and target_state rows reduced to
// the newest value per (target, field) by observation time, ties broken by event id.
import type { ObsRow, StateRow } from '../projections/index.js';
import type { DecodedMessage } from './decode.js';

export interface ProjectRows {
  readonly obs: ObsRow[];
  readonly state: StateRow[];
}

/** The newest value of one field of one target seen so far in the batch (updated in place). */
interface Newest {
  value: unknown;
  micros: number;
  eventId: string;
}

export function projectRows(messages: readonly DecodedMessage[]): ProjectRows {
  const obs: ObsRow[] = [];
  const newest = new Map<string, Map<string, Newest>>();
  for (const { events } of messages) {
    for (const { envelope, data } of events) {
      const micros = envelope.occurred_at;
      const eventId = envelope.event_id;
      obs.push({
        target_id: envelope.target_id,
        ts_us: micros,
        event_id: eventId,
        schema_id: envelope.schema_id,
        payload: data,
        received_us: envelope.received_at,
      });
      let fields = newest.get(envelope.target_id);
      if (fields === undefined) {
        fields = new Map();
        newest.set(envelope.target_id, fields);
      }
      for (const field of Object.keys(data)) {
        const prior = fields.get(field);
        if (prior === undefined) {
          fields.set(field, { value: data[field], micros, eventId });
        } else if (isNewer(micros, eventId, prior.micros, prior.eventId)) {
          prior.value = data[field];
          prior.micros = micros;
          prior.eventId = eventId;
        }
      }
    }
  }
  // A fixed row order keeps concurrent workers from deadlocking on the same state rows.
  const state: StateRow[] = [];
  for (const targetId of [...newest.keys()].sort(cmp)) {
    const fields = newest.get(targetId)!;
    for (const field of [...fields.keys()].sort(cmp)) {
      const n = fields.get(field)!;
      state.push({ target_id: targetId, field, value: n.value, ts_us: n.micros, event_id: n.eventId });
    }
  }
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
