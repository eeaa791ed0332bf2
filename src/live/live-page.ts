import { readFileSync } from 'node:fs';
import { inlineScript, uplotScript, uplotStyle } from '../report/page/vendored-uplot.ts';

const STYLE = `
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin: 1.5em 0 0.5em; }
p.run-state { font-size: 1.1em; margin: 0.3em 0; }
#live-status { font-weight: bold; } #live-connection { color: #b00; margin-left: 1em; }
.table-wrap { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; white-space: nowrap; }
th { background: #f2f2f2; text-align: left; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
.in-flight { display: flex; flex-wrap: wrap; gap: 0.4em 1em; padding: 0.3em 0.6em; margin: 0.3em 0; border-left: 4px solid #1f77b4; background: #f5f8fc; }
.in-flight .vm { font-weight: bold; } p.none { color: #666; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 0 2em; }
ol { padding-left: 2.5em; font-size: 0.9em; max-height: 24em; overflow-y: auto; } li.more { list-style: none; color: #666; }
[data-chart] { width: 100%; min-height: 40px; margin: 0.5em 0; }
p.caption { color: #555; font-size: 0.9em; }
`;

const CLIENT = readFileSync(new URL('./live-client.js', import.meta.url), 'utf8');

const BODY = `
<h1>vm-monitoring: the run, live</h1>
<p class="run-state">Run <span id="live-status">running</span>, experiment time <span id="live-time">0.0 s</span><span id="live-connection"></span></p>
<p class="caption">Updated from the run as it goes (a few times a second at most). When it ends, its report replaces this page.</p>
<ul id="live-counts"></ul>
<h2>Migrations in flight</h2>
<div id="in-flight"><p class="none">No migration is running.</p></div>
<h2>Client latency</h2>
<p class="caption">Mean and maximum latency of the answered requests, per time bucket, by client type: the latest buckets.</p>
<div data-chart="live-latency"></div>
<h2>Host CPU</h2>
<p class="caption">cpu.usagemhz of each host at the latest samples.</p>
<div data-chart="live-cpu"></div>
<h2>Host counters</h2>
<p class="caption">Each host's latest sample of each counter.</p>
<div class="table-wrap"><table id="live-counters"></table></div>
<div class="columns">
<section><h2>Actions fired</h2><ol id="actions-fired"></ol></section>
<section><h2>Actions waiting</h2><p class="caption">When each is due if nothing before it is postponed.</p><ol id="actions-waiting"></ol></section>
</div>
<h2>Migrations ended</h2>
<p class="caption">The latest, most recent first.</p>
<div class="table-wrap"><table id="live-ended"></table></div>
`;

let page: string | undefined;

/** `run --serve`'s page at `/`: self-contained (uPlot and its script inline); it follows `/events` and ends on `/report`. */
export function livePageHtml(): string {
  page ??= `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vm-monitoring: live</title>
<link rel="icon" href="data:,">
<style>${uplotStyle()}${STYLE}</style>
</head>
<body>${BODY}
${inlineScript(uplotScript())}
${inlineScript(CLIENT)}
</body>
</html>
`;
  return page;
}
