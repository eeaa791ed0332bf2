// The live page's script: follows /events (a JSON snapshot of the run per `message` event, see
// LiveSnapshot in live-state.ts) and redraws the page from each; on `finished` it shows the
// run's report (/report). Plain browser JavaScript, inlined into the page with uPlot: the page
// reaches nothing but its own origin.
(() => {
  'use strict';
  const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
  const MB = 1e6;
  const CHART_HEIGHT = 220;
  const charts = new Map();

  const byId = (id) => document.getElementById(id);

  /** An element with attributes and children (strings become text: names from the run are never parsed as HTML). */
  function el(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes ?? {})) element.setAttribute(name, value);
    for (const child of children) element.append(child);
    return element;
  }

  function number(value, decimals) {
    if (value === null || value === undefined || !Number.isFinite(value)) return '--';
    const digits = decimals ?? (Number.isInteger(value) ? 0 : 1);
    return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  const seconds = (value) => `${number(value, 1)} s`;
  const megabytes = (bytes) => `${number(bytes / MB, 1)} MB`;

  function renderCounts(counts) {
    const line = (label, values) => {
      const entries = Object.entries(values);
      const total = entries.reduce((sum, [, count]) => sum + count, 0);
      const parts = entries.map(([status, count]) => `${number(count)} ${status}`).join(', ');
      return el('li', {}, `${label}: ${number(total)}${parts ? ` (${parts})` : ''}`);
    };
    const items = [line('Migrations ended', counts.migrations), line('Requests answered or failed', counts.requests)];
    if (Object.keys(counts.decisions).length > 0) items.push(line('Policy decisions', counts.decisions));
    byId('live-counts').replaceChildren(...items);
  }

  function renderInFlight(snapshot) {
    const rows = snapshot.in_flight.map((migration) => {
      const progress = migration.progress;
      const fields = [
        el('span', { class: 'vm' }, migration.vm),
        el('span', { 'data-field': 'route' }, `${migration.source} → ${migration.target}`),
        el('span', { 'data-field': 'kind' }, migration.kind),
        el('span', { 'data-field': 'elapsed' }, `${seconds(snapshot.time_s - migration.requested_s)} elapsed`),
      ];
      if (progress) {
        fields.push(
          el('span', { 'data-field': 'pass' }, `pass ${progress.pass}`),
          el('span', { 'data-field': 'transferred' }, `${megabytes(progress.transferred)} sent`),
          el('span', { 'data-field': 'remaining' }, `${megabytes(progress.remaining)} to send`),
          el('span', { 'data-field': 'state' }, progress.status),
        );
      }
      return el('div', { 'data-in-flight': migration.vm, class: 'in-flight' }, ...fields);
    });
    byId('in-flight').replaceChildren(...(rows.length > 0 ? rows : [el('p', { class: 'none' }, 'No migration is running.')]));
  }

  /** vCenter's KB as MB: the unit shown and what to divide by. */
  const SHOWN_UNITS = { KB: ['MB', 1024], KBps: ['MB/s', 1024] };

  function renderCounters(counters) {
    const names = [];
    const units = new Map();
    for (const { values } of counters) {
      for (const [name, { unit }] of Object.entries(values)) {
        if (!units.has(name)) names.push(name);
        units.set(name, unit);
      }
    }
    const table = byId('live-counters');
    const shown = (name) => SHOWN_UNITS[units.get(name)] ?? [units.get(name), 1];
    const head = el('tr', {}, el('th', {}, 'host'), ...names.map((name) => el('th', {}, `${name.replace(/\.average$/, '')} (${shown(name)[0]})`)));
    const value = (values, name) => (values[name] === undefined ? undefined : values[name].value / shown(name)[1]);
    const rows = counters.map(({ host, values }) =>
      el('tr', { 'data-host': host }, el('th', {}, host), ...names.map((name) => el('td', { class: 'number' }, number(value(values, name))))),
    );
    table.replaceChildren(el('thead', {}, head), el('tbody', {}, ...rows));
  }

  function renderActions(actions) {
    const describe = (action) => `${action.action}${action.args ? ` ${action.args}` : ''} (line ${action.line})`;
    const fired = actions.fired.map((action) => {
      const postponed = action.postponed_ms > 0 ? `, ${seconds(action.postponed_ms / 1000)} late waiting for a slot` : '';
      const interrupted = action.status === 'interrupted' ? ', interrupted' : '';
      return el('li', { 'data-line': String(action.line) }, `${seconds(action.fired_s)}: ${describe(action)}${postponed}${interrupted}`);
    });
    const earlier = actions.fired_total - actions.fired.length;
    if (earlier > 0) fired.unshift(el('li', { class: 'more' }, `… ${number(earlier)} earlier`));
    byId('actions-fired').replaceChildren(...fired);
    const waiting = actions.waiting.map((action) => el('li', { 'data-line': String(action.line) }, `due at ${seconds(action.due_s)}: ${describe(action)}`));
    const later = actions.waiting_total - actions.waiting.length;
    if (later > 0) waiting.push(el('li', { class: 'more' }, `… ${number(later)} more`));
    byId('actions-waiting').replaceChildren(...waiting);
  }

  function renderEnded(ended) {
    const columns = ['vm', 'source → target', 'kind', 'status', 'ended (s)', 'migration time (s)', 'downtime (ms)', 'MB sent', 'passes', 'reason'];
    const cells = (m) => [
      m.vm, `${m.source} → ${m.target}`, m.kind, m.status, number(m.ended_s, 1), number(m.duration_ms / 1000, 1),
      number(m.downtime_ms, 0), m.bytes === null ? '--' : number(m.bytes / MB, 1), number(m.passes, 0), m.reason,
    ];
    const rows = [...ended].reverse().map((m) => el('tr', {}, ...cells(m).map((cell, i) => el('td', i >= 4 && i <= 8 ? { class: 'number' } : {}, cell))));
    byId('live-ended').replaceChildren(el('thead', {}, el('tr', {}, ...columns.map((column) => el('th', {}, column)))), el('tbody', {}, ...rows));
  }

  /** Draws (or updates) the uPlot chart in `[data-chart=id]`; a new set of series makes a new chart. */
  function drawChart(id, unit, xs, series) {
    const container = document.querySelector(`[data-chart="${id}"]`);
    const data = [xs, ...series.map((s) => s.values)];
    const key = series.map((s) => s.label).join('\n');
    const existing = charts.get(id);
    if (existing && existing.key === key) {
      existing.plot.setData(data);
      return;
    }
    existing?.plot.destroy();
    if (xs.length === 0) return;
    const options = {
      width: Math.max(200, container.clientWidth),
      height: CHART_HEIGHT,
      scales: { x: { time: false } },
      axes: [{ label: 'experiment time (s)' }, { label: unit, size: 70 }],
      series: [{ label: 'time (s)', value: (_u, v) => (v === null || v === undefined ? '--' : number(v, 0)) }, ...series.map((s, i) => ({
        label: s.label, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: true, points: { show: false },
        value: (_u, v) => (v === null || v === undefined ? '--' : number(v, 1)),
      }))],
    };
    charts.set(id, { key, plot: new uPlot(options, data, container) });
  }

  function renderCharts(snapshot) {
    const latency = snapshot.latency;
    drawChart('live-latency', 'ms', latency.start_s.map((start) => start + latency.bucket_s / 2), latency.types.flatMap((type) => [
      { label: `${type.client_type} mean`, values: type.mean_ms },
      { label: `${type.client_type} max`, values: type.max_ms },
    ]));
    drawChart('live-cpu', snapshot.cpu.unit, snapshot.cpu.time_s, snapshot.cpu.hosts.map((host) => ({ label: host.host, values: host.values })));
  }

  function render(snapshot) {
    byId('live-status').textContent = snapshot.status;
    byId('live-time').textContent = seconds(snapshot.time_s);
    renderCounts(snapshot.counts);
    renderInFlight(snapshot);
    renderCharts(snapshot);
    renderCounters(snapshot.counters);
    renderActions(snapshot.actions);
    renderEnded(snapshot.ended);
  }

  window.addEventListener('resize', () => {
    for (const [id, { plot }] of charts) {
      const container = document.querySelector(`[data-chart="${id}"]`);
      plot.setSize({ width: Math.max(200, container.clientWidth), height: CHART_HEIGHT });
    }
  });

  const connection = byId('live-connection');
  const events = new EventSource('/events');
  events.addEventListener('open', () => (connection.textContent = ''));
  events.addEventListener('error', () => (connection.textContent = 'connection lost, trying again'));
  events.addEventListener('message', (event) => render(JSON.parse(event.data)));
  events.addEventListener('finished', (event) => {
    events.close();
    render(JSON.parse(event.data));
    location.assign('/report');
  });
})();
