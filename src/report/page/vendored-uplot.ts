import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/*
 * uPlot (MIT, github.com/leeoniya/uPlot), inlined into the pages we serve or write so that they
 * fetch nothing: 50 KB, canvas-drawn, fast on a million points, with hover values, zoom,
 * legend toggles and cursors synchronised across charts built in.
 */
const require = createRequire(import.meta.url);
let cached: { script: string; style: string } | undefined;

function vendored(): { script: string; style: string } {
  cached ??= {
    script: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    style: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
  return cached;
}

/** uPlot's script, which defines the global `uPlot`. */
export function uplotScript(): string {
  return vendored().script;
}

export function uplotStyle(): string {
  return vendored().style;
}

/** `code` inside an inline <script> element: nothing in it may end the element early. */
export function inlineScript(code: string): string {
  return `<script>${code.replace(/<\/(script)/gi, '<\\/$1')}</script>`;
}

/** `json` as a data island (`<script type="application/json">`), read with JSON.parse(element.textContent). */
export function jsonIsland(id: string, data: unknown): string {
  const text = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<script type="application/json" id="${id}">${text}</script>`;
}
