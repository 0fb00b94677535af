// SPDX-License-Identifier: MIT
// Prometheus metrics per connector, registered in the process's registry (served at /metrics by the API
// process; `tmictl connector run` workers count the same names for their own connectors).
import { Counter, Gauge, type Registry } from 'prom-client';
import { connectorStates } from './status.js';

export interface ConnectorMetrics {
  readonly events: Counter<'connector' | 'type'>;
  readonly rejected: Counter<'connector' | 'type' | 'code'>;
  readonly bytes: Counter<'connector' | 'type'>;
  readonly failures: Counter<'connector' | 'type' | 'code'>;
  readonly runs: Counter<'connector' | 'type'>;
  readonly state: Gauge<'connector' | 'type' | 'state'>;
  setState(connector: string, type: string, state: string | undefined): void;
}

const byRegistry = new WeakMap<Registry, ConnectorMetrics>();

export function connectorMetrics(registry: Registry): ConnectorMetrics {
  const known = byRegistry.get(registry);
  if (known) return known;
  const labels = ['connector', 'type'] as const;
  const state = new Gauge({
    name: 'tmidb_connector_state',
    help: 'Connectors run by this process: 1 for the state each is in (running, backing_off, failing).',
    labelNames: [...labels, 'state'],
    registers: [registry],
  });
  const metrics: ConnectorMetrics = {
    events: new Counter({
      name: 'tmidb_connector_events_emitted_total',
      help: 'Events a connector published (after the PubAck; re-emissions JetStream dropped are not counted).',
      labelNames: labels,
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'tmidb_connector_items_rejected_total',
      help: 'Items a connector could not turn into an event (dead-lettered or moved to tmi.speak_rejected).',
      labelNames: [...labels, 'code'],
      registers: [registry],
    }),
    bytes: new Counter({
      name: 'tmidb_connector_bytes_read_total',
      help: 'Bytes a connector read from its source.',
      labelNames: labels,
      registers: [registry],
    }),
    failures: new Counter({
      name: 'tmidb_connector_failures_total',
      help: 'Failed runs of a connector (each retried with backoff), by error code.',
      labelNames: [...labels, 'code'],
      registers: [registry],
    }),
    runs: new Counter({
      name: 'tmidb_connector_runs_total',
      help: 'Successful runs (polls, batches) of a connector.',
      labelNames: labels,
      registers: [registry],
    }),
    state,
    setState(connector, type, current) {
      for (const s of connectorStates) state.set({ connector, type, state: s }, s === current ? 1 : 0);
    },
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
