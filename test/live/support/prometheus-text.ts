/**
 * What Prometheus itself makes of a /metrics page: the text-format parser of its own Python
 * client (Debian's python3-prometheus-client), run on the page.
 */
import { execFileSync, spawn } from 'node:child_process';

/** Debian's Python, where its package puts the client (a python3 earlier on PATH may not have it). */
const PYTHON = '/usr/bin/python3';

const PARSE = `import json, sys
from prometheus_client.parser import text_string_to_metric_families
print(json.dumps([{"name": f.name, "type": f.type, "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]} for f in text_string_to_metric_families(sys.stdin.read())]))`;

export interface MetricFamily {
  /** As the parser names it: a counter without its `_total`. */
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

/** Why the parser cannot run here (the package missing), or false. Under CI=true a missing package is an error. */
export function prometheusParserSkip(): string | false {
  try {
    execFileSync(PYTHON, ['-c', 'import prometheus_client.parser'], { stdio: 'ignore', timeout: 30_000 });
    return false;
  } catch {
    const missing = "Prometheus' Python client is missing: install python3-prometheus-client (scripts/install-live-deps.sh)";
    if (process.env.CI === 'true') throw new Error(`CI: ${missing}`);
    return missing;
  }
}

/** Parses `text`; rejects with the parser's error when it is not the text format. */
export function parsePrometheusText(text: string): Promise<MetricFamily[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', PARSE], { stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(stdout) as MetricFamily[]);
      else reject(new Error(`the Prometheus parser refused the page (exit ${code}): ${stderr.trim().split('\n').at(-1)}`));
    });
    child.stdin.end(text);
  });
}
