import { View, parse } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** A vega-lite spec rendered to SVG headless (no browser, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
