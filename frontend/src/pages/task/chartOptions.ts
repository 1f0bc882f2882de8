/** ECharts options built from the transforms in lib/historyTransforms (pure, unit-testable). */
import type { ChartOption } from '../../components/charts/EChart';
import type { ScatterPoint } from '../../api/types';
import type { HeatmapData, TrendData } from '../../lib/historyTransforms';
import { formatNumber } from '../../lib/format';
import { escapeHtml } from '../../lib/html';

export const COLORS = {
  converged: '#2da44e',
  close: '#d4a72c',
  moving: '#cf222e',
  highlight: '#0b5cad',
};

const MANY_SERIES = 200;

export function trendOption(trend: TrendData, target: string, highlight: number | null): ChartOption {
  const many = trend.series.length > MANY_SERIES;
  const dim = highlight != null;
  return {
    animation: !many,
    grid: { left: 64, right: 24, top: 24, bottom: 44 },
    tooltip: {
      trigger: 'item',
      formatter: (p: { seriesName?: string; dataIndex?: number; value?: unknown }) =>
        `${escapeHtml(p.seriesName)}<br/>round ${(p.dataIndex ?? 0) + 1}: <b>${formatNumber(p.value as number)}</b>`,
    },
    xAxis: {
      type: 'category',
      name: 'Round',
      nameLocation: 'middle',
      nameGap: 28,
      boundaryGap: false,
      data: trend.rounds.map(String),
    },
    yAxis: { type: 'value', name: target, scale: true, nameTextStyle: { align: 'left' } },
    series: trend.series.map((s) => {
      const isHighlight = s.sampleIndex === highlight;
      return {
        id: `sample-${s.sampleIndex}`,
        name: s.name,
        type: 'line',
        data: s.data,
        connectNulls: false,
        showSymbol: !many || isHighlight,
        symbolSize: isHighlight ? 8 : 5,
        triggerLineEvent: true,
        z: isHighlight ? 10 : 2,
        lineStyle: {
          width: isHighlight ? 3.5 : many ? 1 : 1.5,
          opacity: dim && !isHighlight ? 0.3 : 0.9,
          ...(isHighlight ? { color: COLORS.highlight } : {}),
        },
        itemStyle: {
          opacity: dim && !isHighlight ? 0.3 : 1,
          ...(isHighlight ? { color: COLORS.highlight } : {}),
        },
        emphasis: { focus: 'none', lineStyle: { width: 3 } },
      };
    }),
  };
}

export function heatmapOption(data: HeatmapData, threshold: number, highlightRow: number | null): ChartOption {
  const rows = data.sampleLabels.length;
  const visibleRows = 40;
  const zoom = rows > visibleRows;
  const changeRounds = data.rounds.slice(1).map(String);
  return {
    animation: false,
    grid: { left: 110, right: zoom ? 48 : 24, top: 16, bottom: 80 },
    tooltip: {
      formatter: (p: { value?: [number, number, number] }) => {
        const [round, row, change] = p.value ?? [0, 0, 0];
        return `${escapeHtml(data.sampleLabels[row])}<br/>round ${round + 1}: relative change <b>${formatNumber(change, 4)}</b>`;
      },
    },
    xAxis: { type: 'category', data: ['1', ...changeRounds], name: 'Round', nameLocation: 'middle', nameGap: 26, splitArea: { show: true } },
    yAxis: {
      type: 'category',
      data: data.sampleLabels,
      inverse: true,
      axisLabel: {
        fontSize: 11,
        formatter: (label: string, i: number) => (i === highlightRow ? `▶ ${label}` : label),
      },
    },
    dataZoom: zoom
      ? [
          { type: 'slider', yAxisIndex: 0, startValue: 0, endValue: visibleRows - 1, right: 8, width: 16, showDetail: false, filterMode: 'filter' },
          { type: 'inside', yAxisIndex: 0, startValue: 0, endValue: visibleRows - 1, zoomOnMouseWheel: false, moveOnMouseWheel: true, filterMode: 'filter' },
        ]
      : [],
    visualMap: {
      type: 'piecewise',
      dimension: 2,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      pieces: [
        { lt: threshold, color: COLORS.converged, label: `< ${threshold} (converged)` },
        { gte: threshold, lt: threshold * 5, color: COLORS.close, label: `${threshold} – ${formatNumber(threshold * 5)}` },
        { gte: threshold * 5, color: COLORS.moving, label: `≥ ${formatNumber(threshold * 5)} (still moving)` },
      ],
    },
    series: [
      {
        type: 'heatmap',
        data: data.cells,
        progressive: 5000,
        itemStyle: { borderColor: '#fff', borderWidth: rows > 200 ? 0 : 1 },
        emphasis: { itemStyle: { borderColor: '#000', borderWidth: 1 } },
      },
    ],
  };
}

export function scatterOption(points: readonly ScatterPoint[], target: string): ChartOption {
  const valid = points.filter((p) => p.predicted != null && p.measured != null) as (ScatterPoint & { predicted: number; measured: number })[];
  const all = valid.flatMap((p) => [p.predicted, p.measured]);
  const lo = all.length ? Math.min(...all) : 0;
  const hi = all.length ? Math.max(...all) : 1;
  const step = 10 ** (Math.floor(Math.log10(Math.max(hi - lo, 1e-9))) - 1);
  const min = Math.floor((lo - (hi - lo) * 0.03) / step) * step;
  const max = Math.ceil((hi + (hi - lo) * 0.03) / step) * step || 1;
  return {
    animation: false,
    grid: { left: 64, right: 24, top: 24, bottom: 48 },
    tooltip: {
      trigger: 'item',
      formatter: (p: { data?: { name?: string; value?: [number, number] } }) =>
        `${escapeHtml(p.data?.name)}<br/>measured ${formatNumber(p.data?.value?.[0])}<br/>predicted ${formatNumber(p.data?.value?.[1])}`,
    },
    xAxis: { type: 'value', name: `measured ${target}`, nameLocation: 'middle', nameGap: 28, min, max, axisLabel: { showMinLabel: false, showMaxLabel: false } },
    yAxis: { type: 'value', name: `predicted ${target}`, min, max, axisLabel: { showMinLabel: false, showMaxLabel: false } },
    series: [
      {
        type: 'scatter',
        symbolSize: 9,
        itemStyle: { color: COLORS.highlight, opacity: 0.8 },
        data: valid.map((p) => ({ name: p.sample_id, value: [p.measured, p.predicted] })),
        markLine: {
          silent: true,
          symbol: 'none',
          lineStyle: { type: 'dashed', color: '#57606a' },
          label: { show: false },
          data: [[{ coord: [min, min] }, { coord: [max, max] }]],
        },
      },
    ],
  };
}
