// SPDX-License-Identifier: MIT
// Targets: search by name, filter by kind and meta, paged; last seen and a few values, updated live;
// create a target. A listener key sees its listener's targets (/api/<listener>) and only its fields.
import { useEffect, useState } from 'preact/hooks';
import { api, qs, type Session } from '../api';
import { watchKinds } from '../hub';
import { href, navigate } from '../router';
import {
  fmtAgo,
  fmtValue,
  lastSeen,
  mergeState,
  parseJsonObject,
  type State,
  useLive,
  useLoad,
} from '../util';

export const targetsPageSize = 50;
const valuesShown = 3;

interface TargetRow {
  readonly target_id: string;
  readonly name: string;
  readonly kind: string;
  readonly meta?: Record<string, unknown>;
  readonly state?: State;
}

interface Filters {
  readonly name: string;
  readonly kind: string;
  readonly meta: string;
}

async function loadPage(s: Session, f: Filters, after: string | undefined) {
  if (s.scope === 'listener') {
    const r = await api<{ targets: TargetRow[]; next?: string }>(
      'GET',
      `/api/${encodeURIComponent(s.listener!)}${qs({ limit: targetsPageSize, after })}`,
    );
    const name = f.name.toLowerCase();
    return {
      ...r,
      targets: r.targets.filter(
        (t) => t.name.toLowerCase().includes(name) && (f.kind === '' || t.kind === f.kind),
      ),
    };
  }
  parseJsonObject(f.meta, 'meta');
  const r = await api<{ targets: TargetRow[]; next?: string }>(
    'GET',
    `/v1/targets${qs({ name: f.name, kind: f.kind, meta: f.meta, state: true, limit: targetsPageSize, after })}`,
  );
  void watchKinds(r.targets.map((t) => t.kind));
  return r;
}

export function TargetsPage({ session: s }: { session: Session }) {
  const [filters, setFilters] = useState<Filters>({ name: '', kind: '', meta: '' });
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const after = cursors[cursors.length - 1];
  const page = useLoad(() => loadPage(s, filters, after), [filters, after]);
  const [rows, setRows] = useState<TargetRow[]>([]);
  useEffect(() => setRows(page.data?.targets ?? []), [page.data]);
  useLive((frames) => {
    const byTarget = new Map<string, typeof frames>();
    for (const f of frames)
      if (f.type === 'event') byTarget.set(f.target_id, [...(byTarget.get(f.target_id) ?? []), f]);
    if (byTarget.size === 0) return;
    setRows((old) =>
      old.map((t) => {
        const mine = byTarget.get(t.target_id);
        return mine === undefined ? t : { ...t, state: mine.reduce(mergeState, t.state ?? {}) };
      }),
    );
  }, []);
  const setFilter = (f: Filters) => {
    setFilters(f);
    setCursors([undefined]);
  };
  return (
    <section>
      <h2>Targets</h2>
      <FilterBar filters={filters} onChange={setFilter} />
      {page.error && <p class="error">{page.error}</p>}
      <TargetTable rows={rows} />
      <div class="pager">
        <button
          type="button"
          disabled={cursors.length === 1}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          ← Previous
        </button>
        <span class="muted">page {cursors.length}</span>
        <button
          type="button"
          disabled={page.data?.next === undefined}
          onClick={() => setCursors([...cursors, page.data?.next])}
        >
          Next →
        </button>
      </div>
      {s.scope === 'admin' && <CreateTarget />}
    </section>
  );
}

function FilterBar({ filters, onChange }: { filters: Filters; onChange: (f: Filters) => void }) {
  const [draft, setDraft] = useState(filters);
  const field = (k: keyof Filters, placeholder: string) => (
    <input
      name={`filter-${k}`}
      placeholder={placeholder}
      value={draft[k]}
      onInput={(e) => setDraft({ ...draft, [k]: (e.target as HTMLInputElement).value })}
    />
  );
  return (
    <form
      class="filters"
      onSubmit={(e) => {
        e.preventDefault();
        onChange(draft);
      }}
    >
      {field('name', 'name contains…')}
      {field('kind', 'kind')}
      {field('meta', 'meta, e.g. {"site":"plant-1"}')}
      <button type="submit">Search</button>
    </form>
  );
}

function TargetTable({ rows }: { rows: readonly TargetRow[] }) {
  if (rows.length === 0) return <p class="muted">No targets.</p>;
  return (
    <table class="grid" data-testid="targets-table">
      <thead>
        <tr>
          <th>Name</th>
          <th>Kind</th>
          <th>Last seen</th>
          <th>Values</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((t) => (
          <tr key={t.target_id}>
            <td>
              <a href={href('target', t.target_id)}>{t.name}</a>
            </td>
            <td>{t.kind}</td>
            <td title={lastSeen(t.state)}>{fmtAgo(lastSeen(t.state))}</td>
            <td class="values">
              {Object.entries(t.state ?? {})
                .slice(0, valuesShown)
                .map(([k, v]) => (
                  <span key={k} class="chip">
                    {k} <b>{fmtValue(v.value)}</b>
                  </span>
                ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function CreateTarget() {
  const [name, setName] = useState('');
  const [kind, setKind] = useState('');
  const [meta, setMeta] = useState('');
  const [error, setError] = useState<string | undefined>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      const body = { name, kind, meta: parseJsonObject(meta, 'meta') };
      const t = await api<{ target_id: string; kind: string }>('POST', '/v1/targets', body);
      await watchKinds([t.kind]);
      navigate('target', t.target_id);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="panel inline" onSubmit={submit} data-testid="create-target">
      <h3>New target</h3>
      <input
        name="new-name"
        placeholder="name"
        value={name}
        onInput={(e) => setName((e.target as HTMLInputElement).value)}
      />
      <input
        name="new-kind"
        placeholder="kind"
        value={kind}
        onInput={(e) => setKind((e.target as HTMLInputElement).value)}
      />
      <input
        name="new-meta"
        placeholder='meta (JSON), e.g. {"site":"plant-1"}'
        value={meta}
        onInput={(e) => setMeta((e.target as HTMLInputElement).value)}
      />
      <button type="submit" disabled={name === '' || kind === ''}>
        Create
      </button>
      {error && <p class="error">{error}</p>}
    </form>
  );
}
