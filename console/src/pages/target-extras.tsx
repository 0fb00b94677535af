// SPDX-License-Identifier: MIT
// The lower panels of a target: trace map, alarms, raw events (paged), schema versions.
import Leaflet from 'leaflet';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, qs } from '../api';
import { createMap } from '../geomap';
import { fmtTime, useLive, useLoad } from '../util';
import { type AlarmOut, AlarmTable } from './alarms';

export const traceLimit = 1000;
const rawPageSize = 20;

export function TraceMap({
  id,
  position,
}: {
  id: string;
  position: { lat: number; lon: number } | null | undefined;
}) {
  const el = useRef<HTMLDivElement>(null);
  const [layers, setLayers] = useState<{
    map: Leaflet.Map;
    line: Leaflet.Polyline;
    marker: Leaflet.CircleMarker;
  }>();
  const trace = useLoad(
    () =>
      api<{ points: { lat: number; lon: number }[] }>(
        'GET',
        `/v1/targets/${id}/trace${qs({ order: 'desc', limit: traceLimit })}`,
      ),
    [id],
  );
  useEffect(() => {
    const map = createMap(el.current!);
    const line = Leaflet.polyline([], { color: '#1f77d0', weight: 3 }).addTo(map);
    const marker = Leaflet.circleMarker([0, 0], {
      radius: 8,
      color: '#0f2a44',
      weight: 2,
      fillColor: '#ffb020',
      fillOpacity: 1,
    });
    setLayers({ map, line, marker });
    return () => map.remove();
  }, [id]);
  useEffect(() => {
    if (!layers) return;
    const pts = (trace.data?.points ?? []).map((p) => [p.lat, p.lon] as [number, number]).reverse();
    if (position) pts.push([position.lat, position.lon]);
    layers.line.setLatLngs(pts);
    const last = pts[pts.length - 1];
    if (last) {
      layers.marker.setLatLng(last).addTo(layers.map);
      // No animation: the page may be left (and the map removed) before an animation would end.
      layers.map.setView(last, Math.max(layers.map.getZoom(), 5), { animate: false });
      el.current!.dataset.marker = `${last[0]},${last[1]}`;
    }
  }, [trace.data, position, layers]);
  return (
    <div class="panel">
      <h3>Trace</h3>
      {!position && (trace.data?.points.length ?? 0) === 0 && <p class="muted">No positions yet.</p>}
      <div class="map small" ref={el} data-testid="trace-map" />
    </div>
  );
}

export function TargetAlarms({ id }: { id: string }) {
  const alarms = useLoad(
    () => api<{ alarms: AlarmOut[] }>('GET', `/v1/alarms${qs({ target_id: id, limit: 50 })}`),
    [id],
  );
  useLive((frames) => frames.some((f) => f.type === 'alarm' && f.target_id === id) && alarms.reload(), [id]);
  return (
    <div class="panel">
      <h3>Alarms</h3>
      <AlarmTable alarms={alarms.data?.alarms ?? []} onChange={alarms.reload} />
    </div>
  );
}

interface RawRow {
  readonly ts: string;
  readonly event_id: string;
  readonly data: Record<string, unknown>;
}

export function RawEvents({ base }: { base: string }) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const after = cursors[cursors.length - 1];
  const page = useLoad(
    () =>
      api<{ rows: RawRow[]; next?: string }>(
        'GET',
        `${base}/obs${qs({ order: 'desc', limit: rawPageSize, after })}`,
      ),
    [base, after],
  );
  return (
    <div class="panel">
      <h3>Raw events</h3>
      <table class="grid compact" data-testid="raw-events">
        <thead>
          <tr>
            <th>Time</th>
            <th>Event</th>
            <th>Data</th>
          </tr>
        </thead>
        <tbody>
          {(page.data?.rows ?? []).map((r) => (
            <tr key={r.event_id}>
              <td class="nowrap">{fmtTime(r.ts)}</td>
              <td class="mono small">{r.event_id}</td>
              <td class="mono small">{JSON.stringify(r.data)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="pager">
        <button
          type="button"
          disabled={cursors.length === 1}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          ← Newer
        </button>
        <button
          type="button"
          disabled={page.data?.next === undefined}
          onClick={() => setCursors([...cursors, page.data?.next])}
        >
          Older →
        </button>
        <button type="button" class="ghost" onClick={page.reload}>
          Refresh
        </button>
      </div>
    </div>
  );
}

interface VersionOut {
  readonly version: number;
  readonly schema_id: number;
  readonly created_at: string;
  readonly schema: { fields?: { name: string; type: unknown }[] };
}

export function SchemaVersions({ kind }: { kind: string }) {
  const versions = useLoad(async () => {
    // Ask for the versions only of a registered kind (a kind gets its first version with its first event).
    const kinds = await api<{ kinds: { kind: string }[] }>('GET', '/v1/schemas');
    if (!kinds.kinds.some((k) => k.kind === kind))
      return { compatibility: '—', versions: [] as VersionOut[] };
    return api<{ compatibility: string; versions: VersionOut[] }>(
      'GET',
      `/v1/schemas/${encodeURIComponent(kind)}`,
    );
  }, [kind]);
  return (
    <div class="panel">
      <h3>
        Schema versions of <span class="kind">{kind}</span>
      </h3>
      {(versions.data?.versions.length ?? 0) === 0 ? (
        <p class="muted">No versions yet (the first event registers one).</p>
      ) : (
        <table class="grid compact">
          <thead>
            <tr>
              <th>Version</th>
              <th>Schema id</th>
              <th>Registered</th>
              <th>Fields</th>
            </tr>
          </thead>
          <tbody>
            {versions.data!.versions.map((v) => (
              <tr key={v.version}>
                <td>v{v.version}</td>
                <td>{v.schema_id}</td>
                <td>{fmtTime(v.created_at)}</td>
                <td class="mono small">{(v.schema.fields ?? []).map((f) => f.name).join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
