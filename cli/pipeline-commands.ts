// SPDX-License-Identifier: MIT
// `tmictl pipeline replay|pause|resume`: rebuild a stage's rows from a range of its stream while tmiDB
// runs; hold or release a stage (every process running it) through JetStream.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Config } from '../config/index.js';
import { createPool } from '../db/index.js';
import {
  isReplayable,
  pauseStage,
  type ReplayRange,
  replayableStages,
  replayStage,
  resumeStage,
  type StageName,
  stageNames,
  topology,
} from '../pipelines/index.js';
import { SchemaRegistry } from '../schemas/index.js';
import type { Io } from './commands.js';
import { ProgressBar } from './progress.js';
import { endpoints } from './run-info.js';
import { formatPairs } from './table.js';

export interface ReplayOptions {
  readonly from?: string;
  readonly to?: string;
}

/** `--from`/`--to`: a stream sequence (digits) or a time (ISO-8601 with a zone). */
export function parseRange(opts: ReplayOptions): ReplayRange | string {
  const range: { fromSeq?: number; fromTime?: Date; toSeq?: number; toTime?: Date } = {};
  for (const [name, raw] of [
    ['from', opts.from],
    ['to', opts.to],
  ] as const) {
    if (raw === undefined) continue;
    if (/^[1-9][0-9]{0,15}$/.test(raw)) {
      if (name === 'from') range.fromSeq = Number(raw);
      else range.toSeq = Number(raw);
      continue;
    }
    const ms = Date.parse(raw);
    if (!/[zZ]|[+-]\d\d:?\d\d$/.test(raw) || Number.isNaN(ms)) {
      return `--${name} '${raw}' is neither a stream sequence (1, 2, …) nor a time with a zone (2026-11-25T10:00:00Z)`;
    }
    if (name === 'from') range.fromTime = new Date(ms);
    else range.toTime = new Date(ms);
  }
  return range;
}

export async function pipelineReplay(
  config: Config,
  io: Io,
  stage: string | undefined,
  opts: ReplayOptions,
): Promise<number> {
  if (stage === undefined || !isReplayable(stage)) {
    io.err(
      `usage: tmictl pipeline replay <${replayableStages.join('|')}> [--from <seq|time>] [--to <seq|time>]`,
    );
    if (stage !== undefined && stageNames.includes(stage as StageName)) {
      io.err(`'${stage}' publishes or keeps ordered state; only ${replayableStages.join(', ')} rebuild rows`);
    }
    return 2;
  }
  const range = parseRange(opts);
  if (typeof range === 'string') {
    io.err(range);
    return 2;
  }
  const { pgUrl, natsUrl } = endpoints(config);
  const nc = await connect({ servers: natsUrl, name: 'tmictl replay' });
  const pool = createPool(pgUrl, 2);
  const bar = new ProgressBar(`replay ${stage}`, !io.json);
  try {
    const registry = new SchemaRegistry(pool, {
      fieldsMax: config.eventFieldsMax,
      stringLengthMax: config.stringLengthMax,
    });
    const deps = {
      js: jetstream(nc),
      jsm: await jetstreamManager(nc),
      pool,
      registry,
      topology: topology(config.namespace),
    };
    const summary = await replayStage(deps, stage, range, (p) =>
      bar.update(
        p.seq - p.firstSeq + 1,
        p.lastSeq - p.firstSeq + 1,
        `seq ${p.seq}/${p.lastSeq}, ${p.events} events`,
      ),
    );
    bar.done();
    const human = {
      stage: summary.stage,
      stream: summary.stream,
      sequences: summary.firstSeq === null ? 'none in range' : `${summary.firstSeq}..${summary.lastSeq}`,
      messages: summary.messages,
      events: summary.events,
      undecodable: summary.undecodable,
      rows_written: summary.rowsWritten,
      seconds: (summary.elapsedMs / 1000).toFixed(1),
    };
    io.out(io.json ? JSON.stringify(summary, null, 2) : formatPairs(human));
    return 0;
  } finally {
    bar.done();
    await nc.close();
    await pool.end();
  }
}

export async function pipelinePause(
  config: Config,
  io: Io,
  action: 'pause' | 'resume',
  stage: string | undefined,
) {
  if (stage === undefined || !stageNames.includes(stage as StageName)) {
    io.err(`usage: tmictl pipeline ${action} <${stageNames.join('|')}>`);
    return 2;
  }
  const { natsUrl } = endpoints(config);
  const nc = await connect({ servers: natsUrl, name: `tmictl ${action}` });
  try {
    const jsm = await jetstreamManager(nc);
    const topo = topology(config.namespace);
    const r =
      action === 'pause'
        ? await pauseStage(jsm, topo, stage as StageName)
        : await resumeStage(jsm, topo, stage as StageName);
    const data = { stage: r.stage, paused: r.paused, paused_until: r.pausedUntil };
    io.out(io.json ? JSON.stringify(data, null, 2) : formatPairs(data));
    return 0;
  } finally {
    await nc.close();
  }
}
