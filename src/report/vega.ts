import type { TopLevelSpec } from 'vega-lite';
import { esc } from './html.js';

export type ChartSpec = TopLevelSpec;

/**
 * Shared look: system fonts, white background, quiet axes. `aria: false`: no ARIA label on every mark
 * (a scatter plot would read out thousands of dots); the report names each chart as one image instead.
 */
export const CHART_CONFIG = Object.freeze({
  aria: false,
  background: '#ffffff',
  font: 'Helvetica, Arial, sans-serif',
  view: { stroke: '#dddddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eeeeee' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const },
});

/**
 * Compiles a Vega-Lite spec and renders it to an SVG string in Node (no browser, no canvas): the data
 * must be inline (`data: { values }`), so the chart never touches the network. Vega and Vega-Lite are
 * loaded on the first call (about 0.7 s), not when the package is imported. With `label`, the SVG is one
 * image to assistive technology (`role="img"`) named by the label.
 * @example const svg = await renderSvg({ data: { values: [{ a: 1 }] }, mark: 'bar', encoding: { x: { field: 'a' } } });
 */
export async function renderSvg(spec: ChartSpec, label?: string): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const withConfig = { ...spec, config: { ...CHART_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const compiled = compile(withConfig).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', loader: vega.loader({ mode: 'file' }) });
  try {
    const svg = await view.toSVG();
    return label === undefined ? svg : svg.replace(/^<svg /, `<svg role="img" aria-label="${esc(label)}" `);
  } finally {
    view.finalize();
  }
}
