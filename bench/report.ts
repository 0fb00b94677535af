// SPDX-License-Identifier: MIT
// The results: one table on stdout (or JSON with --json) and the same figures in
// bench/results/<date>-<host>.json with the machine they were measured on.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MachineInfo } from './env.js';
import type { IngestResult } from './ingest.js';
import type { LatencyResult } from './latency.js';
import type { LimitsResult } from './limits.js';
import { otherCores } from './memory.js';
import type { Sizes } from './options.js';
import type { QueriesResult } from './queries.js';
import type { ChartQueriesResult } from './queries-points.js';
import type { SoakResult, SoakWindow } from './soak.js';
import type { SpeakResult } from './speak.js';

/** The targets (a benchmark's, not a test's). */
export const ingestEventsPerSTarget = 20_000;
export const ingestLimitRatioTarget = 0.5;
export const latencyP99MsTarget = 50;
export const queryP99MsTarget = 20;
/** tmi.speak(): commit → TMI_IN p99 on an idle machine (issue 13). */
export const speakP99MsTarget = 50;

export interface Figure {
  readonly scenario: string;
  readonly measure: string;
  readonly value: number;
  readonly unit: string;
  /** e.g. '≥ 20000'. */
  readonly target?: string;
  readonly met?: boolean;
  readonly note?: string;
}

export interface BenchResults {
  readonly ingest: IngestResult[];
  readonly limits: LimitsResult[];
  readonly latency: LatencyResult[];
  readonly queries?: QueriesResult;
  readonly speak?: SpeakResult;
  readonly soak?: SoakResult;
}

export interface BenchReport {
  readonly tool: 'tmidb-bench';
  readonly version: string;
  readonly startedAt: string;
  readonly durationS: number;
  readonly quick: boolean;
  readonly processes: 'per-stage' | 'one';
  readonly machine: MachineInfo;
  readonly sizes: Sizes;
  readonly stages: readonly string[];
  readonly figures: Figure[];
  readonly results: BenchResults;
  readonly notes: string[];
}

const atLeast = (target: number) => ({ target: `≥ ${fmt(target)}`, ok: (v: number) => v >= target });
const atMost = (target: number) => ({ target: `≤ ${fmt(target)}`, ok: (v: number) => v <= target });

/** Adds one figure, with a target it is judged by and a note. */
type AddFigure = (
  scenario: string,
  measure: string,
  value: number,
  unit: string,
  goal?: { target: string; ok: (v: number) => boolean },
  note?: string,
) => void;

export function figures(r: BenchResults, cores: number): Figure[] {
  const out: Figure[] = [];
  const add: AddFigure = (scenario, measure, value, unit, goal, note) =>
    out.push({
      scenario,
      measure,
      value,
      unit,
      ...(goal ? { target: goal.target, met: goal.ok(value) } : {}),
      ...(note ? { note } : {}),
    });
  for (const i of r.ingest) ingestFigures(add, i, cores);
  for (const l of r.limits) limitsFigures(add, l);
  for (const l of r.latency) latencyFigures(add, l);
  if (r.queries) queriesFigures(add, r.queries);
  for (const i of r.ingest) memoryFigures(add, i);
  if (r.speak) speakFigures(add, r.speak);
  if (r.soak) soakFigures(add, r.soak);
  return out;
}

/** Scenario 1: rates, CPU and PostgreSQL time per 1,000 events. */
function ingestFigures(add: AddFigure, i: IngestResult, cores: number): void {
  const s = `1 ingest ${i.transport.toUpperCase()}`;
  add(
    s,
    'end to end (all stages committed)',
    i.endToEndEventsPerS,
    'events/s',
    atLeast(ingestEventsPerSTarget),
  );
  add(s, 'accepted (speaker acknowledged)', i.acceptedEventsPerS, 'events/s');
  add(s, 'last event landed after last ack', i.lastEventLandMs, 'ms');
  add(s, 'total time', i.totalMs, 'ms', undefined, `${fmt(i.events)} events, ${fmt(i.targets)} targets`);
  add(s, 'events per request', round2(i.eventsPerRequest), 'events');
  add(s, 'events per JetStream message', round2(i.eventsPerMessage), 'events');
  const cpu = i.memory.cpuMs;
  const groups = Object.keys(cpu).filter((g) => !g.endsWith(':total'));
  const totalMs = groups.reduce((n, g) => n + (g.startsWith('other') ? 0 : (cpu[g] ?? 0)), 0);
  for (const g of groups) {
    add(
      s,
      `CPU per 1,000 events: ${g.replace(/^tmidb:/, 'tmiDB ')}`,
      perThousand(cpu[g] ?? 0, i.events),
      'ms',
    );
  }
  for (const st of i.statements.slice(0, reportedStatements)) {
    add(
      s,
      'PostgreSQL time per 1,000 events',
      st.msPerThousandEvents,
      'ms',
      undefined,
      shortStatement(st.query),
    );
  }
  add(
    s,
    'CPU per 1,000 events: tmiDB + servers + driver',
    perThousand(totalMs, i.events),
    'ms',
    undefined,
    `cores busy: ${round2(totalMs / i.totalMs)} of ${cores} by these, ${otherCores(i.memory, i.totalMs)} by other work`,
  );
}

/** Scenario 2: the parts alone, and the pipeline against the slower of them. */
function limitsFigures(add: AddFigure, l: LimitsResult): void {
  const s = `2 limits ${l.transport.toUpperCase()}`;
  add(
    s,
    '(a) JetStream publish alone',
    l.jetstreamPublishEventsPerS,
    'events/s',
    undefined,
    `${fmt(l.jetstreamPublishMsgsPerS)} msg/s of ${fmt(l.messageBytes)} B`,
  );
  add(
    s,
    '(a) JetStream pull-consume + ack alone',
    l.jetstreamConsumeEventsPerS,
    'events/s',
    undefined,
    `${fmt(l.jetstreamConsumeMsgsPerS)} msg/s`,
  );
  add(
    s,
    '(b) PostgreSQL COPY alone',
    l.copyEventsPerS,
    'events/s',
    undefined,
    `${fmt(l.copyRowsPerS)} rows/s into ${Object.keys(l.tables).join(', ')}`,
  );
  add(s, '(c) naive INSERT per row', l.naiveInsertEventsPerS, 'events/s');
  add(
    s,
    'pipeline / min(a, b)',
    l.ratio,
    'ratio',
    atLeast(ingestLimitRatioTarget),
    `${fmt(l.pipelineEventsPerS)} / ${fmt(Math.min(l.jetstreamEventsPerS, l.copyEventsPerS))}`,
  );
}

/** Scenario 3: request → listener latencies at one offered load. */
function latencyFigures(add: AddFigure, l: LatencyResult): void {
  const s = `3 latency ${l.mode.toUpperCase()} ${l.offeredEventsPerS}/s`;
  const note = `${fmt(l.offeredEventsPerS)} events/s × ${l.seconds} s; ${l.how}`;
  add(s, 'request → listener p50', l.endToEndMs.p50, 'ms', undefined, note);
  add(s, 'request → listener p95', l.endToEndMs.p95, 'ms');
  add(s, 'request → listener p99', l.endToEndMs.p99, 'ms', atMost(latencyP99MsTarget));
  add(s, 'request → listener max', l.endToEndMs.max, 'ms');
  add(s, 'request → speaker ack p99', l.speakerAckMs.p99, 'ms');
  add(
    s,
    'deliveries received',
    l.deliveriesReceived,
    'deliveries',
    undefined,
    `of ${fmt(l.deliveriesExpected)}; ${l.errors} errors`,
  );
  add(
    s,
    'cores used by other work meanwhile',
    l.otherCores,
    'cores',
    undefined,
    'noise: other processes on the machine',
  );
}

/** Scenario 4: query latencies. */
function queriesFigures(add: AddFigure, q: QueriesResult): void {
  const s = '4 queries';
  const load = `${fmt(q.obsRows)} ts_obs rows, ${fmt(q.targets)} targets (loaded in ${q.loadSeconds} s)`;
  const each: [string, typeof q.latestState][] = [
    ['latest state of one target', q.latestState],
    ['one day at 1 Hz by minute', q.dayByMinute],
    ['radius (~100 targets)', q.radius],
  ];
  for (const [name, f] of each) {
    add(s, `${name} p50`, f.p50, 'ms', undefined, name === 'latest state of one target' ? load : f.how);
    add(s, `${name} p99`, f.p99, 'ms', atMost(queryP99MsTarget), `${f.rowsMean} rows per answer`);
  }
  if (q.charts) chartFigures(add, s, q.charts);
  add(
    s,
    'cores used by other work meanwhile',
    q.otherCores,
    'cores',
    undefined,
    'noise: other processes on the machine',
  );
}

/** Scenario 4's charts: `points=` over a day and a week, and their SQL before/after the rollups. */
function chartFigures(add: AddFigure, s: string, c: ChartQueriesResult): void {
  const note = `${c.days.week} days of 1 Hz data; rollups of the loaded rows built in ${c.rollupRebuildSeconds} s`;
  const each: [string, typeof c.dayApi][] = [
    [`chart of ${c.days.day} day (points=2000)`, c.dayApi],
    [`chart of ${c.days.week} days (points=2000)`, c.weekApi],
    ['  its SQL from the rollups, day', c.dayRollupSql],
    ['  its SQL from the rollups, week', c.weekRollupSql],
    ['  its SQL from raw rows (before), day', c.dayRawSql],
    ['  its SQL from raw rows (before), week', c.weekRawSql],
  ];
  for (const [name, f] of each) {
    add(s, `${name} p50`, f.p50, 'ms', undefined, name.includes('(points') ? note : f.how);
    add(s, `${name} p99`, f.p99, 'ms', undefined, `${f.rowsMean} points per answer, ${f.n} runs`);
  }
}

/** Scenario 5: peak memory of tmiDB and the servers during scenario 1. */
function speakFigures(add: AddFigure, r: SpeakResult): void {
  const s = `6 tmi.speak ${r.offeredEventsPerS}/s`;
  const note = `${fmt(r.offeredEventsPerS)} speaks/s × ${r.seconds} s, one per transaction; ${r.received} of ${r.events} arrived`;
  add(s, 'commit → TMI_IN p50', r.commitToInMs.p50, 'ms', undefined, note);
  add(s, 'commit → TMI_IN p99', r.commitToInMs.p99, 'ms', {
    target: `≤ ${speakP99MsTarget}`,
    ok: (v) => v <= speakP99MsTarget,
  });
  add(s, 'commit → TMI_IN max', r.commitToInMs.max, 'ms');
  add(s, 'SELECT tmi.speak() round trip p99', r.speakCallMs.p99, 'ms');
}

/** Scenario 7: the first and the last window side by side; the value is the last window's. */
function soakFigures(add: AddFigure, r: SoakResult): void {
  const s = `7 soak ${fmt(r.offeredEventsPerS)}/s`;
  const w = `${r.windowSeconds} s`;
  const side = (pick: (x: SoakWindow) => number, unit: string) =>
    `first ${w}: ${fmt(pick(r.first))} ${unit} → last ${w}: ${fmt(pick(r.last))} ${unit}`;
  const flat = (ok: boolean) => ({ target: 'flat', ok: () => ok });
  add(
    s,
    'load',
    r.seconds,
    's',
    undefined,
    `${r.rateFrom}; ${r.eventsPerRequest} events per NATS request; ${r.listeners} WebSocket listeners`,
  );
  add(
    s,
    'tmiDB RSS, last window',
    r.last.rssMiB,
    'MiB',
    flat(r.flat.rss),
    side((x) => x.rssMiB, 'MiB'),
  );
  add(
    s,
    'consumer lag, last window',
    r.last.lagMessages,
    'messages',
    flat(r.flat.lag),
    side((x) => x.lagMessages, 'messages'),
  );
  add(
    s,
    'request → listener p99, last window',
    r.last.endToEndMs.p99,
    'ms',
    flat(r.flat.p99),
    side((x) => x.endToEndMs.p99, 'ms'),
  );
  add(
    s,
    'deliveries received',
    r.deliveriesReceived,
    'deliveries',
    undefined,
    `of ${fmt(r.deliveriesExpected)}; ${r.errors} errors`,
  );
}

function memoryFigures(add: AddFigure, i: IngestResult): void {
  const s = `5 memory ${i.transport.toUpperCase()}`;
  const m = i.memory;
  for (const [name, mb] of Object.entries(m.hwmMiB)) add(s, `peak RSS tmiDB ${name}`, mb, 'MiB');
  add(s, 'peak RSS tmiDB processes together', m.peakMiB['tmidb:total'] ?? 0, 'MiB', undefined, 'sampled sum');
  add(s, 'peak PostgreSQL (PSS, all backends)', m.peakMiB.postgresql ?? 0, 'MiB');
  add(s, 'peak nats-server RSS', m.peakMiB['nats-server'] ?? 0, 'MiB');
}

export function formatTable(figs: readonly Figure[]): string {
  const header = ['scenario', 'measure', 'value', 'unit', 'target', 'met', 'note'];
  const rows = figs.map((f) => [
    f.scenario,
    f.measure,
    fmt(f.value),
    f.unit,
    f.target ?? '',
    f.met === undefined ? '' : f.met ? 'yes' : 'NO',
    f.note ?? '',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w)))];
  let previous = '';
  for (const r of rows) {
    const scenario = r[0]!;
    out.push(line([scenario === previous ? '' : scenario, ...r.slice(1)]));
    previous = scenario;
  }
  return out.join('\n');
}

export function formatReport(report: BenchReport): string {
  const m = report.machine;
  return [
    `tmiDB ${report.version} benchmark — ${report.startedAt}${report.quick ? ' (quick sizes)' : ''}`,
    `machine: ${m.host}, ${m.cores} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}, PostgreSQL ${m.postgres}, nats-server ${m.natsServer}`,
    `stages: ${report.stages.join(', ')}`,
    '',
    formatTable(report.figures),
    '',
    ...report.notes.map((n) => `note: ${n}`),
    `took ${report.durationS} s`,
  ].join('\n');
}

/** Writes `<outDir>/<YYYY-MM-DD>-<host>.json`; returns its path. */
export function writeReport(report: BenchReport, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const date = report.startedAt.slice(0, 10);
  const host = report.machine.host.replace(/[^A-Za-z0-9_.-]+/g, '_');
  const file = path.join(outDir, `${date}-${host}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** Statements of pg_stat_statements shown in the table (all are in the JSON). */
const reportedStatements = 5;

/** `INSERT INTO tmi.ts_obs …`, `WITH claimed AS (INSERT INTO tmi.event_ledger …`: enough to tell them apart. */
function shortStatement(query: string): string {
  const table = /\b(?:INSERT INTO|UPDATE|DELETE FROM|FROM)\s+([\w.]+)/i.exec(query)?.[1];
  const verb = query.trim().split(/\s+/).slice(0, 2).join(' ');
  return table ? `${verb} … ${table}` : query.slice(0, 60);
}

function perThousand(ms: number, events: number): number {
  return Math.round((ms / events) * 1000 * 10) / 10;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
