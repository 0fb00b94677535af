// SPDX-License-Identifier: MIT
// `tmictl connector run|status|pause|resume`: run connectors in this process (several such processes
// share the work through leases), or look at and steer them — straight on the database, so it works
// from any machine that reaches it, with or without the API.
import type { Config } from '../config/index.js';
import { connectorStatuses, setPaused } from '../connectors/index.js';
import { createPool } from '../db/index.js';
import type { Io } from './commands.js';
import { createLog } from './log.js';
import { endpoints } from './run-info.js';
import { startRuntime } from './runtime.js';
import { formatTable } from './table.js';

const usage = 'usage: tmictl connector run [name…] | status [name…] [--json] | pause <name> | resume <name>';

export async function connector(
  config: Config,
  io: Io,
  sub: string | undefined,
  names: readonly string[],
): Promise<number> {
  switch (sub) {
    case 'run':
      return run(config, io, names);
    case 'status':
      return status(config, io, names);
    case 'pause':
    case 'resume':
      return pauseOrResume(config, io, sub, names);
    default:
      io.err(usage);
      return 2;
  }
}

async function run(config: Config, io: Io, names: readonly string[]): Promise<number> {
  const { pgUrl, natsUrl } = endpoints(config);
  const runtime = await startRuntime(config, {
    pgUrl,
    natsUrl,
    stages: [],
    api: false,
    connectors: names.length > 0 ? names : 'all',
    log: createLog(config.logLevel, 'connectors', io.err),
  });
  io.err(`[connectors] running ${names.length > 0 ? names.join(', ') : 'any'} (pid ${process.pid})`);
  await new Promise<void>((resolve) => {
    const on = () => resolve();
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
  await runtime.stop();
  return 0;
}

async function status(config: Config, io: Io, names: readonly string[]): Promise<number> {
  const pool = createPool(endpoints(config).pgUrl, 1);
  try {
    const rows = await connectorStatuses(pool, names.length > 0 ? names : undefined);
    const missing = names.filter((n) => !rows.some((r) => r.name === n));
    if (missing.length > 0) {
      io.err(`no connector ${missing.map((n) => `'${n}'`).join(', ')}`);
      return 1;
    }
    if (io.json) io.out(JSON.stringify(rows, null, 2));
    else
      io.out(
        formatTable(
          rows.map((r) => ({
            name: r.name,
            type: r.type,
            state: r.state,
            events: r.events_emitted,
            rejected: r.items_rejected,
            bytes: r.bytes_read,
            last_success: r.last_success_at,
            last_error: r.last_error
              ? `${r.last_error.at} ${r.last_error.code}: ${r.last_error.message.slice(0, 80)}`
              : null,
            next_run: r.next_run_at,
            cursor: r.outbox ? `pending ${r.outbox.pending}` : shortJson(r.cursor),
          })),
        ),
      );
    return 0;
  } finally {
    await pool.end();
  }
}

async function pauseOrResume(
  config: Config,
  io: Io,
  sub: 'pause' | 'resume',
  names: readonly string[],
): Promise<number> {
  if (names.length !== 1) {
    io.err(`usage: tmictl connector ${sub} <name>`);
    return 2;
  }
  const pool = createPool(endpoints(config).pgUrl, 1);
  try {
    const view = await setPaused(pool, names[0]!, sub === 'pause').catch(
      (err: { code?: string; message: string }) => {
        if (err.code === 'CONNECTOR_NOT_FOUND') return undefined;
        throw err;
      },
    );
    if (!view) {
      io.err(`no connector '${names[0]}'`);
      return 1;
    }
    io.out(
      io.json
        ? JSON.stringify({ name: view.name, paused: view.paused })
        : `${view.name}: ${view.paused ? 'paused' : 'resumed'}`,
    );
    return 0;
  } finally {
    await pool.end();
  }
}

/** A cursor in a table cell: its JSON, cut to a readable width (--json shows it whole). */
function shortJson(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}
