// The report page's script: draws the charts of the JSON island #report-data with uPlot (hover
// values, zoom by dragging, series toggled from the legend, one time axis across a run's
// charts), sorts the migrations table and opens a view of one migration. Plain browser
// JavaScript, inlined into report.html: the page fetches nothing.
(() => {
  'use strict';
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

  /** A unit a person reads for values up to `max`: [shown unit, factor to divide by]. */
  function readableUnit(unit, max) {
    const steps = {
      KB: [['KB', 1], ['MB', 1024], ['GB', 1024 * 1024]],
      KBps: [['KB/s', 1], ['MB/s', 1024], ['GB/s', 1024 * 1024]],
      MHz: [['MHz', 1], ['GHz', 1000]],
      ms: [['ms', 1], ['s', 1000]],
      bytes: [['B', 1], ['KB', 1e3], ['MB', 1e6], ['GB', 1e9]],
      'bytes/s': [['B/s', 1], ['KB/s', 1e3], ['MB/s', 1e6], ['GB/s', 1e9]],
    }[unit];
    if (!steps) return [unit, 1];
    let chosen = steps[0];
    for (const step of steps) if (Math.abs(max) >= step[1] * (unit === 'ms' ? 10 : 1)) chosen = step;
    return chosen;
  }

  function formatNumber(value, digits) {
    if (value === null || value === undefined || !Number.isFinite(value)) return '--';
    const abs = Math.abs(value);
    const decimals = digits ?? (abs >= 100 ? 0 : abs >= 10 ? 1 : 2);
    return value.toLocaleString('en-US', { maximumFractionDigits: decimals, minimumFractionDigits: decimals });
  }

  function maxOf(values) {
    let max = 0;
    for (const value of values) if (value !== null && Math.abs(value) > max) max = Math.abs(value);
    return max;
  }

  /** Migrations as shaded spans on a time chart, their downtime in orange at their end. */
  function migrationBands(migrations) {
    return {
      hooks: {
        drawClear: [
          (u) => {
            const { ctx, bbox } = u;
            ctx.save();
            for (const m of migrations) {
              if (m.endedS <= m.startedS) continue;
              const x0 = u.valToPos(m.startedS, 'x', true);
              const x1 = u.valToPos(m.endedS, 'x', true);
              if (x1 < bbox.left || x0 > bbox.left + bbox.width) continue;
              ctx.fillStyle = m.status === 'succeeded' ? 'rgba(120, 120, 120, 0.14)' : 'rgba(214, 39, 40, 0.16)';
              ctx.fillRect(x0, bbox.top, Math.max(1, x1 - x0), bbox.height);
              if (m.downtimeMs) {
                const d0 = u.valToPos(m.endedS - m.downtimeMs / 1000, 'x', true);
                ctx.fillStyle = 'rgba(255, 127, 14, 0.55)';
                ctx.fillRect(d0, bbox.top, Math.max(1, x1 - d0), bbox.height);
              }
            }
            ctx.restore();
          },
        ],
      },
    };
  }

  const groups = new Map();

  /** Zooming one chart of a group zooms the others: a run's charts share one time axis. */
  function joinGroup(key, chart) {
    const members = groups.get(key) ?? [];
    members.push(chart);
    groups.set(key, members);
  }

  function syncScale(key) {
    let busy = false;
    return (u, scaleKey) => {
      if (scaleKey !== 'x' || busy) return;
      busy = true;
      const { min, max } = u.scales.x;
      for (const other of groups.get(key) ?? []) if (other !== u) other.setScale('x', { min, max });
      busy = false;
    };
  }

  /**
   * A line chart in `element`: x values `x`, series [{ label, values, unit, dash, stepped }],
   * all series of one unit; `group` ties its cursor and zoom to other charts.
   */
  function lineChart(element, { title, x, xLabel, series, unit, group, plugins, height, xIsTime = true, stepped = false, wholeX = false }) {
    const [shownUnit, factor] = readableUnit(unit, Math.max(...series.map((s) => maxOf(s.values))));
    const scaled = series.map((s) => s.values.map((v) => (v === null ? null : v / factor)));
    const options = {
      title,
      width: Math.max(240, element.clientWidth || 600),
      height: height ?? 260,
      scales: { x: { time: false } },
      cursor: group ? { sync: { key: group, setSeries: true } } : {},
      legend: { live: true },
      plugins: plugins ?? [],
      hooks: group ? { setScale: [syncScale(group)] } : {},
      axes: [
        { label: xLabel ?? (xIsTime ? 'time [s]' : ''), values: (u, ticks) => ticks.map((t) => formatNumber(t)), ...(wholeX ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500] } : {}) },
        { label: shownUnit, values: (u, ticks) => ticks.map((t) => formatNumber(t)), size: 60 },
      ],
      series: [
        { label: xLabel ?? 'time [s]', value: (u, v) => formatNumber(v) },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.color ?? PALETTE[i % PALETTE.length],
          dash: s.dash,
          width: 1.5,
          spanGaps: false,
          paths: stepped || s.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
          points: { show: false },
          value: (u, v) => (v === null || v === undefined ? '--' : `${formatNumber(v)} ${shownUnit}`),
        })),
      ],
    };
    const chart = new uPlot(options, [x, ...scaled], element);
    if (group) joinGroup(group, chart);
    new ResizeObserver(() => {
      const width = Math.max(240, element.clientWidth);
      if (width !== chart.width) chart.setSize({ width, height: chart.height });
    }).observe(element);
    return chart;
  }

  /** A counter's unit as readableUnit takes it: vm.count's 'number' has none. */
  const counterUnit = (unit) => (unit === 'number' ? '' : unit);

  function counterTitle(counter) {
    return counter.replace(/\.average$/, '');
  }

  /** A run's charts over time, drawn when its section first opens (a closed one has no width to draw in). */
  function drawRunCharts(run, section) {
    const group = `run-${run.id}`;
    const bands = migrationBands(run.migrations);
    const latencyElement = section.querySelector(`[data-chart="latency-${run.id}"]`);
    if (latencyElement && run.latency.t.length > 0) {
      lineChart(latencyElement, {
        title: `Client latency of ${run.label} (per ${run.latency.bucketSeconds} s)`,
        x: run.latency.t,
        series: [
          { label: 'mean', values: run.latency.mean },
          { label: 'max', values: run.latency.max, dash: [4, 3] },
        ],
        unit: 'ms',
        group,
        plugins: [bands],
      });
    }
    for (const series of run.counters) {
      const element = section.querySelector(`[data-chart="counter-${cssId(series.counter)}-${run.id}"]`);
      if (!element || series.t.length === 0) continue;
      lineChart(element, {
        title: `${counterTitle(series.counter)} on ${data.host}`,
        x: series.t,
        series: [{ label: run.label, values: series.values }],
        unit: counterUnit(series.unit),
        group,
        plugins: [bands],
      });
    }
    const vmsElement = section.querySelector(`[data-chart="vms-${run.id}"]`);
    if (vmsElement && run.vmCount.t.length > 0) {
      lineChart(vmsElement, {
        title: `VMs on ${data.host}`,
        x: run.vmCount.t,
        series: [{ label: 'VMs', values: run.vmCount.values }],
        unit: 'VMs',
        group,
        stepped: true,
        plugins: [bands],
        height: 160,
      });
    }
  }

  /** The page's chart ids, as the server wrote them (src/report/names.ts, slug). */
  function cssId(text) {
    return text.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase();
  }

  /** One small chart per run for each counter, on one value scale: runs compared side by side, not twelve lines on one chart. */
  function drawSmallMultiples() {
    for (const element of document.querySelectorAll('[data-chart^="multiple-"]')) {
      const [counter, runIndex] = [element.dataset.counter, Number(element.dataset.run)];
      const run = data.runs[runIndex];
      const series = run.counters.find((s) => s.counter === counter);
      if (!series || series.t.length === 0) continue;
      const top = Math.max(...data.runs.map((r) => maxOf(r.counters.find((s) => s.counter === counter)?.values ?? [])));
      const chart = lineChart(element, {
        title: run.label,
        x: series.t,
        series: [{ label: counterTitle(counter), values: series.values, color: PALETTE[runIndex % PALETTE.length] }],
        unit: counterUnit(series.unit),
        group: `multiple-${counter}`,
        plugins: [migrationBands(run.migrations)],
        height: 180,
      });
      const [, factor] = readableUnit(counterUnit(series.unit), top);
      chart.setScale('y', { min: 0, max: top / factor || 1 });
    }
  }

  /** Cumulative distributions: the share of migrations at or under each value, one step line per run. */
  function drawDistributions() {
    for (const element of document.querySelectorAll('[data-chart^="cdf-"]')) {
      const measure = element.dataset.measure;
      const perRun = data.runs.map((run) =>
        run.migrations
          .filter((m) => m.status === 'succeeded' && m.kind !== 'setup' && m[measure] !== null)
          .map((m) => m[measure])
          .sort((a, b) => a - b),
      );
      const all = [...new Set(perRun.flat())].sort((a, b) => a - b);
      if (all.length === 0) continue;
      const x = all.length > 4000 ? all.filter((_, i) => i % Math.ceil(all.length / 4000) === 0 || i === all.length - 1) : all;
      const shares = perRun.map((values) => {
        let below = 0;
        return x.map((v) => {
          while (below < values.length && values[below] <= v) below++;
          return values.length === 0 ? null : (100 * below) / values.length;
        });
      });
      const [shownUnit, factor] = readableUnit('ms', x[x.length - 1]);
      lineChart(element, {
        title: element.dataset.title,
        x: x.map((v) => v / factor),
        xLabel: `${element.dataset.title} [${shownUnit}]`,
        xIsTime: false,
        series: data.runs.map((run, i) => ({ label: run.label, values: shares[i], color: PALETTE[i % PALETTE.length] })),
        unit: '% of migrations',
        stepped: true,
        height: 240,
      });
    }
  }

  function sortableTables() {
    for (const table of document.querySelectorAll('table[data-sortable]')) {
      const body = table.tBodies[0];
      for (const [index, header] of [...table.tHead.rows[0].cells].entries()) {
        if (!header.hasAttribute('data-sort')) continue;
        header.addEventListener('click', () => {
          const ascending = header.getAttribute('aria-sort') !== 'ascending';
          for (const other of table.tHead.rows[0].cells) other.removeAttribute('aria-sort');
          header.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
          const numeric = header.dataset.sort === 'number';
          const key = (row) => {
            const cell = row.cells[index];
            const raw = cell.dataset.value ?? cell.textContent;
            return numeric ? (raw === '' ? -Infinity : Number(raw)) : raw;
          };
          const rows = [...body.rows].sort((a, b) => {
            const [ka, kb] = [key(a), key(b)];
            const order = numeric ? ka - kb : String(ka).localeCompare(String(kb));
            return ascending ? order : -order;
          });
          body.append(...rows);
        });
      }
    }
  }

  function cell(row, text, numeric) {
    const td = row.insertCell();
    td.textContent = text;
    if (numeric) td.className = 'number';
    return td;
  }

  function keyValueTable(pairs) {
    const table = document.createElement('table');
    for (const [key, value] of pairs) {
      const row = table.insertRow();
      const th = document.createElement('th');
      th.textContent = key;
      row.append(th);
      cell(row, String(value), typeof value === 'number');
    }
    return wrapped(table);
  }

  function wrapped(table) {
    const wrap = document.createElement('div');
    wrap.className = 'table-wrap';
    wrap.append(table);
    return wrap;
  }

  function heading(text) {
    const h = document.createElement('h3');
    h.textContent = text;
    return h;
  }

  function ms(value) {
    if (value === null || value === undefined) return '--';
    return value >= 10000 ? `${formatNumber(value / 1000)} s` : `${formatNumber(value)} ms`;
  }

  function megabytes(value) {
    return value === null || value === undefined ? '--' : `${formatNumber(value / 1e6)} MB`;
  }

  /** One migration: its figures, passes, the platform's own account, the probe and the requests it touched. */
  function showMigration(run, migration) {
    const view = document.getElementById('migration-view');
    const body = view.querySelector('.body');
    body.replaceChildren();
    const title = document.createElement('h2');
    title.textContent = `${migration.vm}: ${migration.source} → ${migration.target} (${migration.kind}, ${run.label})`;
    body.append(title);
    body.append(
      keyValueTable([
        ['status', migration.status + (migration.reason ? `: ${migration.reason}` : '')],
        ['requested at', `${formatNumber(migration.requestedS)} s`],
        ['migration time', ms(migration.durationMs)],
        ['downtime (platform)', ms(migration.downtimeMs)],
        ['downtime felt by the probe', ms(migration.clientDowntimeMs)],
        ['bytes', megabytes(migration.bytes)],
        ['passes', migration.passes ?? '--'],
      ]),
    );
    body.append(heading('Passes'));
    const passes = document.createElement('table');
    passes.className = 'passes';
    const head = passes.createTHead().insertRow();
    for (const label of ['pass', 'start [s]', 'duration [s]', 'sent [MB]', 'pending at start [MB]', 'transfer rate [MB/s]', 'dirty rate [MB/s]', 'dirty / transfer']) {
      const th = document.createElement('th');
      th.textContent = label;
      head.append(th);
    }
    const rows = passes.createTBody();
    for (const pass of migration.passRows) {
      const row = rows.insertRow();
      cell(row, pass.pass === 0 ? '0 (setup)' : String(pass.pass));
      cell(row, formatNumber(pass.startS, 3), true);
      cell(row, formatNumber(pass.durationS, 3), true);
      cell(row, formatNumber(pass.bytes / 1e6), true);
      cell(row, formatNumber(pass.remainingBytes / 1e6), true);
      cell(row, pass.transferRate === null ? '--' : formatNumber(pass.transferRate / 1e6), true);
      cell(row, pass.dirtyRate === null ? '--' : `${formatNumber(pass.dirtyRate / 1e6)}${pass.dirtyRateMeasured ? '' : ' *'}`, true);
      cell(row, pass.convergenceRatio === null ? '--' : formatNumber(pass.convergenceRatio, 2), true);
    }
    if (migration.passRows.length === 0) {
      const row = rows.insertRow();
      cell(row, 'the platform reported no passes for this migration').colSpan = 8;
    }
    body.append(wrapped(passes));
    const note = document.createElement('p');
    note.className = 'caption';
    note.textContent =
      'A pass runs from one dirty-bitmap sync to the next. * the dirty rate estimated as what the next pass found pending over this one\'s time; ' +
      'without *, the platform\'s own figure. Under 1, the transfer gains on the guest.';
    body.append(note);
    const rated = migration.passRows.filter((p) => p.pass > 0 && p.transferRate !== null);
    if (rated.length > 2) {
      const element = document.createElement('div');
      element.dataset.chart = 'passes';
      body.append(element);
      lineChart(element, {
        title: 'Transfer and dirty rate per pass',
        x: rated.map((p) => p.pass),
        xLabel: 'pass',
        xIsTime: false,
        wholeX: true,
        series: [
          { label: 'transfer rate', values: rated.map((p) => p.transferRate) },
          { label: 'dirty rate', values: rated.map((p) => p.dirtyRate), dash: [4, 3] },
        ],
        unit: 'bytes/s',
        height: 220,
      });
    }
    if (migration.probe) {
      const probe = migration.probe;
      body.append(heading('The probe'));
      body.append(
        keyValueTable([
          ['longest gap between answers', ms(probe.maxGapMs)],
          ['answers', probe.answers],
          ['errors', probe.errors],
          [probe.floorIsP99 ? "the probe's other gaps, 99th percentile (its floor)" : 'mean time between answers (its floor)', ms(probe.floorMs)],
        ]),
      );
    }
    body.append(heading('Requests it touched'));
    const touched = migration.touched;
    body.append(
      keyValueTable([
        ['requests overlapping it', touched.requests],
        ['answered ok', touched.ok],
        ['failed, corrupt or aborted', touched.failed],
        ['latency, mean', ms(touched.latencyMeanMs)],
        ['latency, max', ms(touched.latencyMaxMs)],
      ]),
    );
    if (migration.platform) {
      body.append(heading(`What ${migration.platform.name} reported`));
      body.append(keyValueTable(migration.platform.figures));
    }
    if (!view.open) view.showModal();
  }

  function migrationView() {
    const view = document.getElementById('migration-view');
    view.querySelector('button.close').addEventListener('click', () => view.close());
    view.addEventListener('click', (event) => {
      if (event.target === view) view.close();
    });
    for (const row of document.querySelectorAll('tr[data-migration]')) {
      row.addEventListener('click', () => {
        const [runIndex, migrationIndex] = row.dataset.migration.split(':').map(Number);
        const run = data.runs[runIndex];
        showMigration(run, run.migrations[migrationIndex]);
      });
    }
  }

  function runSections() {
    for (const [i, run] of data.runs.entries()) {
      const section = document.getElementById(`over-time-${run.id}`);
      if (!section) continue;
      let drawn = false;
      const draw = () => {
        if (drawn || !section.open) return;
        drawn = true;
        drawRunCharts(run, section);
      };
      section.addEventListener('toggle', draw);
      if (i === 0) section.open = true;
      draw();
    }
  }

  runSections();
  drawSmallMultiples();
  drawDistributions();
  sortableTables();
  migrationView();
})();
