#!/usr/bin/env node
// Encode once: CPU seconds of rtmpush to 1, 3 and 5 destinations, of the same ffmpeg command run bare,
// and of N separate ffmpeg processes (one encode each), all on the same source and preset, in one run.
// Destinations are a real nginx-rtmp on loopback. Run after `npm install` (needs the built dist/).
import { execa } from 'execa';
import { NginxRtmp } from '../dist/test/helpers/nginx.js';
import { resolveDestinations } from '../dist/src/platforms/destinations.js';
import { buildPlan } from '../dist/src/plan/plan.js';
import { findPreset, loadPresets } from '../dist/src/presets/load.js';
import { buildFfmpegArgv } from '../dist/src/ffmpeg/argv.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const PRESET = process.env.BENCH_PRESET ?? '720p30';
const bin = new URL('../bin/rtmpush.js', import.meta.url).pathname;

/** Runs a shell command line and returns the CPU seconds (user, sys) of everything it started. */
async function cpuOf(script) {
  const r = await execa('bash', ['-c', `${script} >/dev/null 2>&1; times`], { reject: false });
  const line = String(r.stdout).trim().split('\n').pop();
  const [user, sys] = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return { user, sys, total: user + sys };
}

const q = (a) => `'${a.replace(/'/g, `'\\''`)}'`;
const nginx = new NginxRtmp();
await nginx.start();
let run = 0;
const urls = (n) => Array.from({ length: n }, (_, i) => `d${i + 1}=${nginx.url('live', `bench${++run}x${i}`)}`);
const argvFor = (to) =>
  buildFfmpegArgv(buildPlan({ preset: findPreset(loadPresets(), PRESET), source: { kind: 'testsrc' }, destinations: resolveDestinations(to, { env: {}, config: {} }), durationMs: SECONDS * 1000 }));

const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const runs = {
  'rtmpush → 1': () => `node ${bin} start --to ${urls(1).join(',')} --preset ${PRESET} --duration ${SECONDS}s --json`,
  'rtmpush → 3': () => `node ${bin} start --to ${urls(3).join(',')} --preset ${PRESET} --duration ${SECONDS}s --json`,
  'rtmpush → 5': () => `node ${bin} start --to ${urls(5).join(',')} --preset ${PRESET} --duration ${SECONDS}s --json`,
  'bare ffmpeg tee → 1': () => `ffmpeg ${argvFor(urls(1)).map(q).join(' ')}`,
  'bare ffmpeg tee → 5': () => `ffmpeg ${argvFor(urls(5)).map(q).join(' ')}`,
  '5 separate ffmpeg': () => urls(5).map((u) => `ffmpeg ${argvFor([u]).map(q).join(' ')} >/dev/null 2>&1 &`).join(' ') + ' wait',
};
// x264's threads make CPU time vary by ±10 % run to run: interleave the runs and keep each one's median.
const samples = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
try {
  for (let i = 0; i < REPEAT; i++) {
    for (const [name, script] of Object.entries(runs)) samples[name].push(await cpuOf(script()));
  }
} finally {
  await nginx.dispose();
}
const median = (list) => [...list].sort((a, b) => a.total - b.total)[Math.floor(list.length / 2)];
const rows = Object.entries(samples).map(([name, list]) => [name, median(list)]);

const cpu = Object.fromEntries(rows.map(([name, c]) => [name, c.total]));
console.log(`encode-once: ${PRESET}, ${SECONDS} s of test pattern, destinations on a local nginx-rtmp, median of ${REPEAT} interleaved runs`);
console.log('| run | CPU s | user | sys |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, c] of rows) console.log(`| ${name} | ${c.total.toFixed(2)} | ${c.user.toFixed(2)} | ${c.sys.toFixed(2)} |`);
const ratio5 = cpu['rtmpush → 5'] / cpu['rtmpush → 1'];
const overhead = cpu['rtmpush → 5'] / cpu['bare ffmpeg tee → 5'] - 1;
const bareRatio = cpu['bare ffmpeg tee → 5'] / cpu['bare ffmpeg tee → 1'];
console.log(`bare ffmpeg: CPU(5) / CPU(1) = ${bareRatio.toFixed(3)} (the same tee without rtmpush)`);
const separate = cpu['5 separate ffmpeg'] / cpu['rtmpush → 5'];
console.log(`CPU(5 destinations) / CPU(1) = ${ratio5.toFixed(3)} (goal ≤ 1.10: ${ratio5 <= 1.1 ? 'met' : 'NOT met'})`);
console.log(`rtmpush over bare ffmpeg (5 destinations) = ${(overhead * 100).toFixed(1)} % (goal ≤ 5 %: ${overhead <= 0.05 ? 'met' : 'NOT met'})`);
console.log(`5 separate ffmpeg / rtmpush → 5 = ${separate.toFixed(2)}x`);
