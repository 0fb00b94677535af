// SPDX-License-Identifier: MIT
// Pipeline: each stage's backlog, redeliveries and dead letters (GET /v1/pipeline, refreshed every few
// seconds); managed connectors and the normalizer's mapping suggestions when this server has those
// routes (found in /openapi.json; older servers simply say they have none).
import { useEffect, useState } from 'preact/hooks';
import { api, serverHasPath } from '../api';
import { useLoad } from '../util';

export const pipelineRefreshMs = 3000;

interface StageOut {
  readonly stage: string;
  readonly stream: string;
  readonly pending: number;
  readonly ack_pending: number;
  readonly redelivered: number;
  readonly dead_lettered: number;
  readonly skipped?: number;
  readonly events_committed?: number | null;
}

export function PipelinePage() {
  const stages = useLoad(() => api<{ stages: StageOut[] }>('GET', '/v1/pipeline'), []);
  useEffect(() => {
    const t = setInterval(stages.reload, pipelineRefreshMs);
    return () => clearInterval(t);
  }, []);
  return (
    <section>
      <h2>Pipeline</h2>
      {stages.error && <p class="error">{stages.error}</p>}
      <table class="grid" data-testid="stages-table">
        <thead>
          <tr>
            <th>Stage</th>
            <th>Stream</th>
            <th class="num">Pending</th>
            <th class="num">Ack pending</th>
            <th class="num">Redelivered</th>
            <th class="num">Dead letters</th>
            <th class="num">Skipped</th>
            <th class="num">Committed</th>
          </tr>
        </thead>
        <tbody>
          {(stages.data?.stages ?? []).map((s) => (
            <tr key={s.stage}>
              <td>
                <b>{s.stage}</b>
              </td>
              <td class="mono small">{s.stream}</td>
              <td class="num">{s.pending}</td>
              <td class="num">{s.ack_pending}</td>
              <td class="num">{s.redelivered}</td>
              <td class={`num ${s.dead_lettered > 0 ? 'bad' : ''}`}>{s.dead_lettered}</td>
              <td class="num">{s.skipped ?? 0}</td>
              <td class="num">{s.events_committed ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Optional path="/v1/connectors" title="Connectors" render={Connectors} />
      <Optional path="/v1/mapping-suggestions" title="Mapping suggestions" render={Suggestions} />
    </section>
  );
}

/** A panel for a feature this server may not have yet. */
function Optional({
  path,
  title,
  render: Render,
}: {
  path: string;
  title: string;
  render: () => preact.JSX.Element;
}) {
  const [has, setHas] = useState<boolean | undefined>();
  useEffect(() => void serverHasPath(path).then(setHas), [path]);
  return (
    <div class="panel" data-feature={path} data-available={has === undefined ? 'unknown' : String(has)}>
      <h3>{title}</h3>
      {has === false ? (
        <p class="muted">This server has no {path} yet.</p>
      ) : has ? (
        <Render />
      ) : (
        <p class="muted">…</p>
      )}
    </div>
  );
}

/** The first array in a list response, whatever its name (`connectors`, `suggestions`, …). */
function rowsOf(body: unknown): Record<string, unknown>[] {
  if (Array.isArray(body)) return body as Record<string, unknown>[];
  const arr = Object.values((body ?? {}) as Record<string, unknown>).find(Array.isArray);
  return (arr ?? []) as Record<string, unknown>[];
}

function cell(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
    ? String(v)
    : JSON.stringify(v);
}

function Connectors() {
  const list = useLoad(() => api<unknown>('GET', '/v1/connectors').then(rowsOf), []);
  const rows = list.data ?? [];
  if (list.error) return <p class="error">{list.error}</p>;
  if (rows.length === 0) return <p class="muted">No connectors.</p>;
  const cols = ['name', 'type', 'status', 'state', 'last_error'].filter((c) => rows.some((r) => c in r));
  return <Table rows={rows} cols={cols} />;
}

function Suggestions() {
  const list = useLoad(() => api<unknown>('GET', '/v1/mapping-suggestions').then(rowsOf), []);
  const [msg, setMsg] = useState<string | undefined>();
  const rows = list.data ?? [];
  const idOf = (r: Record<string, unknown>) => String(r.suggestion_id ?? r.id ?? '');
  const decide = async (r: Record<string, unknown>, verdict: 'approve' | 'reject') => {
    try {
      await api('POST', `/v1/mapping-suggestions/${encodeURIComponent(idOf(r))}/${verdict}`, {});
      list.reload();
    } catch (err) {
      setMsg((err as Error).message);
    }
  };
  if (list.error) return <p class="error">{list.error}</p>;
  if (rows.length === 0) return <p class="muted">No suggestions waiting.</p>;
  const cols = Object.keys(rows[0]!)
    .filter((c) => c !== 'suggestion_id' && c !== 'id')
    .slice(0, 6);
  return (
    <>
      {msg && <p class="error">{msg}</p>}
      <Table
        rows={rows}
        cols={cols}
        actions={(r) => (
          <>
            <button type="button" onClick={() => decide(r, 'approve')}>
              Approve
            </button>
            <button type="button" class="ghost" onClick={() => decide(r, 'reject')}>
              Reject
            </button>
          </>
        )}
      />
    </>
  );
}

function Table(props: {
  rows: Record<string, unknown>[];
  cols: string[];
  actions?: (r: Record<string, unknown>) => preact.JSX.Element;
}) {
  return (
    <table class="grid compact">
      <thead>
        <tr>
          {props.cols.map((c) => (
            <th key={c}>{c}</th>
          ))}
          {props.actions && <th />}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r, i) => (
          <tr key={i}>
            {props.cols.map((c) => (
              <td key={c} class="small">
                {cell(r[c])}
              </td>
            ))}
            {props.actions && <td class="nowrap">{props.actions(r)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
