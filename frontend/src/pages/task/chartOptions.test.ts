import { describe, expect, it } from 'vitest';
import { heatmapData, trendData } from '../../lib/historyTransforms';
import { threeSamples } from '../../test/fixtures';
import { COLORS, heatmapOption, scatterOption, trendOption } from './chartOptions';

type Obj = Record<string, unknown>;

describe('chart options', () => {
  it('heatmap colours against the threshold: below is converged', () => {
    const option = heatmapOption(heatmapData(threeSamples, 'UTS'), 0.01, null) as Obj;
    const pieces = (option.visualMap as { pieces: Obj[] }).pieces;
    expect(pieces[0]).toMatchObject({ lt: 0.01, color: COLORS.converged });
    expect(pieces[1]).toMatchObject({ gte: 0.01, lt: 0.05, color: COLORS.close });
    expect(pieces[2]).toMatchObject({ gte: 0.05, color: COLORS.moving });
    expect((option.series as { data: unknown[] }[])[0]?.data).toHaveLength(4);
    expect(option.dataZoom).toEqual([]); // few samples: no scrolling needed
  });

  it('heatmap scrolls when there are many samples', () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ ...threeSamples[0]!, sample_index: i, sample_id: `S${i}` }));
    const option = heatmapOption(heatmapData(many, 'UTS'), 0.01, null) as Obj;
    expect((option.dataZoom as Obj[])[0]).toMatchObject({ startValue: 0, endValue: 39 });
  });

  it('trend highlights one sample and dims the others', () => {
    const option = trendOption(trendData(threeSamples, 'UTS'), 'UTS', 2) as Obj;
    const series = option.series as { name: string; z: number; lineStyle: { width: number; opacity: number } }[];
    expect(series.map((s) => s.name)).toEqual(['A-1', 'A-2', 'A-3']);
    expect(series[2]).toMatchObject({ z: 10, lineStyle: { width: 3.5, opacity: 0.9 } });
    expect(series[0]?.lineStyle.opacity).toBeLessThan(0.5);
  });

  it('scatter has equal axes spanning both values', () => {
    const option = scatterOption(
      [
        { sample_index: 0, sample_id: 'a', predicted: 120, measured: 100 },
        { sample_index: 1, sample_id: 'b', predicted: 310, measured: 330 },
      ],
      'UTS',
    ) as { xAxis: { min: number; max: number }; yAxis: { min: number; max: number } };
    expect(option.xAxis.min).toBe(option.yAxis.min);
    expect(option.xAxis.max).toBe(option.yAxis.max);
    expect(option.xAxis.min).toBeLessThanOrEqual(100);
    expect(option.xAxis.max).toBeGreaterThanOrEqual(330);
  });

  it('tooltips show sample ids as text, never as HTML (issue 10.8)', () => {
    const evil = '<img src=x onerror=alert(1)>';
    const samples = threeSamples.map((s, i) => (i === 0 ? { ...s, sample_id: evil } : s));
    type Tip = { formatter: (p: unknown) => string };
    const trend = trendOption(trendData(samples, 'UTS'), 'UTS', null) as { tooltip: Tip; series: { name: string }[] };
    const heat = heatmapOption(heatmapData(samples, 'UTS'), 0.01, null) as { tooltip: Tip; yAxis: { data: string[] } };
    const scatter = scatterOption([{ sample_index: 0, sample_id: evil, predicted: 1, measured: 2 }], 'UTS') as { tooltip: Tip };
    const row = heat.yAxis.data.findIndex((label) => label.includes('<img'));
    const shown = [
      trend.tooltip.formatter({ seriesName: trend.series[0]!.name, dataIndex: 0, value: 1 }),
      heat.tooltip.formatter({ value: [0, row, 0.5] }),
      scatter.tooltip.formatter({ data: { name: evil, value: [2, 1] } }),
    ];
    expect(row).toBeGreaterThanOrEqual(0);
    for (const html of shown) {
      expect(html).not.toContain('<img');
      expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    }
  });
});
