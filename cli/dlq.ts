// SPDX-License-Identifier: MIT
// `tmictl dlq list [--stage S] [--count N] | show <seq> | replay <seq>…`: the dead letters — one event each,
// with the stage that refused it and why — and their replay once the cause is fixed (exactly once).
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Config } from '../config/index.js';
import {
  deadLetterListMax,
  listDeadLetters,
  replayDeadLetter,
  showDeadLetter,
  topology,
} from '../pipelines/index.js';
import { microsToIso } from '../schemas/index.js';
import type { Io } from './commands.js';
import { endpoints } from './run-info.js';
import { formatPairs, formatTable } from './table.js';

export const dlqUsage = 'usage: tmictl dlq list [--stage <stage>] [--count N] | show <seq> | replay <seq>…';

export interface DlqOptions {
  readonly stage?: string;
  readonly count?: number;
}

export async function dlq(
  config: Config,
  io: Io,
  args: readonly string[],
  opts: DlqOptions = {},
): Promise<number> {
  const [sub, ...seqArgs] = args;
  const seqs = seqArgs.map(Number);
  const valid = seqs.every((s) => Number.isInteger(s) && s > 0);
  const count = opts.count ?? 100;
  if (
    !valid ||
    (sub === 'list' && (seqs.length > 0 || !(count >= 1 && count <= deadLetterListMax))) ||
    (sub === 'show' && seqs.length !== 1) ||
    (sub === 'replay' && seqs.length === 0) ||
    !['list', 'show', 'replay'].includes(sub ?? '')
  ) {
    io.err(dlqUsage);
    return 2;
  }
  const nc = await connect({ servers: endpoints(config).natsUrl, name: 'tmictl' });
  try {
    const jsm = await jetstreamManager(nc);
    const topo = topology(config.namespace);
    if (sub === 'list') {
      const rows = await listDeadLetters(jsm, topo, { stage: opts.stage, limit: count });
      print(io, rows, () =>
        formatTable(
          rows.map((r) => ({ ...r, error: r.error.slice(0, 60) })),
          ['seq', 'stage', 'code', 'eventId', 'targetId', 'sourceSeq', 'at', 'error'],
        ),
      );
      return 0;
    }
    if (sub === 'show') return await show(io, jsm, topo, seqs[0]!);
    return await replay(io, jetstream(nc), jsm, topo, seqs);
  } finally {
    await nc.close();
  }
}

function print(io: Io, data: unknown, human: () => string): void {
  io.out(io.json ? JSON.stringify(data, null, 2) : human());
}

async function show(
  io: Io,
  jsm: Parameters<typeof showDeadLetter>[0],
  topo: ReturnType<typeof topology>,
  seq: number,
): Promise<number> {
  const d = await showDeadLetter(jsm, topo, seq);
  if (!d) {
    io.err(`no dead letter ${seq} (replayed, expired, or never was)`);
    return 1;
  }
  const events = d.events?.map((e) => ({
    event_id: e.event_id,
    target_id: e.target_id,
    kind: e.kind,
    speaker: e.speaker,
    occurred_at: microsToIso(e.occurred_at),
    schema_id: e.schema_id,
    payload_bytes: e.payload.length,
  }));
  print(io, { ...d, events }, () => {
    const { events: _e, ...pairs } = d;
    return `${formatPairs(pairs)}\n\n${events ? formatTable(events) : '(the body is not an event batch)'}`;
  });
  return 0;
}

async function replay(
  io: Io,
  js: Parameters<typeof replayDeadLetter>[0],
  jsm: Parameters<typeof replayDeadLetter>[1],
  topo: ReturnType<typeof topology>,
  seqs: readonly number[],
): Promise<number> {
  const rows: { seq: number; stage: string; eventId: string | null; replayed: boolean }[] = [];
  for (const seq of seqs) {
    const entry = await replayDeadLetter(js, jsm, topo, seq);
    rows.push({ seq, stage: entry?.stage ?? '-', eventId: entry?.eventId ?? null, replayed: !!entry });
    if (!io.json) io.err(entry ? `replayed ${seq} to ${entry.stage}` : `no dead letter ${seq}`);
  }
  print(io, rows, () => formatTable(rows));
  return rows.every((r) => r.replayed) ? 0 : 1;
}
