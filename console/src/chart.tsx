// SPDX-License-Identifier: MIT
// A time-series chart (ECharts, tree-shaken to lines on a canvas). The points arrive downsampled by the
// server to about two per pixel column; live points are appended by the page once per animation frame.
import { LineChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'preact/hooks';

echarts.use([LineChart, GridComponent, TooltipComponent, LegendComponent, DataZoomComponent, CanvasRenderer]);

export interface ChartSeries {
  readonly name: string;
  /** [epoch ms, value], in time order. */
  readonly points: readonly (readonly [number, number])[];
}

const palette = ['#1f77d0', '#e8590c', '#2b8a3e', '#862e9c', '#c92a2a', '#0b7285', '#5c940d', '#a61e4d'];

export function SeriesChart(props: {
  series: readonly ChartSeries[];
  fromMs: number;
  toMs: number;
  /** Start of the window the series were loaded for: once drawn, it goes to data-drawn-from. */
  seriesFromMs?: number;
}) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | undefined>(undefined);
  useEffect(() => {
    const c = echarts.init(el.current!, undefined, { renderer: 'canvas' });
    chart.current = c;
    // What the axis really shows, for people (tooltip) and for the browser tests (data attributes).
    c.on('finished', () => {
      const axis = (
        c as unknown as {
          getModel(): { getComponent(t: string, i: number): { axis?: { scale: { getExtent(): number[] } } } };
        }
      )
        .getModel()
        .getComponent('xAxis', 0)?.axis;
      // When series loaded for a window were drawn (the browser test times the chart by it).
      const ds = el.current?.dataset;
      if (ds?.seriesFrom && ds.seriesFrom !== ds.drawnFrom) {
        ds.drawnFrom = ds.seriesFrom;
        ds.drawnAt = String(performance.now());
      }
      const [min, max] = axis?.scale.getExtent() ?? [];
      if (min !== undefined && max !== undefined && el.current) {
        el.current.dataset.xMin = new Date(min).toISOString();
        el.current.dataset.xMax = new Date(max).toISOString();
      }
    });
    const resize = new ResizeObserver(() => c.resize());
    resize.observe(el.current!);
    return () => {
      resize.disconnect();
      c.dispose();
    };
  }, []);
  useEffect(() => {
    const points = props.series.reduce((n, s) => n + s.points.length, 0);
    if (el.current) {
      el.current.dataset.points = String(points);
      el.current.dataset.seriesFrom = props.seriesFromMs === undefined ? '' : String(props.seriesFromMs);
    }
    chart.current?.setOption(
      {
        animation: false,
        color: palette,
        grid: { left: 56, right: 24, top: 36, bottom: 56 },
        legend: { top: 4 },
        tooltip: { trigger: 'axis' },
        dataZoom: [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 8 }],
        xAxis: { type: 'time', min: props.fromMs, max: props.toMs },
        yAxis: { type: 'value', scale: true },
        series: props.series.map((s) => ({
          name: s.name,
          type: 'line',
          showSymbol: s.points.length < 60,
          sampling: undefined,
          data: s.points as [number, number][],
        })),
      },
      { replaceMerge: ['series'] },
    );
  }, [props.series, props.fromMs, props.toMs]);
  return <div class="chart" ref={el} data-testid="series-chart" />;
}
