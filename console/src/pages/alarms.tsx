// SPDX-License-Identifier: MIT
// Alarms: the live list filtered by state and severity, acknowledge and clear; the rules with their
// backtest, and a form for a new rule (its JSON definition, as POST /v1/alarm-rules takes it).
import { useState } from 'preact/hooks';
import { api, qs } from '../api';
import { href } from '../router';
import { fmtTime, useLive, useLoad } from '../util';

export const alarmStates = ['active', 'acknowledged', 'cleared'] as const;
export const alarmSeverities = ['critical', 'major', 'minor', 'warning', 'info'] as const;
const backtestHours = 24;

export interface AlarmOut {
  readonly alarm_id: string;
  readonly rule_name?: string;
  readonly target_id: string;
  readonly severity: string;
  readonly state: string;
  readonly raised_at: string;
  readonly reason: string;
}

export function AlarmTable({ alarms, onChange }: { alarms: readonly AlarmOut[]; onChange: () => void }) {
  const [error, setError] = useState<string | undefined>();
  const act = (a: AlarmOut, action: 'ack' | 'clear') =>
    api('POST', `/v1/alarms/${a.alarm_id}/${action}`, { note: `from tmiDB Console` }).then(
      onChange,
      (e: Error) => setError(e.message),
    );
  if (alarms.length === 0) return <p class="muted">No alarms.</p>;
  return (
    <>
      {error && <p class="error">{error}</p>}
      <table class="grid" data-testid="alarm-table">
        <thead>
          <tr>
            <th>Raised</th>
            <th>Severity</th>
            <th>State</th>
            <th>Rule</th>
            <th>Target</th>
            <th>Reason</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {alarms.map((a) => (
            <tr key={a.alarm_id} data-alarm={a.alarm_id} data-state={a.state}>
              <td class="nowrap">{fmtTime(a.raised_at)}</td>
              <td>
                <span class={`sev ${a.severity}`}>{a.severity}</span>
              </td>
              <td>{a.state}</td>
              <td>{a.rule_name ?? '—'}</td>
              <td>
                <a href={href('target', a.target_id)} class="mono small">
                  {a.target_id.slice(0, 8)}…
                </a>
              </td>
              <td>{a.reason}</td>
              <td class="nowrap">
                {a.state === 'active' && (
                  <button type="button" onClick={() => act(a, 'ack')}>
                    Acknowledge
                  </button>
                )}
                {a.state !== 'cleared' && (
                  <button type="button" class="ghost" onClick={() => act(a, 'clear')}>
                    Clear
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function AlarmsPage() {
  const [state, setState] = useState('');
  const [severity, setSeverity] = useState('');
  const alarms = useLoad(
    () => api<{ alarms: AlarmOut[] }>('GET', `/v1/alarms${qs({ state, severity, limit: 200 })}`),
    [state, severity],
  );
  useLive((frames) => frames.some((f) => f.type === 'alarm') && alarms.reload(), [state, severity]);
  const select = (value: string, set: (v: string) => void, options: readonly string[], label: string) => (
    <select name={label} value={value} onChange={(e) => set((e.target as HTMLSelectElement).value)}>
      <option value="">any {label}</option>
      {options.map((o) => (
        <option key={o} value={o}>
          {o}
        </option>
      ))}
    </select>
  );
  return (
    <section>
      <h2>Alarms</h2>
      <div class="toolbar">
        {select(state, setState, alarmStates, 'state')}
        {select(severity, setSeverity, alarmSeverities, 'severity')}
      </div>
      {alarms.error && <p class="error">{alarms.error}</p>}
      <AlarmTable alarms={alarms.data?.alarms ?? []} onChange={alarms.reload} />
      <Rules />
    </section>
  );
}

interface RuleOut {
  readonly rule_id: string;
  readonly name: string;
  readonly type: string;
  readonly severity: string;
  readonly enabled: boolean;
  readonly kind: string | null;
  readonly target_id: string | null;
  readonly version: number;
}

interface BacktestOut {
  readonly events_scanned: number;
  readonly truncated: boolean;
  readonly alarms: readonly {
    target_id: string;
    raised_at: string;
    reason: string;
    cleared_at: string | null;
  }[];
}

function Rules() {
  const rules = useLoad(() => api<{ rules: RuleOut[] }>('GET', '/v1/alarm-rules?limit=200'), []);
  const [backtests, setBacktests] = useState<Record<string, BacktestOut | string>>({});
  const backtest = async (r: RuleOut) => {
    const from = new Date(Date.now() - backtestHours * 3_600_000).toISOString();
    try {
      const out = await api<BacktestOut>('POST', `/v1/alarm-rules/${r.rule_id}/backtest${qs({ from })}`);
      setBacktests((b) => ({ ...b, [r.rule_id]: out }));
    } catch (err) {
      setBacktests((b) => ({ ...b, [r.rule_id]: (err as Error).message }));
    }
  };
  return (
    <div class="panel">
      <h3>Rules</h3>
      <table class="grid compact" data-testid="rules-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Type</th>
            <th>Severity</th>
            <th>Scope</th>
            <th>Version</th>
            <th>Backtest (last {backtestHours} h)</th>
          </tr>
        </thead>
        <tbody>
          {(rules.data?.rules ?? []).map((r) => (
            <tr key={r.rule_id}>
              <td>
                {r.name}
                {!r.enabled && <span class="muted"> (disabled)</span>}
              </td>
              <td>{r.type}</td>
              <td>
                <span class={`sev ${r.severity}`}>{r.severity}</span>
              </td>
              <td>
                {r.target_id
                  ? `target ${r.target_id.slice(0, 8)}…`
                  : r.kind
                    ? `kind ${r.kind}`
                    : 'every target'}
              </td>
              <td>v{r.version}</td>
              <td>
                <button type="button" class="ghost" onClick={() => backtest(r)}>
                  Run
                </button>{' '}
                <BacktestResult result={backtests[r.rule_id]} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <NewRule onCreated={rules.reload} />
    </div>
  );
}

function BacktestResult({ result }: { result: BacktestOut | string | undefined }) {
  if (result === undefined) return null;
  if (typeof result === 'string') return <span class="error">{result}</span>;
  return (
    <span data-testid="backtest-result">
      {result.alarms.length} alarm(s) from {result.events_scanned} events
      {result.truncated ? ' (truncated)' : ''}
    </span>
  );
}

const ruleExample = JSON.stringify(
  {
    name: 'hot',
    type: 'threshold',
    kind: 'sensor',
    severity: 'major',
    condition: { all: [{ field: 'temp', op: '>', value: 30 }] },
  },
  null,
  1,
);

function NewRule({ onCreated }: { onCreated: () => void }) {
  const [text, setText] = useState(ruleExample);
  const [msg, setMsg] = useState<string | undefined>();
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      await api('POST', '/v1/alarm-rules', JSON.parse(text));
      setMsg('Created.');
      onCreated();
    } catch (err) {
      setMsg((err as Error).message);
    }
  };
  return (
    <form onSubmit={create} class="inline-form">
      <label>
        New rule (JSON)
        <textarea
          name="rule-json"
          rows={4}
          value={text}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        />
      </label>
      <button type="submit">Create rule</button>
      {msg && <span class="muted"> {msg}</span>}
    </form>
  );
}
