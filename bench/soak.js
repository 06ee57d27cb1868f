#!/usr/bin/env node
// Soak: one rtmpush runs SOAK_MINUTES (default 60) to 3 nginx-rtmp servers, a fault every SOAK_FAULT_EVERY seconds
// (default 300) in turn: d1's server restarted; d2 removed and added back through the control socket; a SIGHUP with
// a config that gives d2 another key. d3 is never touched. Every 10 s the bench scrapes rtmpush's own /metrics
// (RSS, heap, external memory, event-loop delay p99 of those 10 s, dropped frames). Prints RSS growth from minute 5
// and from minute 10 (a least-squares slope, MB per hour), the event-loop delay p99, the time back to live after
// each fault, and the frames lost on the destinations a fault did not touch. Goals: RSS growth < 2 MB/h from minute
// 10, p99 < 50 ms, every fault back within its retry delay + 2 s, 0 frames lost.
// SOAK_HEAP_DIR=dir: heap snapshots at minute 3 and one minute before the end (SIGUSR2), to see where memory goes.
// rtmpush runs as the systemd unit runs it: with the unit's own settings (`Environment=` lines without a %
// specifier, e.g. MALLOC_ARENA_MAX), unless SOAK_UNIT_ENV=off; a variable already set in the bench's environment wins.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { probeReceived } from '../dist/src/run/ffprobe.js';
import { freePort } from '../dist/test/helpers/ports.js';
import { NginxRtmp } from '../dist/test/helpers/nginx.js';
import { BIN } from './lib.js';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 60);
const FAULT_EVERY_S = Number(process.env.SOAK_FAULT_EVERY ?? 300);
const PRESET = process.env.SOAK_PRESET ?? '360p30';
const HEAP_DIR = process.env.SOAK_HEAP_DIR;
const SAMPLE_MS = 10_000;
const RESTART_DOWN_MS = 3000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes) => bytes / 1024 / 1024;

const dir = mkdtempSync(path.join(os.tmpdir(), 'rtmpush-soak-'));
const runtime = path.join(dir, 'run');
const config = path.join(dir, 'soak.json');
const KEYS = { KEY_D1: 'soakKeyD1aaaa', KEY_D2: 'soakKeyD2bbbb', KEY_D2B: 'soakKeyD2cccc', KEY_D3: 'soakKeyD3dddd' };
const servers = [new NginxRtmp(), new NginxRtmp(), new NginxRtmp()];
const UNIT = new URL('../contrib/systemd/rtmpush@.service', import.meta.url);
const unitEnv =
  process.env.SOAK_UNIT_ENV === 'off'
    ? {}
    : Object.fromEntries(
        [...readFileSync(UNIT, 'utf8').matchAll(/^Environment=([A-Z_]+)=([^%\s]*)$/gm)]
          .filter(([, name]) => process.env[name] === undefined)
          .map(([, name, value]) => [name, value]),
      );
const env = { ...unitEnv, ...process.env, ...KEYS, RTMPUSH_RUNTIME_DIR: runtime };

function writeConfig(d2Key) {
  const url = (i) => servers[i].url('live', '').replace(/\/$/, '');
  const destinations = {
    d1: { url: url(0), keyEnv: 'KEY_D1' },
    d2: { url: url(1), keyEnv: d2Key },
    d3: { url: url(2), keyEnv: 'KEY_D3' },
  };
  writeFileSync(config, JSON.stringify({ destinations, defaults: { to: ['d1', 'd2', 'd3'], preset: PRESET } }));
}

/** Prometheus text → { name{labels}: value } for the lines we read. */
function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.trim()) continue;
    const at = line.lastIndexOf(' ');
    out[line.slice(0, at)] = Number(line.slice(at + 1));
  }
  return out;
}

/** Least-squares slope of (minute, MB) points, in MB per hour. */
function slopePerHour(points) {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const num = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return (num / den) * 60;
}

const client = (...args) =>
  execa('node', [BIN, ...args, '--name', 'soak'], { env, reject: false }).then((r) => {
    if (r.exitCode !== 0) throw new Error(`rtmpush ${args.join(' ')}: exit ${r.exitCode}: ${r.stderr}`);
    return r.stdout;
  });

for (const s of servers) await s.start();
mkdirSync(runtime, { mode: 0o700 });
writeConfig('KEY_D2');
const metricsPort = await freePort();
const nodeFlags = HEAP_DIR ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${HEAP_DIR}`] : [];
if (HEAP_DIR) mkdirSync(HEAP_DIR, { recursive: true });
const proc = execa(
  'node',
  [
    ...nodeFlags,
    BIN,
    ...['start', '--config', config, '--name', 'soak', '--json', '--uplink', 'off'],
    ...['--duration', `${MINUTES * 60 + 60}s`, '--metrics', `127.0.0.1:${metricsPort}`],
  ],
  // a session of its own, as a service: SIGHUP reloads (under a terminal it would stop the stream)
  { env, reject: false, buffer: false, stdin: 'ignore', stderr: 'ignore', detached: true },
);
// only what the bench reads is kept: an hour of stats events would be the bench's own memory growth
const events = [];
let lastFrame = 0;
let pending = '';
proc.stdout.on('data', (c) => {
  pending += c;
  for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
    const e = JSON.parse(pending.slice(0, nl));
    pending = pending.slice(nl + 1);
    if (e.type !== 'stats') events.push(e);
    else lastFrame = e.frame;
  }
});
const liveAfter = (label, t) =>
  events.find((e) => e.type === 'state' && e.destination === label && e.state === 'live' && Date.parse(e.time) >= t);
async function waitLive(label, t, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const e = liveAfter(label, t);
    if (e) return Date.parse(e.time);
    await sleep(50);
  }
  return undefined;
}

const samples = [];
const faults = [];
let startedAt = 0;
try {
  startedAt = Date.now();
  for (const l of ['d1', 'd2', 'd3']) if (!(await waitLive(l, 0))) throw new Error(`${l} never went live`);
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    const m = parseMetrics(await res.text());
    const dropped = (l) => m[`rtmpush_destination_dropped_frames_total{destination="${l}",platform=""}`] ?? 0;
    // RSS in two parts: anonymous memory (the heap, buffers, malloc) and pages of files mapped (code, libraries)
    const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    samples.push({
      minute: (Date.now() - startedAt) / 60_000,
      rss: mb(m.process_resident_memory_bytes),
      anon: kb('RssAnon') / 1024,
      file: kb('RssFile') / 1024,
      heapTotal: mb(m.nodejs_heap_size_total_bytes),
      // V8's spaces, committed: code (compiled functions), old (what outlived two scavenges), new (the nursery)
      code: mb(m['nodejs_heap_space_size_total_bytes{space="code"}']),
      old: mb(m['nodejs_heap_space_size_total_bytes{space="old"}']),
      new: mb(m['nodejs_heap_space_size_total_bytes{space="new"}']),
      heap: mb(m.nodejs_heap_size_used_bytes),
      external: mb(m.nodejs_external_memory_bytes),
      p99ms: m.nodejs_eventloop_lag_p99_seconds * 1000,
      dropped: { d1: dropped('d1'), d2: dropped('d2'), d3: dropped('d3') },
    });
  };
  const endAt = startedAt + MINUTES * 60_000;
  let nextSample = startedAt + SAMPLE_MS;
  let nextFault = startedAt + FAULT_EVERY_S * 1000;
  let faultNo = 0;
  let d2Key = 'KEY_D2';
  let heapShots = 0;
  while (Date.now() < endAt) {
    const now = Date.now();
    const shot = heapShots === 0 ? now - startedAt >= 3 * 60_000 : heapShots === 1 && endAt - now <= 60_000;
    if (HEAP_DIR && shot) {
      heapShots++;
      proc.kill('SIGUSR2');
    }
    if (now >= nextSample) {
      nextSample += SAMPLE_MS;
      await scrape();
    }
    if (now >= nextFault && endAt - now > 60_000) {
      nextFault += FAULT_EVERY_S * 1000;
      const kind = ['restart', 'remove-add', 'sighup'][faultNo++ % 3];
      const before = samples.at(-1)?.dropped;
      const fault = { kind, minute: (now - startedAt) / 60_000, before };
      if (kind === 'restart') {
        fault.label = 'd1';
        await servers[0].stop();
        await sleep(RESTART_DOWN_MS);
        await servers[0].start(servers[0].port);
        fault.from = Date.now();
        const last = events.filter((e) => e.type === 'state' && e.destination === 'd1' && e.state === 'reconnecting');
        fault.allowedMs = (last.at(-1)?.delayMs ?? 0) + 2000;
      } else if (kind === 'remove-add') {
        fault.label = 'd2';
        await client('remove', 'd2');
        fault.from = Date.now();
        await client('add', 'd2');
        fault.allowedMs = 2000;
      } else {
        fault.label = 'd2';
        d2Key = d2Key === 'KEY_D2' ? 'KEY_D2B' : 'KEY_D2';
        writeConfig(d2Key);
        fault.from = Date.now();
        proc.kill('SIGHUP');
        fault.allowedMs = 2000;
      }
      const live = await waitLive(fault.label, fault.from);
      fault.backMs = live === undefined ? undefined : live - fault.from;
      faults.push(fault);
    }
    await sleep(200);
  }
  await scrape();
  await client('stop');
} finally {
  const done = await Promise.race([proc, sleep(30_000).then(() => undefined)]);
  if (!done) proc.kill('SIGKILL');
  await proc;
}

// the fault's effect on the others: their dropped frames from before it to the next sample 30 s or more after it
for (const f of faults) {
  const after = samples.find((s) => s.minute >= f.minute + 0.5)?.dropped;
  f.othersDropped = ['d1', 'd2', 'd3']
    .filter((l) => l !== f.label)
    .map((l) => (after?.[l] ?? 0) - (f.before?.[l] ?? 0))
    .reduce((a, b) => a + b, 0);
}
// the samples first: an hour of measurement is not lost to what comes after
if (process.env.SOAK_SAMPLES) writeFileSync(process.env.SOAK_SAMPLES, JSON.stringify(samples));
const d3 = await probeReceived('ffprobe', servers[2].recording(KEYS.KEY_D3)).catch((error) => {
  console.error(`d3's recording could not be read: ${error}`);
  return { lostFrames: Number.NaN, videoFrames: Number.NaN };
});
for (const s of servers) await s.dispose();
rmSync(dir, { recursive: true, force: true });

const from = (m) => samples.filter((s) => s.minute >= m);
const at = (m) => from(m)[0];
const last = samples.at(-1);
const growth10 = slopePerHour(from(10).map((s) => [s.minute, s.rss]));
const p99s = samples.map((s) => s.p99ms).sort((a, b) => a - b);
const worstP99 = p99s.at(-1);
const medianP99 = p99s[Math.floor(p99s.length / 2)];
const summary = events.find((e) => e.type === 'summary');
const lost = d3.lostFrames + faults.reduce((a, f) => a + f.othersDropped, 0);

const settings = Object.entries(unitEnv).map(([k, v]) => `${k}=${v}`);
console.log(
  `soak: ${MINUTES} min, ${PRESET}, 3 nginx-rtmp, a fault every ${FAULT_EVERY_S} s; node ${process.version}; ` +
    `the unit's settings: ${settings.join(' ') || 'none'}`,
);
console.log('| measure | value | goal |');
console.log('| --- | ---: | --- |');
console.log(
  `| RSS at minute 5 → 10 → end | ${at(5)?.rss.toFixed(1)} → ${at(10)?.rss.toFixed(1)} → ${last.rss.toFixed(1)} MB | |`,
);
console.log(
  `| RSS growth from minute 10 (slope) | ${growth10.toFixed(2)} MB/h | < 2 MB/h: ${growth10 < 2 ? 'met' : 'NOT met'} |`,
);
console.log(
  `| RSS growth from minute 5 (slope) | ${slopePerHour(from(5).map((s) => [s.minute, s.rss])).toFixed(2)} MB/h | |`,
);
const slopeOf = (k, m = 10) => slopePerHour(from(m).map((s) => [s.minute, s[k]]));
const part = (k) => `${at(10)?.[k].toFixed(1)} → ${last[k].toFixed(1)} MB (${slopeOf(k).toFixed(2)} MB/h)`;
console.log(`| of which anonymous (heap, buffers, malloc), minute 10 → end | ${part('anon')} | |`);
console.log(`| of which mapped files (code, libraries), minute 10 → end | ${part('file')} | |`);
console.log(`| V8 heap committed, minute 10 → end | ${part('heapTotal')} | |`);
console.log(`| of which code, old, new space | ${part('code')}; ${part('old')}; ${part('new')} | |`);
console.log(
  `| heap used, external at minute 10 → end | ${at(10)?.heap.toFixed(1)} → ${last.heap.toFixed(1)} MB, ` +
    `${at(10)?.external.toFixed(1)} → ${last.external.toFixed(1)} MB | |`,
);
console.log(
  `| event-loop delay p99 (10 s windows): median, worst | ${medianP99.toFixed(1)} ms, ${worstP99.toFixed(1)} ms | ` +
    `< 50 ms: ${worstP99 < 50 ? 'met' : 'NOT met'} |`,
);
for (const f of faults) {
  const ok = f.backMs !== undefined && f.backMs <= f.allowedMs;
  console.log(
    `| minute ${f.minute.toFixed(0)}: ${f.kind} (${f.label}) → live | ${f.backMs ?? 'never'} ms | ` +
      `≤ ${f.allowedMs} ms: ${ok ? 'met' : 'NOT met'} |`,
  );
}
console.log(
  `| frames lost on untouched destinations | ${lost} (d3's recording: ${d3.lostFrames} of ${d3.videoFrames}, ` +
    `encoded ${lastFrame}; the others' drops during faults: ${lost - d3.lostFrames}) | ` +
    `0: ${lost === 0 ? 'met' : 'NOT met'} |`,
);
console.log(`| exit code | ${summary?.exitCode ?? 'no summary'} | 0 |`);
