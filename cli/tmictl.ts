#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// tmictl — the tmiDB command line.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/index.js';
import { LaunchError, MissingBinaryError } from '../ops/index.js';
import * as commands from './commands.js';
import { connector } from './connector.js';
import { dlq } from './dlq.js';
import { pipelinePause, pipelineReplay } from './pipeline-commands.js';
import { NotRunningError } from './run-info.js';
import { schema } from './schema-commands.js';
import { tail } from './tail.js';

const usage = `tmictl — tmiDB command line

  tmictl up                         start tmiDB (embedded PostgreSQL + nats-server, all stages, API)
  tmictl status                     is it running, where, healthy?
  tmictl version                    version
  tmictl publish <target> <json>    write one event ({"data":{...}} or a bare fields object)
  tmictl tail <listener> [--from <cursor> | --oldest] [--count N]
                                    print a listener's live stream (resumes by cursor on reconnect)
  tmictl psql [psql args]           psql on tmiDB's database (prompt tmiDB:db=#)
  tmictl pipeline status            per stage: pending, ack pending, redeliveries, checkpoint, skipped,
                                    dead letters
  tmictl dlq list [--stage S] [--count N]
                                    dead letters: one event each, the stage that refused it and why
  tmictl dlq show <seq>             one dead letter with its event(s)
  tmictl dlq replay <seq>…          after fixing the cause: back to its stage, applied exactly once
  tmictl psql [--read-only] [psql args]
                                    psql on tmiDB's database (prompt tmiDB:db=#); --read-only logs in
                                    as tmidb_reader (typed views in schema kinds, projections; SELECT only)
  tmictl pipeline status            per stage: pending, ack pending, redeliveries, checkpoint, skipped
  tmictl pipeline replay <capture|project|geo> [--from <seq|time>] [--to <seq|time>]
                                    rebuild a stage's rows from its stream (idempotent; tmiDB keeps running)
  tmictl pipeline pause|resume <stage>
                                    hold / release a stage in every process (messages wait in the stream)
  tmictl schema list                kinds, their compatibility mode and versions
  tmictl schema show <kind> [--version n]
                                    a version's fields and lifecycle (default: the latest)
  tmictl schema check <kind> <json> dry run of a write: new version? compatible? what would it affect?
  tmictl stage <name>               capture, normalize, project, geo, alarm, fanout, fanout-alarm:
                                    run one stage in this process (scale out / kill independently)
  tmictl connector run [name…]      run managed connectors here (all, or the named ones); several
                                    processes share them through leases
  tmictl connector status [name…]   state, last success/error, next run, events, cursor per connector
  tmictl connector pause|resume <name>
  tmictl config [--markdown]        the configuration in force (secrets redacted)

Options: --json (machine-readable output), -h/--help. Configuration: TMIDB_* environment variables
(see 'tmictl config --markdown').`;

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: false,
    options: {
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      markdown: { type: 'boolean' },
      from: { type: 'string' },
      oldest: { type: 'boolean' },
      count: { type: 'string' },
      stage: { type: 'string' },
      to: { type: 'string' },
      version: { type: 'string' },
    },
  });
  const io: commands.Io = {
    json: values.json === true,
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
  };
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    io.out(usage);
    return command || values.help ? 0 : 2;
  }
  const config = loadConfig();
  switch (command) {
    case 'up':
      return commands.up(config, io);
    case 'stage':
      return commands.stage(config, io, rest[0]);
    case 'status':
      return commands.status(config, io);
    case 'version':
      return commands.version(io);
    case 'tail':
      return tail(config, io, rest[0], {
        from: typeof values.from === 'string' ? values.from : undefined,
        oldest: values.oldest === true,
        count: typeof values.count === 'string' ? Number(values.count) : undefined,
      });
    case 'publish':
      return commands.publish(config, io, rest[0], rest[1]);
    case 'psql':
      return commands.psql(config, argv.slice(argv.indexOf('psql') + 1));
    case 'pipeline':
      if (rest[0] === 'replay') {
        return pipelineReplay(config, io, rest[1], { from: str(values.from), to: str(values.to) });
      }
      if (rest[0] === 'pause' || rest[0] === 'resume') return pipelinePause(config, io, rest[0], rest[1]);
      return commands.pipeline(config, io, rest[0]);
    case 'dlq':
      return dlq(config, io, rest, {
        stage: typeof values.stage === 'string' ? values.stage : undefined,
        count: typeof values.count === 'string' ? Number(values.count) : undefined,
      });
    case 'schema':
      return schema(config, io, rest, str(values.version));
    case 'config':
      return commands.showConfig(config, io, values.markdown === true);
    case 'connector':
      return connector(config, io, rest[0], rest.slice(1));
    default:
      io.err(`unknown command '${command}'\n\n${usage}`);
      return 2;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const known = [ConfigError, NotRunningError, LaunchError, MissingBinaryError];
    if (known.some((cls) => err instanceof cls)) process.stderr.write(`tmictl: ${(err as Error).message}\n`);
    else process.stderr.write(`tmictl: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
