// SPDX-License-Identifier: MIT
// Leaflet maps that work offline: the default basemap is Natural Earth's countries (1:110m) from the
// world-atlas package, drawn as vectors on a canvas; a tile URL in the settings replaces it for people
// with internet. Many markers go through a grid clustering (supercluster) redrawn at most once per frame.
import 'leaflet/dist/leaflet.css';
import L from 'leaflet';
import Supercluster from 'supercluster';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import countries from 'world-atlas/countries-110m.json';

const tileUrlKey = 'tmidb.console.tileUrl';

/** The tile URL template a user set (`https://…/{z}/{x}/{y}.png`), or '' for the offline basemap. */
export function tileUrl(): string {
  return localStorage.getItem(tileUrlKey) ?? '';
}

export function setTileUrl(url: string): void {
  if (url.trim() === '') localStorage.removeItem(tileUrlKey);
  else localStorage.setItem(tileUrlKey, url.trim());
}

let countryShapes: GeoJSON.FeatureCollection | undefined;

/**
 * Rings that cross the antimeridian (Russia, Fiji) jump from +180 to -180; drawn as they are they streak
 * across the whole map. Unwrapping each ring's longitudes keeps it continuous (it then reaches past 180).
 */
function unwrapRing(ring: GeoJSON.Position[]): GeoJSON.Position[] {
  let prev: number | undefined;
  return ring.map(([lon, lat]) => {
    let x = lon!;
    if (prev !== undefined) {
      while (x - prev > 180) x -= 360;
      while (x - prev < -180) x += 360;
    }
    prev = x;
    return [x, lat!];
  });
}

function unwrapShapes(fc: GeoJSON.FeatureCollection): GeoJSON.FeatureCollection {
  const features = fc.features.map((f) => {
    const g = f.geometry;
    if (g.type === 'Polygon') return { ...f, geometry: { ...g, coordinates: g.coordinates.map(unwrapRing) } };
    if (g.type === 'MultiPolygon') {
      return { ...f, geometry: { ...g, coordinates: g.coordinates.map((p) => p.map(unwrapRing)) } };
    }
    return f;
  });
  return { ...fc, features };
}

function basemap(): L.Layer {
  const url = tileUrl();
  if (url !== '') return L.tileLayer(url, { maxZoom: 19, attribution: 'tiles: your tile server' });
  const topo = countries as unknown as Topology<{ countries: GeometryCollection }>;
  countryShapes ??= unwrapShapes(feature(topo, topo.objects.countries) as GeoJSON.FeatureCollection);
  return L.geoJSON(countryShapes, {
    style: { color: '#8aa0b4', weight: 0.8, fillColor: '#e9eef3', fillOpacity: 1 },
    interactive: false,
    attribution: 'Natural Earth (public domain) via world-atlas',
  });
}

export function createMap(el: HTMLElement): L.Map {
  const map = L.map(el, { preferCanvas: true, worldCopyJump: true, minZoom: 1 });
  map.fitBounds([
    [-58, -170],
    [78, 190],
  ]);
  el.style.background = '#c9dcef';
  basemap().addTo(map);
  return map;
}

export interface MapPoint {
  readonly id: string;
  readonly name: string;
  readonly lat: number;
  readonly lon: number;
}

/** Clustered markers; `update` may be called often — the layer redraws once per animation frame. */
export class ClusterLayer {
  private readonly group = L.layerGroup();
  private readonly points = new Map<string, MapPoint>();
  private index = new Supercluster<{ id: string; name: string }>({ radius: 60, maxZoom: 16 });
  private dirty = true;
  private scheduled = false;
  /** Set when the map is removed (the page left): a frame already requested must not touch it. */
  private unloaded = false;

  constructor(
    private readonly map: L.Map,
    private readonly onOpen: (p: MapPoint) => void,
  ) {
    this.group.addTo(map);
    map.on('moveend zoomend', () => this.schedule());
    map.once('unload', () => {
      this.unloaded = true;
    });
  }

  get size(): number {
    return this.points.size;
  }

  update(points: Iterable<MapPoint>): void {
    for (const p of points) this.points.set(p.id, p);
    this.dirty = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.unloaded) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.draw();
    });
  }

  private draw(): void {
    if (this.unloaded) return; // a removed map has no panes: getBounds() would throw
    if (this.dirty) {
      this.index = new Supercluster({ radius: 60, maxZoom: 16 });
      this.index.load(
        [...this.points.values()].map((p) => ({
          type: 'Feature' as const,
          properties: { id: p.id, name: p.name },
          geometry: { type: 'Point' as const, coordinates: [p.lon, p.lat] },
        })),
      );
      this.dirty = false;
    }
    const b = this.map.getBounds();
    const bbox: [number, number, number, number] = [
      Math.max(-180, b.getWest()),
      Math.max(-85, b.getSouth()),
      Math.min(180, b.getEast()),
      Math.min(85, b.getNorth()),
    ];
    this.group.clearLayers();
    for (const c of this.index.getClusters(bbox, Math.round(this.map.getZoom()))) {
      const [lon, lat] = c.geometry.coordinates as [number, number];
      const props = c.properties as {
        cluster?: boolean;
        point_count?: number;
        cluster_id?: number;
        id?: string;
        name?: string;
      };
      if (props.cluster)
        this.group.addLayer(this.clusterMarker(lat, lon, props.point_count!, props.cluster_id!));
      else this.group.addLayer(this.pointMarker(this.points.get(props.id!)!));
    }
  }

  private clusterMarker(lat: number, lon: number, count: number, clusterId: number): L.Marker {
    const size = count < 100 ? 30 : count < 1000 ? 38 : 46;
    const icon = L.divIcon({ html: `<span>${count}</span>`, className: 'cluster', iconSize: [size, size] });
    return L.marker([lat, lon], { icon, title: `${count} targets` }).on('click', () => {
      this.map.flyTo([lat, lon], Math.min(this.index.getClusterExpansionZoom(clusterId), 18));
    });
  }

  private pointMarker(p: MapPoint): L.CircleMarker {
    return L.circleMarker([p.lat, p.lon], {
      radius: 7,
      color: '#0f2a44',
      weight: 2,
      fillColor: '#ffb020',
      fillOpacity: 1,
    })
      .bindTooltip(p.name)
      .on('click', () => this.onOpen(p));
  }
}
