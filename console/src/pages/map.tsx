// SPDX-License-Identifier: MIT
// Map: every target's last position, clustered, following the live stream (positions batched per
// animation frame); click through to a target; draw a radius (click the centre, then the edge) and list
// what is inside (/v1/geo/near). A tile URL setting replaces the offline basemap.
import L from 'leaflet';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, qs } from '../api';
import { ClusterLayer, createMap, type MapPoint, setTileUrl, tileUrl } from '../geomap';
import { watchKinds } from '../hub';
import { href, navigate } from '../router';
import { useLive } from '../util';

export const mapTargetsMax = 100_000;
const positionPageSize = 10_000;
const nearLimit = 200;

interface PositionOut {
  readonly target_id: string;
  readonly name: string;
  readonly kind: string;
  readonly lat: number;
  readonly lon: number;
}

interface NearOut {
  readonly target_id: string;
  readonly name: string;
  readonly kind: string;
  readonly distance_m: number;
}

async function loadPositions(onPage: (rows: readonly PositionOut[]) => void): Promise<void> {
  let after: string | undefined;
  for (let loaded = 0; loaded < mapTargetsMax; ) {
    const page = await api<{ positions: PositionOut[]; next?: string }>(
      'GET',
      `/v1/positions${qs({ limit: positionPageSize, after })}`,
    );
    onPage(page.positions);
    loaded += page.positions.length;
    if (page.next === undefined) return;
    after = page.next;
  }
}

export function MapPage() {
  const el = useRef<HTMLDivElement>(null);
  const [layer, setLayer] = useState<ClusterLayer>();
  const [count, setCount] = useState(0);
  const [near, setNear] = useState<{ center: L.LatLng; radius: number; rows: NearOut[] } | undefined>();
  const names = useRef(new Map<string, string>());
  useEffect(() => {
    const map = createMap(el.current!);
    const clusters = new ClusterLayer(map, (p) => navigate('target', p.id));
    setLayer(clusters);
    const toPoint = (r: PositionOut): MapPoint => ({ id: r.target_id, name: r.name, lat: r.lat, lon: r.lon });
    void loadPositions((rows) => {
      for (const r of rows) names.current.set(r.target_id, r.name);
      clusters.update(rows.map(toPoint));
      setCount(clusters.size);
      el.current!.dataset.markers = String(clusters.size);
      void watchKinds(rows.map((r) => r.kind));
    });
    const radius = new RadiusTool(map, (center, m) =>
      queryNear(center, m).then((rows) => setNear({ center, radius: m, rows })),
    );
    return () => {
      radius.off();
      map.remove();
    };
  }, []);
  useLive(
    (frames) => {
      if (!layer) return;
      const moved: MapPoint[] = [];
      for (const f of frames) {
        const { lat, lon } = f.data;
        if (f.type !== 'event' || typeof lat !== 'number' || typeof lon !== 'number') continue;
        moved.push({
          id: f.target_id,
          name: names.current.get(f.target_id) ?? f.target_id.slice(0, 8),
          lat,
          lon,
        });
      }
      if (moved.length === 0) return;
      layer.update(moved);
      setCount(layer.size);
      el.current!.dataset.markers = String(layer.size);
      el.current!.dataset.moves = String(Number(el.current!.dataset.moves ?? 0) + moved.length);
    },
    [layer],
  );
  return (
    <section>
      <h2>Map</h2>
      <div class="toolbar">
        <span class="muted">
          {count} targets with a position · click the map twice to draw a radius (centre, then edge)
        </span>
        <span class="spacer" />
        <TileSetting />
      </div>
      <div class="map big" ref={el} data-testid="fleet-map" />
      {near && <NearList near={near} />}
    </section>
  );
}

function queryNear(center: L.LatLng, radiusM: number): Promise<NearOut[]> {
  const q = qs({
    lat: center.lat,
    lon: center.wrap().lng,
    radius_m: Math.max(1, Math.round(radiusM)),
    limit: nearLimit,
  });
  return api<{ targets: NearOut[] }>('GET', `/v1/geo/near${q}`).then((r) => r.targets);
}

/** Two clicks: the centre, then a point on the edge; draws the circle and reports it. */
class RadiusTool {
  private center: L.LatLng | undefined;
  private circle: L.Circle | undefined;
  private readonly onClick = (e: L.LeafletMouseEvent) => this.click(e.latlng);

  constructor(
    private readonly map: L.Map,
    private readonly done: (center: L.LatLng, radiusM: number) => void,
  ) {
    map.on('click', this.onClick);
  }

  off(): void {
    this.map.off('click', this.onClick);
  }

  private click(at: L.LatLng): void {
    if (this.center === undefined) {
      this.circle?.remove();
      this.center = at;
      this.circle = L.circle(at, { radius: 1, color: '#e8590c', weight: 2, fillOpacity: 0.08 }).addTo(
        this.map,
      );
      return;
    }
    const radius = this.map.distance(this.center, at);
    this.circle?.setRadius(radius);
    this.done(this.center, radius);
    this.center = undefined;
  }
}

function NearList({ near }: { near: { center: L.LatLng; radius: number; rows: NearOut[] } }) {
  return (
    <div class="panel" data-testid="near-list">
      <h3>
        {near.rows.length} target(s) within {(near.radius / 1000).toFixed(1)} km of{' '}
        {near.center.lat.toFixed(4)}, {near.center.lng.toFixed(4)}
      </h3>
      <table class="grid compact">
        <tbody>
          {near.rows.map((r) => (
            <tr key={r.target_id}>
              <td>
                <a href={href('target', r.target_id)}>{r.name}</a>
              </td>
              <td>{r.kind}</td>
              <td class="num">{(r.distance_m / 1000).toFixed(2)} km</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function TileSetting() {
  const [url, setUrl] = useState(tileUrl());
  return (
    <form
      class="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        setTileUrl(url);
        location.reload();
      }}
    >
      <input
        name="tile-url"
        size={40}
        placeholder="tile URL, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png (empty: offline map)"
        value={url}
        onInput={(e) => setUrl((e.target as HTMLInputElement).value)}
      />
      <button type="submit" class="ghost">
        Set basemap
      </button>
    </form>
  );
}
