// SPDX-License-Identifier: MIT
// The chart panel of a target: choose fields and a range; the server downsamples to ~2 points per pixel
// column (`points=`), and live events of the target are appended as they come.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, qs } from '../api';
import { type ChartSeries, SeriesChart } from '../chart';
import { type State, useLive, useLoad } from '../util';

const ranges = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 } as const;
type RangeName = keyof typeof ranges | 'custom';
const defaultFieldsShown = 3;
/** Live points kept per series (older ones fall off the left; change the range to reload). */
export const liveSeriesPointsMax = 20_000;
const positionFields = new Set(['lat', 'lon', 'alt', 'heading', 'accuracy']);

interface PointsOut {
  readonly from: string;
  readonly to: string;
  readonly series: Record<string, { ts: string[]; value: number[] }>;
}

function numericFields(state: State): string[] {
  return Object.entries(state)
    .filter(([, v]) => typeof v.value === 'number')
    .map(([k]) => k)
    .sort();
}

/** About two points per pixel of the chart's width. */
function pointsForWidth(): number {
  return Math.min(10_000, Math.max(200, Math.round(window.innerWidth * 2)));
}

export function TargetChart({ id, base, state }: { id: string; base: string; state: State }) {
  const available = numericFields(state);
  const [chosen, setChosen] = useState<string[] | undefined>();
  const fields = chosen ?? available.filter((f) => !positionFields.has(f)).slice(0, defaultFieldsShown);
  const [range, setRange] = useState<RangeName>('1h');
  const [custom, setCustom] = useState({ from: '', to: '' });
  const window_ = useMemo(() => {
    if (range !== 'custom') {
      const to = Date.now() + 60_000;
      return { fromMs: to - ranges[range], toMs: to };
    }
    return { fromMs: Date.parse(custom.from), toMs: Date.parse(custom.to) };
  }, [range, custom]);
  const key = fields.join(',');
  const loaded = useLoad(async () => {
    if (fields.length === 0 || !(window_.toMs > window_.fromMs)) return undefined;
    const q = qs({
      fields: key,
      from: new Date(window_.fromMs).toISOString(),
      to: new Date(window_.toMs).toISOString(),
      points: pointsForWidth(),
    });
    return api<PointsOut>('GET', `${base}/obs${q}`);
  }, [key, window_, base]);
  const [series, setSeries] = useState<ChartSeries[]>([]);
  const [toMs, setToMs] = useState(window_.toMs);
  useEffect(() => {
    const s = loaded.data?.series ?? {};
    setSeries(
      fields.map((f) => ({
        name: f,
        points: (s[f]?.ts ?? []).map((t, i) => [Date.parse(t), s[f]!.value[i]!] as const),
      })),
    );
    setToMs(window_.toMs);
  }, [loaded.data]);
  useLive(
    (frames) => {
      if (range === 'custom') return;
      const mine = frames.filter((f) => f.type === 'event' && f.target_id === id);
      if (mine.length === 0) return;
      setSeries((old) =>
        old.map((s) => {
          const added = mine.flatMap((f) =>
            typeof f.data[s.name] === 'number' ? [[Date.parse(f.ts), f.data[s.name] as number] as const] : [],
          );
          return added.length === 0
            ? s
            : { ...s, points: [...s.points, ...added].slice(-liveSeriesPointsMax) };
        }),
      );
      setToMs((t) => Math.max(t, ...mine.map((f) => Date.parse(f.ts) + 1000)));
    },
    [id, range],
  );
  const toggle = (f: string) =>
    setChosen(fields.includes(f) ? fields.filter((x) => x !== f) : [...fields, f]);
  return (
    <div class="panel">
      <h3>Series</h3>
      <div class="toolbar">
        {available.map((f) => (
          <label key={f} class="check">
            <input type="checkbox" checked={fields.includes(f)} onChange={() => toggle(f)} /> {f}
          </label>
        ))}
        <span class="spacer" />
        {(['1h', '24h', '7d', 'custom'] as const).map((r) => (
          <button key={r} type="button" class={range === r ? 'on' : 'ghost'} onClick={() => setRange(r)}>
            {r === 'custom' ? 'Custom' : `Last ${r}`}
          </button>
        ))}
      </div>
      {range === 'custom' && (
        <div class="toolbar">
          <input
            name="range-from"
            placeholder="from (ISO-8601)"
            value={custom.from}
            onChange={(e) => setCustom({ ...custom, from: (e.target as HTMLInputElement).value })}
          />
          <input
            name="range-to"
            placeholder="to (ISO-8601)"
            value={custom.to}
            onChange={(e) => setCustom({ ...custom, to: (e.target as HTMLInputElement).value })}
          />
        </div>
      )}
      {loaded.error && <p class="error">{loaded.error}</p>}
      {fields.length === 0 ? (
        <p class="muted">No numeric fields yet.</p>
      ) : (
        <SeriesChart series={series} fromMs={window_.fromMs} toMs={toMs} />
      )}
    </div>
  );
}
