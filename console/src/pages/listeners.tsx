// SPDX-License-Identifier: MIT
// Listeners and keys: create a listener with its subscriptions, mint a key for it (shown once), see its
// endpoint and watch its live stream; list and revoke keys.
import { useEffect, useState } from 'preact/hooks';
import { api, session } from '../api';
import { type LiveFrame, LiveStream } from '../live';
import { fmtTime, useLoad } from '../util';

const streamFramesShown = 50;

interface Subscription {
  readonly subscription_id: string;
  readonly target_id: string | null;
  readonly kind: string | null;
  readonly meta: Record<string, unknown> | null;
  readonly fields: string[] | null;
  readonly alarms: boolean;
}

interface ListenerOut {
  readonly listener_id: string;
  readonly name: string;
  readonly description: string;
  readonly endpoint: string;
  readonly subscriptions: readonly Subscription[];
}

interface KeyOut {
  readonly key_id: string;
  readonly name: string;
  readonly scope: string;
  readonly hint: string;
  readonly listener: string | null;
  readonly created_at: string;
  readonly revoked_at: string | null;
}

function describe(s: Subscription): string {
  const what = s.target_id ? `target ${s.target_id.slice(0, 8)}…` : `kind ${s.kind}`;
  const meta = s.meta ? ` where ${JSON.stringify(s.meta)}` : '';
  const fields = s.fields ? ` · fields ${s.fields.join(', ')}` : ' · every field';
  return `${what}${meta}${fields}${s.alarms ? ' · alarms' : ''}`;
}

export function ListenersPage() {
  const listeners = useLoad(() => api<{ listeners: ListenerOut[] }>('GET', '/v1/listeners?limit=200'), []);
  const keys = useLoad(() => api<{ keys: KeyOut[] }>('GET', '/v1/keys?limit=200'), []);
  const [watching, setWatching] = useState<string | undefined>();
  const [minted, setMinted] = useState<{ listener: string; key: string } | undefined>();
  const mint = async (l: ListenerOut) => {
    const k = await api<{ key: string }>('POST', '/v1/keys', {
      name: `${l.name}-key`,
      scope: 'listener',
      listener: l.name,
    });
    setMinted({ listener: l.name, key: k.key });
    keys.reload();
  };
  return (
    <section>
      <h2>Listeners &amp; keys</h2>
      {minted && (
        <div class="panel notice" data-testid="minted-key">
          Key for <b>{minted.listener}</b> (shown once — copy it now): <code>{minted.key}</code>
        </div>
      )}
      <table class="grid" data-testid="listeners-table">
        <thead>
          <tr>
            <th>Listener</th>
            <th>Endpoint</th>
            <th>Subscriptions</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(listeners.data?.listeners ?? []).map((l) => (
            <tr key={l.listener_id}>
              <td>
                <b>{l.name}</b>
                <div class="muted small">{l.description}</div>
              </td>
              <td class="mono small">{l.endpoint}</td>
              <td class="small">
                {l.subscriptions.length === 0 ? (
                  <span class="muted">none</span>
                ) : (
                  l.subscriptions.map((s) => <div key={s.subscription_id}>{describe(s)}</div>)
                )}
              </td>
              <td class="nowrap">
                <button type="button" onClick={() => mint(l)}>
                  Mint key
                </button>
                <button
                  type="button"
                  class="ghost"
                  onClick={() => setWatching(watching === l.name ? undefined : l.name)}
                >
                  {watching === l.name ? 'Stop' : 'Live stream'}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {watching && <StreamView listener={watching} />}
      <NewListener onCreated={listeners.reload} />
      <Keys keys={keys.data?.keys ?? []} onChange={keys.reload} />
    </section>
  );
}

function StreamView({ listener }: { listener: string }) {
  const [frames, setFrames] = useState<LiveFrame[]>([]);
  const [status, setStatus] = useState('connecting');
  useEffect(() => {
    const s = new LiveStream(session()!.token, listener);
    const off = s.subscribe((batch) =>
      setFrames((old) => [...batch.slice().reverse(), ...old].slice(0, streamFramesShown)),
    );
    const offStatus = s.onStatus(setStatus);
    return () => {
      off();
      offStatus();
      s.close();
    };
  }, [listener]);
  return (
    <div class="panel" data-testid="stream-view">
      <h3>
        Live stream of {listener} <span class="muted small">({status})</span>
      </h3>
      {frames.length === 0 && <p class="muted">Waiting for events…</p>}
      <pre class="stream">
        {frames
          .map(
            (f) => `${f.cursor}  ${f.type}  ${f.ts}  ${f.target_id.slice(0, 8)}  ${JSON.stringify(f.data)}`,
          )
          .join('\n')}
      </pre>
    </div>
  );
}

function NewListener({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState('');
  const [fields, setFields] = useState('');
  const [alarms, setAlarms] = useState(true);
  const [msg, setMsg] = useState<string | undefined>();
  const create = async (e: Event) => {
    e.preventDefault();
    const list = fields
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f !== '');
    const subscription = { kind, alarms, ...(list.length > 0 ? { fields: list } : {}) };
    try {
      await api('POST', '/v1/listeners', { name, subscriptions: kind === '' ? [] : [subscription] });
      setMsg(`Created ${name}: its endpoint is /api/${name}`);
      onCreated();
    } catch (err) {
      setMsg((err as Error).message);
    }
  };
  const input = (n: string, v: string, set: (v: string) => void, ph: string) => (
    <input name={n} placeholder={ph} value={v} onInput={(e) => set((e.target as HTMLInputElement).value)} />
  );
  return (
    <form class="panel inline" onSubmit={create}>
      <h3>New listener</h3>
      {input('listener-name', name, setName, 'name')}
      {input('listener-kind', kind, setKind, 'subscribe to kind')}
      {input('listener-fields', fields, setFields, 'fields (comma-separated; empty: all)')}
      <label class="check">
        <input type="checkbox" checked={alarms} onChange={() => setAlarms(!alarms)} /> alarms
      </label>
      <button type="submit" disabled={name === ''}>
        Create
      </button>
      {msg && <p class="muted">{msg}</p>}
    </form>
  );
}

function Keys({ keys, onChange }: { keys: readonly KeyOut[]; onChange: () => void }) {
  const revoke = (k: KeyOut) => api('DELETE', `/v1/keys/${k.key_id}`).then(onChange);
  return (
    <div class="panel">
      <h3>Keys</h3>
      <table class="grid compact">
        <thead>
          <tr>
            <th>Name</th>
            <th>Scope</th>
            <th>Hint</th>
            <th>Listener</th>
            <th>Created</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.key_id} class={k.revoked_at ? 'revoked' : ''}>
              <td>{k.name}</td>
              <td>{k.scope}</td>
              <td class="mono">{k.hint}</td>
              <td>{k.listener ?? '—'}</td>
              <td>{fmtTime(k.created_at)}</td>
              <td>
                {k.revoked_at ? (
                  <span class="muted">revoked</span>
                ) : (
                  <button type="button" class="ghost" onClick={() => revoke(k)}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
