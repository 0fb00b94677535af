// SPDX-License-Identifier: MIT
// One target: its latest state (live), a chart of chosen fields over a chosen range (appends live), its
// trace on a map, its alarms, its raw events and its kind's schema versions. A listener key reads it
// through /api/<listener>/<id> and sees only its fields.
import { useEffect, useState } from 'preact/hooks';
import { api, type Session } from '../api';
import { watchKinds } from '../hub';
import {
  fmtAgo,
  fmtTime,
  fmtValue,
  mergeState,
  parseJsonObject,
  type State,
  useLive,
  useLoad,
} from '../util';
import { TargetChart } from './target-chart';
import { RawEvents, SchemaVersions, TargetAlarms, TraceMap } from './target-extras';

export interface TargetOut {
  readonly target_id: string;
  readonly name: string;
  readonly kind: string;
  readonly meta?: Record<string, unknown>;
  readonly state: State;
  readonly position?: { lat: number; lon: number; ts: string } | null;
}

/** Where this session reads a target from. */
export function targetBase(s: Session, id: string): string {
  return s.scope === 'listener' ? `/api/${encodeURIComponent(s.listener!)}/${id}` : `/v1/targets/${id}`;
}

export function TargetPage({ id, session: s }: { id: string; session: Session }) {
  const loaded = useLoad(() => api<TargetOut>('GET', targetBase(s, id)), [id]);
  const [state, setState] = useState<State>({});
  const [position, setPosition] = useState<TargetOut['position']>(null);
  useEffect(() => {
    setState(loaded.data?.state ?? {});
    setPosition(loaded.data?.position ?? null);
    if (loaded.data) void watchKinds([loaded.data.kind]);
  }, [loaded.data]);
  useLive(
    (frames) => {
      const mine = frames.filter((f) => f.type === 'event' && f.target_id === id);
      if (mine.length === 0) return;
      setState((old) => mine.reduce(mergeState, old));
      const last = mine[mine.length - 1]!.data;
      if (typeof last.lat === 'number' && typeof last.lon === 'number') {
        setPosition({ lat: last.lat, lon: last.lon, ts: mine[mine.length - 1]!.ts });
      }
    },
    [id],
  );
  if (loaded.error) return <p class="error">{loaded.error}</p>;
  const t = loaded.data;
  if (t === undefined) return <p class="muted">Loading…</p>;
  const admin = s.scope === 'admin';
  return (
    <section class="target">
      <h2>
        {t.name} <span class="kind">{t.kind}</span>
      </h2>
      <p class="muted small mono">{t.target_id}</p>
      <div class="cols">
        <StatePanel state={state} />
        {admin && <EditTarget target={t} onSaved={loaded.reload} />}
      </div>
      <TargetChart id={id} base={targetBase(s, id)} state={state} />
      {admin && <TraceMap id={id} position={position} />}
      {admin && <TargetAlarms id={id} />}
      <RawEvents base={targetBase(s, id)} />
      {admin && <SchemaVersions kind={t.kind} />}
    </section>
  );
}

function StatePanel({ state }: { state: State }) {
  const fields = Object.entries(state).sort(([a], [b]) => a.localeCompare(b));
  return (
    <div class="panel">
      <h3>Latest state</h3>
      {fields.length === 0 ? (
        <p class="muted">No data yet.</p>
      ) : (
        <table class="grid compact" data-testid="state-table">
          <tbody>
            {fields.map(([k, v]) => (
              <tr key={k}>
                <th>{k}</th>
                <td data-field={k}>{fmtValue(v.value)}</td>
                <td class="muted" title={fmtTime(v.ts)}>
                  {fmtAgo(v.ts)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function EditTarget({ target, onSaved }: { target: TargetOut; onSaved: () => void }) {
  const [name, setName] = useState(target.name);
  const [meta, setMeta] = useState(JSON.stringify(target.meta ?? {}));
  const [msg, setMsg] = useState<string | undefined>();
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      await api('PATCH', `/v1/targets/${target.target_id}`, {
        name,
        meta: parseJsonObject(meta, 'meta') ?? {},
      });
      setMsg('Saved.');
      onSaved();
    } catch (err) {
      setMsg((err as Error).message);
    }
  };
  return (
    <form class="panel" onSubmit={save}>
      <h3>Edit</h3>
      <label>
        Name
        <input name="edit-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        Meta (JSON)
        <textarea
          name="edit-meta"
          rows={3}
          value={meta}
          onInput={(e) => setMeta((e.target as HTMLTextAreaElement).value)}
        />
      </label>
      <button type="submit">Save</button>
      {msg && <p class="muted">{msg}</p>}
    </form>
  );
}
