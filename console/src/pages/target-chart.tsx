// SPDX-License-Identifier: MIT
// The chart panel of a target: choose fields and a range; the server downsamples to ~2 points per pixel
// column (`points=`), and live events of the target are appended as they come.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, qs } from '../api';
import { type ChartSeries, SeriesChart } from '../chart';
import type { LiveFrame } from '../live';
import { livePoints, mergeLoaded } from '../series-merge';
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

interface TimeWindow {
  readonly fromMs: number;
  readonly toMs: number;
}

/** The downsampled series of `fields` over the window, with live points appended (relative ranges). */
function useChartSeries(id: string, base: string, fields: readonly string[], win: TimeWindow, live: boolean) {
  const key = fields.join(',');
  const loaded = useLoad(async () => {
    if (fields.length === 0 || !(win.toMs > win.fromMs)) return undefined;
    const from = new Date(win.fromMs).toISOString();
    const q = qs({ fields: key, from, to: new Date(win.toMs).toISOString(), points: pointsForWidth() });
    return api<PointsOut>('GET', `${base}/obs${q}`);
  }, [key, win, base]);
  const [series, setSeries] = useState<ChartSeries[]>([]);
  const [toMs, setToMs] = useState(win.toMs);
  const [seriesFromMs, setSeriesFromMs] = useState<number | undefined>();
  // This target's live frames since the page opened (bounded), whatever fields are shown at the time.
  const seen = useRef<LiveFrame[]>([]);
  useEffect(() => {
    seen.current = [];
  }, [id]);
  useEffect(() => {
    const s = loaded.data?.series ?? {};
    const pointsOf = (f: string) => (s[f]?.ts ?? []).map((t, i) => [Date.parse(t), s[f]!.value[i]!] as const);
    const liveOf = (f: string) => (live ? livePoints(seen.current, f) : []);
    setSeries(
      fields.map((f) => ({
        name: f,
        points: mergeLoaded(pointsOf(f), liveOf(f), win.fromMs, liveSeriesPointsMax),
      })),
    );
    setToMs(win.toMs);
    if (loaded.data !== undefined) setSeriesFromMs(win.fromMs);
  }, [loaded.data]);
  useLive(
    (frames) => {
      const mine = live ? frames.filter((f) => f.type === 'event' && f.target_id === id) : [];
      if (mine.length === 0) return;
      seen.current = [...seen.current, ...mine].slice(-liveSeriesPointsMax);
      const append = (s: ChartSeries): ChartSeries => {
        const added = livePoints(mine, s.name);
        return added.length === 0 ? s : { ...s, points: [...s.points, ...added].slice(-liveSeriesPointsMax) };
      };
      setSeries((old) => old.map(append));
      setToMs((t) => Math.max(t, ...mine.map((f) => Date.parse(f.ts) + 1000)));
    },
    [id, live],
  );
  return { series, toMs, seriesFromMs, error: loaded.error };
}

export function TargetChart({ id, base, state }: { id: string; base: string; state: State }) {
  const available = numericFields(state);
  const [chosen, setChosen] = useState<string[] | undefined>();
  const fields = chosen ?? available.filter((f) => !positionFields.has(f)).slice(0, defaultFieldsShown);
  const [range, setRange] = useState<RangeName>('1h');
  const [custom, setCustom] = useState({ from: '', to: '' });
  const win = useMemo<TimeWindow>(() => {
    if (range === 'custom') return { fromMs: Date.parse(custom.from), toMs: Date.parse(custom.to) };
    const to = Date.now() + 60_000;
    return { fromMs: to - ranges[range], toMs: to };
  }, [range, custom]);
  const { series, toMs, seriesFromMs, error } = useChartSeries(id, base, fields, win, range !== 'custom');
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
        <RangePicker range={range} onRange={setRange} />
      </div>
      {range === 'custom' && <CustomRange value={custom} onChange={setCustom} />}
      {error && <p class="error">{error}</p>}
      {fields.length === 0 ? (
        <p class="muted">No numeric fields yet.</p>
      ) : (
        <SeriesChart series={series} fromMs={win.fromMs} toMs={toMs} seriesFromMs={seriesFromMs} />
      )}
    </div>
  );
}

function RangePicker({ range, onRange }: { range: RangeName; onRange: (r: RangeName) => void }) {
  return (
    <>
      {(['1h', '24h', '7d', 'custom'] as const).map((r) => (
        <button key={r} type="button" class={range === r ? 'on' : 'ghost'} onClick={() => onRange(r)}>
          {r === 'custom' ? 'Custom' : `Last ${r}`}
        </button>
      ))}
    </>
  );
}

function CustomRange(props: {
  value: { from: string; to: string };
  onChange: (v: { from: string; to: string }) => void;
}) {
  const input = (k: 'from' | 'to') => (
    <input
      name={`range-${k}`}
      placeholder={`${k} (ISO-8601)`}
      value={props.value[k]}
      onChange={(e) => props.onChange({ ...props.value, [k]: (e.target as HTMLInputElement).value })}
    />
  );
  return (
    <div class="toolbar">
      {input('from')}
      {input('to')}
    </div>
  );
}
