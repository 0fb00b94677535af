// SPDX-License-Identifier: MIT
// One poison event, not a message: a message refused for good is split until the refused events stand
// alone; only those are dead-lettered, their neighbours commit; transient errors are the runner's; a
// replay for another stage reaches a stage with no events.
import { describe, expect, it } from 'vitest';
import {
  type Failure,
  isolatePoisonEvents,
  type OutboundMessage,
  replayForHeader,
  replaySkipHeader,
  type StageHandler,
  type StageMessage,
} from '../../../processors/index.js';
import { decodeEventBatch, encodeEventBatch } from '../../../schemas/index.js';
import { event } from '../../support/decoded.js';

class Refused extends Error {
  readonly transient: boolean;
  constructor(transient = false) {
    super(transient ? 'database away' : 'value refused');
    this.transient = transient;
  }
}

const classify = (err: unknown): Failure => ({
  permanent: !(err as Refused).transient,
  code: (err as Refused).transient ? 'PG_08006' : 'PG_22P05',
  message: (err as Error).message,
});

function messageOf(ids: readonly string[], seq = 7): StageMessage {
  const body = encodeEventBatch(ids.map((id) => event(id, 1_000, {}).envelope));
  return { seq, subject: 'ns.in.t', body, headers: {}, deliveryCount: 1 };
}

/** A stage that refuses any batch holding one of `poison` (as a whole, like a transaction). */
function stage(poison: ReadonlySet<string>, transient = false) {
  const committed: string[] = [];
  const offered: StageMessage[][] = [];
  const handler: StageHandler = {
    stage: 'project',
    async handle(batch) {
      offered.push([...batch]);
      const ids = batch.flatMap((m) => decodeEventBatch(m.body).map((e) => e.event_id.slice(-3)));
      if (ids.some((id) => poison.has(id))) throw new Refused(transient);
      committed.push(...ids);
      return { events: ids.length, deadLetters: [] };
    },
  };
  return { handler, committed, offered };
}

function wrap(inner: StageHandler) {
  const published: OutboundMessage[] = [];
  const counted: string[] = [];
  const handler = isolatePoisonEvents(inner, {
    inputStream: 'NS_NORM',
    deadLetterSubject: 'ns.dlq.project',
    publish: async (m) => {
      published.push(...m);
    },
    classify,
    onDeadLetter: (code) => counted.push(code),
  });
  return { handler, published, counted };
}

describe('isolatePoisonEvents', () => {
  it.each<[string, string[], string[]]>([
    ['one poison event among five', ['001', '002', '003', '004', '005'], ['003']],
    ['the first', ['001', '002', '003'], ['001']],
    ['the last', ['001', '002', '003', '004'], ['004']],
    ['two apart', ['001', '002', '003', '004', '005', '006', '007'], ['002', '006']],
    ['every one', ['001', '002'], ['001', '002']],
  ])('%s: only the poison is dead-lettered, the neighbours commit in order', async (_n, ids, poison) => {
    const s = stage(new Set(poison));
    const w = wrap(s.handler);
    const result = await w.handler.handle([messageOf(ids)]);
    expect(s.committed).toEqual(ids.filter((id) => !poison.includes(id)));
    expect(result.events).toBe(ids.length - poison.length);
    expect(result.deadLetters).toEqual([]); // published here, so the runner just acks the message
    expect(w.published.map((m) => m.headers?.['Tmi-Event-Id']?.slice(-3))).toEqual(poison);
    expect(w.counted).toEqual(poison.map(() => 'PG_22P05'));
    for (const m of w.published) {
      expect(m.subject).toBe('ns.dlq.project');
      expect(decodeEventBatch(m.body)).toHaveLength(1);
      expect(m.headers).toMatchObject({
        'Tmi-Stage': 'project',
        'Tmi-Error-Code': 'PG_22P05',
        'Tmi-Error': 'value refused',
        'Tmi-Source-Subject': 'ns.in.t',
        'Tmi-Source-Seq': '7',
      });
      expect(m.msgID).toMatch(/^NS_NORM:7:[0-9a-f-]{36}:project:dlq$/);
    }
  });

  it('leaves a transient failure to the runner (retry), splitting nothing', async () => {
    const s = stage(new Set(['002']), true);
    const w = wrap(s.handler);
    await expect(w.handler.handle([messageOf(['001', '002', '003'])])).rejects.toThrow('database away');
    expect(s.offered).toHaveLength(1);
    expect(w.published).toEqual([]);
  });

  it('leaves a refused batch of several messages to the runner (it bisects messages first)', async () => {
    const s = stage(new Set(['002']));
    const w = wrap(s.handler);
    const batch = [messageOf(['001', '002'], 1), messageOf(['003'], 2)];
    await expect(w.handler.handle(batch)).rejects.toThrow('value refused');
  });

  it('dead-letters a refused one-event message itself, in the same one-event form', async () => {
    const s = stage(new Set(['001']));
    const w = wrap(s.handler);
    expect(await w.handler.handle([messageOf(['001'])])).toEqual({ events: 0, deadLetters: [] });
    expect(w.published.map((m) => m.headers?.['Tmi-Event-Id']?.slice(-3))).toEqual(['001']);
  });

  it('leaves a message no one can read to the runner', async () => {
    const inner: StageHandler = { stage: 'project', handle: async () => Promise.reject(new Refused()) };
    const w = wrap(inner);
    const unreadable = { ...messageOf(['001']), body: new TextEncoder().encode('not avro') };
    await expect(w.handler.handle([unreadable])).rejects.toThrow('value refused');
    expect(w.published).toEqual([]);
  });

  it('offers a replay for another stage with no events, and one for this stage as it is', async () => {
    const s = stage(new Set());
    const w = wrap(s.handler);
    const other = { ...messageOf(['001']), headers: { [replayForHeader]: 'capture' } };
    const mine = { ...messageOf(['002'], 8), headers: { [replayForHeader]: 'project' } };
    await w.handler.handle([other, mine]);
    const [seen] = s.offered;
    expect(decodeEventBatch(seen![0]!.body)).toEqual([]);
    expect(seen![0]!.headers[replaySkipHeader]).toBe('capture');
    expect(seen![1]).toBe(mine);
    expect(s.committed).toEqual(['002']);
  });
});
