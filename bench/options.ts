// SPDX-License-Identifier: MIT
// Command-line flags and the two sizes of every scenario (full: the defaults; quick: a smoke run).
import { parseArgs } from 'node:util';
import { TaggedError } from '../errors/index.js';

export const scenarioNames = ['ingest', 'limits', 'latency', 'queries', 'memory', 'speak', 'soak'] as const;
export type ScenarioName = (typeof scenarioNames)[number];
export const transports = ['rest', 'nats'] as const;
export type Transport = (typeof transports)[number];

export interface Sizes {
  /** Scenario 1: events per transport, over `targets` vehicles. */
  readonly events: number;
  readonly targets: number;
  readonly restEventsPerRequest: number;
  readonly restTargetsPerRequest: number;
  readonly restConcurrency: number;
  readonly natsEventsPerRequest: number;
  readonly natsConcurrency: number;
  readonly drainTimeoutMs: number;
  /** Scenario 2: rows per table the naive INSERT loop writes at most, and for how long at most. */
  readonly naiveRowsPerTableMax: number;
  readonly naiveSecondsMax: number;
  /** Scenario 3. */
  readonly latencyEventsPerS: number;
  /** A second, lower offered load (0: none), to show latency where the machine is not saturated. */
  readonly latencyLowEventsPerS: number;
  readonly latencySeconds: number;
  readonly latencyWarmupSeconds: number;
  readonly latencyTargets: number;
  /** NATS subscribers of `<ns>.norm.>` (each gets every event). */
  readonly listeners: number;
  /** WebSocket listeners (each gets its share of the targets). */
  readonly wsListeners: number;
  /** Scenario 4. */
  readonly queryObsRows: number;
  readonly queryTargets: number;
  readonly queryBusyTargets: number;
  readonly queryBusySeconds: number;
  readonly queryRuns: number;
  /** Runs of the bucketed (and chart) queries: 100, so that their p99 is a percentile, not the maximum. */
  readonly queryBucketRuns: number;
  readonly queryRadiusM: number;
  /** Scenario 5: tmi.speak() calls per second, for this many seconds. */
  readonly speakEventsPerS: number;
  readonly speakSeconds: number;
  /** Scenario 7 (soak): events/s (0: half the end-to-end rate scenario 1 measured in this run, else soakDefaultEventsPerS). */
  readonly soakEventsPerS: number;
  /** How long the soak runs, s, and the window its figures are compared by (first against last), s. */
  readonly soakSeconds: number;
  readonly soakWindowSeconds: number;
}

export const fullSizes: Sizes = {
  events: 200_000,
  targets: 1_000,
  restEventsPerRequest: 1_000,
  restTargetsPerRequest: 20,
  restConcurrency: 8,
  natsEventsPerRequest: 50,
  natsConcurrency: 64,
  drainTimeoutMs: 300_000,
  naiveRowsPerTableMax: 5_000,
  naiveSecondsMax: 10,
  latencyEventsPerS: 2_000,
  latencyLowEventsPerS: 500,
  latencySeconds: 30,
  latencyWarmupSeconds: 3,
  latencyTargets: 1_000,
  listeners: 50,
  wsListeners: 500,
  queryObsRows: 10_000_000,
  queryTargets: 100_000,
  queryBusyTargets: 100,
  queryBusySeconds: 86_400,
  queryRuns: 300,
  queryBucketRuns: 100,
  queryRadiusM: 1_900,
  speakEventsPerS: 200,
  speakSeconds: 20,
  soakEventsPerS: 0,
  soakSeconds: 600,
  soakWindowSeconds: 60,
};

export const quickSizes: Sizes = {
  events: 4_000,
  targets: 40,
  restEventsPerRequest: 200,
  restTargetsPerRequest: 4,
  restConcurrency: 4,
  natsEventsPerRequest: 20,
  natsConcurrency: 16,
  drainTimeoutMs: 60_000,
  naiveRowsPerTableMax: 200,
  naiveSecondsMax: 2,
  latencyEventsPerS: 200,
  latencyLowEventsPerS: 0,
  latencySeconds: 3,
  latencyWarmupSeconds: 1,
  latencyTargets: 20,
  listeners: 5,
  wsListeners: 5,
  queryObsRows: 30_000,
  queryTargets: 2_000,
  queryBusyTargets: 2,
  queryBusySeconds: 3_600,
  queryRuns: 30,
  queryBucketRuns: 10,
  queryRadiusM: 12_000,
  speakEventsPerS: 50,
  speakSeconds: 3,
  soakEventsPerS: 200,
  soakSeconds: 30,
  soakWindowSeconds: 10,
};

export interface BenchOptions {
  readonly quick: boolean;
  readonly scenarios: readonly ScenarioName[];
  readonly transports: readonly Transport[];
  readonly json: boolean;
  readonly outDir: string;
  /** Write V8 CPU profiles of the tmiDB processes here (node --cpu-prof). */
  readonly profileDir: string | undefined;
  readonly progress: boolean;
  /** How tmiDB runs: all in one process (default, as `tmictl up` runs it), or one process per stage beside the API process. */
  readonly processes: 'per-stage' | 'one';
  readonly sizes: Sizes;
  /** Scenario 3's kinds of listeners to run (default: both). */
  readonly listenerModes: readonly ('ws' | 'nats')[];
}

export const usage = `npm run bench -- [options]

  --quick                 tiny sizes (smoke run, < 1 min)
  --scenario <name>       run only this scenario (repeatable): ${scenarioNames.join(', ')}
                          (limits and memory run scenario 1 too)
  --transport <rest|nats> scenario 1 through this speaker path only (repeatable; default both)
  --listen <ws|nats>      scenario 3 with these listeners only (repeatable; default both)
  --json                  print the results as JSON instead of the table
  --out-dir <dir>         where <date>-<host>.json goes (default bench/results)
  --profile-dir <dir>     CPU profiles of the tmiDB processes (node --cpu-prof)
  --no-progress           no progress bar on stderr
  --processes <layout>    one (default: the API and every stage in one process, as \`tmictl up\` runs them)
                          or per-stage (the API process + one \`tmictl stage\` process per stage)
  sizes: --events N --targets N --rest-batch N --nats-batch N --rate N --low-rate N --duration-s N --listeners N --ws-listeners N
         --obs-rows N --query-targets N --busy-targets N --busy-seconds N --query-runs N --bucket-runs N
         --speak-rate N --speak-s N --soak-rate N --soak-s N --soak-window-s N`;

const sizeFlags: Record<string, keyof Sizes> = {
  events: 'events',
  targets: 'targets',
  'rest-batch': 'restEventsPerRequest',
  'nats-batch': 'natsEventsPerRequest',
  rate: 'latencyEventsPerS',
  'low-rate': 'latencyLowEventsPerS',
  'duration-s': 'latencySeconds',
  listeners: 'listeners',
  'ws-listeners': 'wsListeners',
  'obs-rows': 'queryObsRows',
  'query-targets': 'queryTargets',
  'busy-targets': 'queryBusyTargets',
  'busy-seconds': 'queryBusySeconds',
  'query-runs': 'queryRuns',
  'bucket-runs': 'queryBucketRuns',
  'speak-rate': 'speakEventsPerS',
  'speak-s': 'speakSeconds',
  'soak-rate': 'soakEventsPerS',
  'soak-s': 'soakSeconds',
  'soak-window-s': 'soakWindowSeconds',
};

export class UsageError extends TaggedError('UsageError')<'USAGE_INVALID'> {
  constructor(message: string) {
    super('USAGE_INVALID', message);
  }
}

export function parseOptions(argv: readonly string[], defaultOutDir: string): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      quick: { type: 'boolean' },
      scenario: { type: 'string', multiple: true },
      transport: { type: 'string', multiple: true },
      listen: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      'out-dir': { type: 'string' },
      'profile-dir': { type: 'string' },
      'no-progress': { type: 'boolean' },
      processes: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...Object.fromEntries(Object.keys(sizeFlags).map((k) => [k, { type: 'string' as const }])),
    },
  });
  if (values.help) return 'help';
  const quick = values.quick === true;
  const sizes: Record<string, number> = { ...(quick ? quickSizes : fullSizes) };
  for (const [flag, key] of Object.entries(sizeFlags)) {
    const raw = (values as Record<string, unknown>)[flag];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${flag} must be a non-negative integer`);
    sizes[key] = n;
  }
  const scenarios = (values.scenario ?? [...scenarioNames]).map((s) => {
    if (!scenarioNames.includes(s as ScenarioName)) {
      throw new UsageError(`unknown scenario '${s}'; one of ${scenarioNames.join(', ')}`);
    }
    return s as ScenarioName;
  });
  const chosenTransports = (values.transport ?? [...transports]).map((t) => {
    if (!transports.includes(t as Transport)) throw new UsageError(`unknown transport '${t}'`);
    return t as Transport;
  });
  // limits and memory are measured on scenario 1's run and data; memory costs nothing extra.
  const withIngest =
    scenarios.includes('limits') || scenarios.includes('memory') || scenarios.includes('ingest');
  const all = scenarioNames.filter(
    (s) => scenarios.includes(s) || (withIngest && (s === 'ingest' || s === 'memory')),
  );
  const listenerModes = (values.listen ?? ['ws', 'nats']).map((m) => {
    if (m !== 'ws' && m !== 'nats') throw new UsageError(`unknown listeners '${m}'; ws or nats`);
    return m;
  });
  const processes = values.processes ?? 'one';
  if (processes !== 'per-stage' && processes !== 'one') {
    throw new UsageError(`--processes must be per-stage or one, got '${processes}'`);
  }
  return {
    quick,
    processes,
    scenarios: all,
    transports: chosenTransports,
    listenerModes,
    json: values.json === true,
    outDir: values['out-dir'] ?? defaultOutDir,
    profileDir: values['profile-dir'],
    progress: values['no-progress'] !== true,
    sizes: sizes as unknown as Sizes,
  };
}
