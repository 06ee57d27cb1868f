// Shared by the benchmarks: CPU accounting of whole process trees, and the bare-ffmpeg equivalents of a plan.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { resolveDestinations, publishUrl } from '../dist/src/platforms/destinations.js';
import { buildPlan } from '../dist/src/plan/plan.js';
import { findPreset, loadPresets } from '../dist/src/presets/load.js';
import { buildFfmpegArgv } from '../dist/src/ffmpeg/argv.js';
// The bare tee's RTMP legs get a write timeout, so a server that stops reading cannot hold up shutdown.
const RTMP_RW_TIMEOUT_US = 5_000_000;

export const BIN = new URL('../bin/rtmpush.js', import.meta.url).pathname;
/**
 * A run's length. Two minutes: still a short stream, and long enough that Node's start-up and V8's warm-up (a fixed
 * ~0.8 CPU-s, see printFixedPart) do not stand for what streaming costs. BENCH_SECONDS=30 shows the short-run figure.
 */
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 120);
/** "Once started": from when V8 has compiled the hot paths (about 30 s in) to just before the end. */
export const STEADY = { from: SECONDS >= 60 ? 30 : 10, to: SECONDS - 3 };
const TIMED_FFMPEG = new URL('./timed-ffmpeg.sh', import.meta.url).pathname;

const seconds = (line) => [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));

/**
 * Runs a shell command line and returns the CPU seconds (user, sys) of everything it started. An rtmpush run
 * (`rtmpush: true`) goes through bench/timed-ffmpeg.sh, which splits the total into the encoding ffmpeg's
 * (`encoder`) and rtmpush's own (`own`: Node — start-up, relays, reporter — and its short ffmpeg probes).
 */
export async function cpuOf(script, { rtmpush = false, steady } = {}) {
  const log = path.join(os.tmpdir(), `rtmpush-bench-${process.pid}-${Date.now()}.cpu`);
  const env = rtmpush ? { RTMPUSH_FFMPEG: TIMED_FFMPEG, RTMPUSH_BENCH_FFMPEG_CPU: log } : {};
  const proc = execa('bash', ['-c', `${script} >/dev/null 2>&1; times`], { reject: false, env });
  const sampled = rtmpush && steady ? steadyNode(proc.pid, steady) : undefined;
  const r = await proc;
  const [user, sys] = seconds(String(r.stdout).trim().split('\n').pop());
  const out = { user, sys, total: user + sys };
  if (sampled) out.steadyMs = await sampled;
  if (rtmpush) {
    const lines = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
    rmSync(log, { force: true });
    const encodes = lines.filter((l) => l.startsWith('encode ')).map((l) => seconds(l).reduce((a, b) => a + b, 0));
    if (encodes.length !== 1) throw new Error(`expected one encoding ffmpeg in the rtmpush run, saw ${encodes.length}`);
    out.encoder = encodes[0];
    out.own = out.total - out.encoder;
  }
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TICK_MS = 10; // USER_HZ = 100

/** CPU ms of a process's own threads (not its children), from /proc. */
function ownCpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/**
 * rtmpush's own CPU per second of streaming once started: the Node process's CPU between `from` and `to`
 * seconds into the run, start-up excluded (the encoding ffmpeg is a child: not counted).
 */
async function steadyNode(bashPid, { from, to }) {
  await sleep(from * 1000);
  const node = Number(readFileSync(`/proc/${bashPid}/task/${bashPid}/children`, 'utf8').trim().split(/\s+/)[0]);
  const a = ownCpuMs(node);
  await sleep((to - from) * 1000);
  return (ownCpuMs(node) - a) / (to - from);
}

export const shq = (a) => `'${a.replace(/'/g, `'\\''`)}'`;

/** The same encode and tee that rtmpush runs, but with each leg straight to its server (no relay). */
export function bareFfmpeg(urls, preset, seconds) {
  const plan = buildPlan({
    preset: findPreset(loadPresets(), preset),
    source: { kind: 'testsrc' },
    destinations: resolveDestinations(urls, { env: {}, config: {} }),
    durationMs: seconds * 1000,
  });
  const targets = plan.destinations.map((d) => ({
    label: d.label,
    format: 'flv',
    url: publishUrl(d),
    options: [['rw_timeout', String(RTMP_RW_TIMEOUT_US)]],
  }));
  return `ffmpeg ${buildFfmpegArgv(plan, targets).map(shq).join(' ')}`;
}

/**
 * Interleaves repeated runs (x264's threads make CPU time vary run to run) and keeps the median of each figure.
 * A run whose name starts with "rtmpush" is split into encoder and rtmpush's own CPU (see cpuOf).
 */
export async function medianRuns(runs, repeat, steady) {
  const samples = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  for (let i = 0; i < repeat; i++) {
    for (const [name, script] of Object.entries(runs))
      samples[name].push(await cpuOf(script(), { rtmpush: name.startsWith('rtmpush'), steady }));
  }
  const median = (list, key) => {
    const values = list
      .map((c) => c[key])
      .filter((v) => v !== undefined)
      .sort((a, b) => a - b);
    return values.length ? values[Math.floor(values.length / 2)] : undefined;
  };
  return Object.entries(samples).map(([name, list]) => [
    name,
    Object.fromEntries(['total', 'user', 'sys', 'encoder', 'own', 'steadyMs'].map((k) => [k, median(list, k)])),
  ]);
}

export function printTable(rows) {
  const f = (v) => (v === undefined ? '' : v.toFixed(2));
  console.log(
    '| run | CPU s | user | sys | of which the encoding ffmpeg | rtmpush itself | rtmpush once started, ms/s |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, c] of rows) {
    console.log(
      `| ${name} | ${f(c.total)} | ${f(c.user)} | ${f(c.sys)} | ${f(c.encoder)} | ${f(c.own)} | ` +
        `${c.steadyMs === undefined ? '' : c.steadyMs.toFixed(1)} |`,
    );
  }
}

/**
 * How much of an rtmpush run's own CPU is not streaming's rate (its own less once-started × the run's length), and
 * from what run length its whole-run share of the bare pipeline (`bareMsPerS`) is within `goal` (fixed part paid
 * once, the once-started rate every second).
 */
export function printFixedPart(row, bareMsPerS, goal) {
  const fixed = row.own - (row.steadyMs * SECONDS) / 1000;
  console.log(
    `of rtmpush's own ${row.own.toFixed(2)} CPU-s, ` +
      `about ${fixed.toFixed(2)} CPU-s is not streaming's rate: start-up, the JIT's warm-up, stop`,
  );
  const margin = goal * bareMsPerS - row.steadyMs;
  const from = (fixed * 1000) / margin;
  const noRunLength = 'of the bare pipeline: no run length meets the goal';
  console.log(
    margin <= 0
      ? `its once-started rate alone is above ${Math.round(goal * 100)} % ${noRunLength}`
      : `whole runs of at least ~${Math.max(0, Math.ceil(from / 10) * 10)} s meet ${Math.round(goal * 100)} % ` +
          `(${fixed.toFixed(2)} CPU-s once + ${row.steadyMs.toFixed(1)} ms/s, ` +
          `against ${(goal * bareMsPerS).toFixed(1)} ms/s allowed)`,
  );
}
