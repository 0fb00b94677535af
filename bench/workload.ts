// SPDX-License-Identifier: MIT
// The data the benchmark writes: vehicles reporting at 1 Hz — numbers, strings and a position — and the
// requests that carry them (REST batches as a gateway flushes them, NATS requests as a device sends its
// buffered readings).

/** Kind of every benchmark target. */
export const benchKind = 'vehicle';
/** Targets created at once through the API. */
export const targetCreateConcurrency = 16;
/** Centre and extent of the area the vehicles drive in (around Berlin), degrees. */
export const areaLatMin = 52.0;
export const areaLatMax = 53.0;
export const areaLonMin = 12.9;
export const areaLonMax = 14.4;

const statuses = ['moving', 'idle', 'parked'] as const;

/** Deterministic pseudo-random in [0, 1) from two integers (no state, so any reading can be made alone). */
export function noise(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  return h / 2 ** 32;
}

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

/** Reading number i of vehicle t: ten fields, ~220 bytes of JSON. */
export function vehicleReading(t: number, i: number): Record<string, unknown> {
  const r = noise(t, i);
  return {
    speed: round(40 + 40 * Math.sin((i + t) / 60) + 5 * r, 1),
    temp: round(20 + 3 * Math.sin(i / 600) + r, 2),
    fuel: round(Math.max(0, 1 - ((i + t * 13) % 5000) / 5000), 3),
    rpm: Math.round(900 + 2500 * r),
    odometer: 100_000 + t * 10 + Math.floor(i / 30),
    status: statuses[(t + Math.floor(i / 120)) % statuses.length],
    driver: `driver-${String(t % 500).padStart(4, '0')}`,
    lat: round(areaLatMin + (areaLatMax - areaLatMin) * noise(t, 0) + 0.0001 * Math.sin(i / 50), 6),
    lon: round(areaLonMin + (areaLonMax - areaLonMin) * noise(0, t) + 0.0001 * Math.cos(i / 50), 6),
    heading: Math.round(360 * noise(t, Math.floor(i / 60))),
  };
}

export interface EventPlan {
  readonly targetIds: readonly string[];
  /** Readings per target (the first `remainder` targets get one more). */
  readonly perTarget: readonly number[];
  readonly total: number;
  /** Observation time of reading 0, epoch ms; reading i is 1 s later per i. */
  readonly baseMs: number;
}

export function planEvents(targetIds: readonly string[], total: number): EventPlan {
  const base = Math.floor(total / targetIds.length);
  const remainder = total % targetIds.length;
  const perTarget = targetIds.map((_, t) => base + (t < remainder ? 1 : 0));
  const longest = base + (remainder > 0 ? 1 : 0);
  return { targetIds, perTarget, total, baseMs: Date.now() - longest * 1000 - 60_000 };
}

export interface PlannedRequest {
  /** REST path or NATS subject. */
  readonly to: string;
  readonly body: string;
  readonly events: number;
}

/**
 * REST batches to `POST /v1/events`: `targetsPerRequest` vehicles of a gateway, `eventsPerRequest`
 * readings in time order (interleaved across the vehicles, as a gateway's buffer holds them).
 */
export function restRequests(
  plan: EventPlan,
  eventsPerRequest: number,
  targetsPerRequest: number,
): PlannedRequest[] {
  const byGateway: PlannedRequest[][] = [];
  const window = Math.max(1, Math.floor(eventsPerRequest / targetsPerRequest));
  for (let g = 0; g < plan.targetIds.length; g += targetsPerRequest) {
    const out: PlannedRequest[] = [];
    byGateway.push(out);
    const group = plan.targetIds.map((_, t) => t).slice(g, g + targetsPerRequest);
    const longest = Math.max(...group.map((t) => plan.perTarget[t]!));
    for (let from = 0; from < longest; from += window) {
      const events: unknown[] = [];
      for (let i = from; i < Math.min(from + window, longest); i++) {
        for (const t of group) {
          if (i >= plan.perTarget[t]!) continue;
          events.push({
            target_id: plan.targetIds[t],
            ts: plan.baseMs + i * 1000,
            data: vehicleReading(t, i),
          });
        }
      }
      out.push({ to: '/v1/events', body: JSON.stringify(events), events: events.length });
    }
  }
  return roundRobin(byGateway);
}

/** NATS requests to `<ns>.speak.<target_id>`: one vehicle's `eventsPerRequest` buffered readings each. */
export function natsRequests(
  plan: EventPlan,
  speakPrefix: string,
  eventsPerRequest: number,
): PlannedRequest[] {
  const perTarget: PlannedRequest[][] = plan.targetIds.map((id, t) => {
    const list: PlannedRequest[] = [];
    for (let from = 0; from < plan.perTarget[t]!; from += eventsPerRequest) {
      const events: unknown[] = [];
      for (let i = from; i < Math.min(from + eventsPerRequest, plan.perTarget[t]!); i++) {
        events.push({ ts: plan.baseMs + i * 1000, data: vehicleReading(t, i) });
      }
      list.push({ to: `${speakPrefix}${id}`, body: JSON.stringify(events), events: events.length });
    }
    return list;
  });
  return roundRobin(perTarget);
}

/** One request of each sender in turn: every sender makes progress, one sender's requests stay in order. */
function roundRobin(lists: readonly PlannedRequest[][]): PlannedRequest[] {
  const out: PlannedRequest[] = [];
  for (let k = 0; lists.some((l) => k < l.length); k++) {
    for (const list of lists) if (k < list.length) out.push(list[k]!);
  }
  return out;
}

/** Creates `count` targets through `POST /v1/targets`; returns their ids in order. */
export async function createTargets(
  apiUrl: string,
  auth: Readonly<Record<string, string>>,
  count: number,
  prefix: string,
): Promise<string[]> {
  const ids: string[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const res = await fetch(`${apiUrl}/v1/targets`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ name: `${prefix}-${i}`, kind: benchKind }),
      });
      const body = (await res.json()) as { target_id?: string };
      if (res.status !== 201 || !body.target_id) {
        throw new Error(`POST /v1/targets answered ${res.status}: ${JSON.stringify(body)}`);
      }
      ids[i] = body.target_id;
    }
  };
  await Promise.all(Array.from({ length: Math.min(targetCreateConcurrency, count) }, worker));
  return ids;
}
