// Shared by the benchmarks: CPU accounting of whole process trees, and the bare-ffmpeg equivalents of a plan.
import { execa } from 'execa';
import { resolveDestinations, publishUrl } from '../dist/src/platforms/destinations.js';
import { buildPlan } from '../dist/src/plan/plan.js';
import { findPreset, loadPresets } from '../dist/src/presets/load.js';
import { buildFfmpegArgv, RTMP_RW_TIMEOUT_US } from '../dist/src/ffmpeg/argv.js';

export const BIN = new URL('../bin/rtmpush.js', import.meta.url).pathname;

/** Runs a shell command line and returns the CPU seconds (user, sys) of everything it started. */
export async function cpuOf(script) {
  const r = await execa('bash', ['-c', `${script} >/dev/null 2>&1; times`], { reject: false });
  const line = String(r.stdout).trim().split('\n').pop();
  const [user, sys] = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return { user, sys, total: user + sys };
}

export const shq = (a) => `'${a.replace(/'/g, `'\\''`)}'`;

/** The same encode and tee that rtmpush runs, but with each leg straight to its server (no relay). */
export function bareFfmpeg(urls, preset, seconds) {
  const plan = buildPlan({ preset: findPreset(loadPresets(), preset), source: { kind: 'testsrc' }, destinations: resolveDestinations(urls, { env: {}, config: {} }), durationMs: seconds * 1000 });
  const targets = plan.destinations.map((d) => ({ label: d.label, format: 'flv', url: publishUrl(d), options: [['rw_timeout', String(RTMP_RW_TIMEOUT_US)]] }));
  return `ffmpeg ${buildFfmpegArgv(plan, targets).map(shq).join(' ')}`;
}

/** Interleaves repeated runs (x264's threads make CPU time vary run to run) and keeps each one's median. */
export async function medianRuns(runs, repeat) {
  const samples = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  for (let i = 0; i < repeat; i++) {
    for (const [name, script] of Object.entries(runs)) samples[name].push(await cpuOf(script()));
  }
  const median = (list) => [...list].sort((a, b) => a.total - b.total)[Math.floor(list.length / 2)];
  return Object.entries(samples).map(([name, list]) => [name, median(list)]);
}

export function printTable(rows) {
  console.log('| run | CPU s | user | sys |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [name, c] of rows) console.log(`| ${name} | ${c.total.toFixed(2)} | ${c.user.toFixed(2)} | ${c.sys.toFixed(2)} |`);
}
