import { describe, expect, it } from 'vitest';
import { renderChartSvg, renderReport } from './render.ts';

const option = {
  animation: false,
  xAxis: { type: 'category', data: ['2026-10-01', '2026-10-02'] },
  yAxis: { type: 'value', name: 'users' },
  series: [{ type: 'line', data: [3, 5] }],
};

describe('report rendering', () => {
  it('draws a chart as the same SVG text whatever was drawn before it', () => {
    const first = renderChartSvg(option, 0);
    renderChartSvg({ ...option, series: [{ type: 'bar', data: [1, 2] }] }, 1);
    expect(renderChartSvg(option, 0)).toBe(first);
    expect(first).toMatch(/^<svg[^>]*>/);
    expect(first.match(/<path/g)?.length).toBeGreaterThan(3);
  });

  it('writes one CSV per section and marks only the generation line as varying', () => {
    const section = {
      id: 'active',
      title: 'Active <users>',
      description: 'DAU',
      columns: [
        { name: 'day', label: 'day', unit: 'day' as const },
        { name: 'dau', label: 'DAU', unit: 'users' as const },
      ],
      rows: [{ day: '2026-10-01', dau: 1234 }],
      chart: option,
    };
    const a = renderReport({ title: 'r', subtitle: 's', generatedAt: '2030-01-01T00:00:00Z' }, [section]);
    const b = renderReport({ title: 'r', subtitle: 's', generatedAt: '2031-01-01T00:00:00Z' }, [section]);
    expect([...a.csv]).toEqual([['active.csv', 'day,dau\r\n2026-10-01,1234\r\n']]);
    expect(a.html).toContain('<td class="number">1,234</td>');
    expect(a.html).toContain('Active &#60;users&#62;');
    const stable = (html: string) => html.replace(/^.*data-generated.*$/m, '');
    expect(stable(a.html)).toBe(stable(b.html));
    expect(a.html).not.toBe(b.html);
  });
});
