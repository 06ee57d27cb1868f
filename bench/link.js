#!/usr/bin/env node
// A link that sags (issue 22), measured side by side in one run: this build against another one
// (BASELINE=/path/to/bin/rtmpush.js: a worktree of the commit before, built). In a network namespace (root only),
// an ffmpeg publisher (as OBS: 480p30, 2 s keyframes) feeds `--source listen`; rtmpush sends 480p30 to 1 or 3
// destinations on two nginx-rtmp servers; only the path to the servers is shaped (htb on their ports, one link):
// 30 Mbit/s, then for 20 s half (or a quarter) of what the destinations need, then 30 again.
// Printed per case: seconds from the cut to a bitrate that fits, the largest hole in video timestamps in any
// recording, video frames the destinations dropped, reconnects.
//   sudo node bench/link.js            (BENCH_CASES=halve-3,quarter-1 to choose)
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { flvTags } from '../dist/test/helpers/flv.js';
import { NetNs } from '../dist/test/helpers/netns.js';
import { ISOLATED } from '../dist/test/helpers/cli.js';
import { NginxRtmp } from '../dist/test/helpers/nginx.js';
import { BIN } from './lib.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PRESET = process.env.BENCH_PRESET ?? '480p30';
const preset = JSON.parse(readFileSync(new URL(`../presets/${PRESET}.json`, import.meta.url), 'utf8'));
const VIDEO_KBPS = preset.videoKbps;
const AUDIO_KBPS = preset.audio.kbps;
const CUT_S = 20;
const CASES = (process.env.BENCH_CASES ?? 'halve-1,halve-3,quarter-1,quarter-3').split(',');

function rtmpush(bin, ns, args) {
  const proc = execa('ip', ['netns', 'exec', ns.name, 'node', bin, 'start', ...args], {
    reject: false,
    buffer: false,
    stdin: 'ignore',
    env: ISOLATED,
  });
  const events = [];
  let pending = '';
  proc.stdout.on('data', (c) => {
    pending += c;
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.startsWith('{')) events.push({ ...JSON.parse(line), seenAt: Date.now() });
    }
  });
  const waitFor = async (pred, ms) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (events.some(pred)) return;
      await sleep(50);
    }
    throw new Error(
      `timed out; saw ${events.filter((e) => e.type === 'warning').map((e) => e.message)} ${events
        .filter((e) => e.type !== 'stats')
        .map((e) => e.type)
        .join(',')}`,
    );
  };
  return { proc, events, waitFor };
}

/** The largest step between consecutive video timestamps in a recording (ms). */
function largestHole(file) {
  const video = flvTags(file).filter((t) => t.type === 9);
  let worst = 0;
  for (let i = 1; i < video.length; i++) worst = Math.max(worst, video[i].timestamp - video[i - 1].timestamp);
  return worst;
}

async function runCase(bin, name) {
  const [how, n] = name.split('-');
  const count = Number(n);
  const factor = how === 'halve' ? 0.5 : 0.25;
  const ns = new NetNs();
  await ns.create();
  const servers = [new NginxRtmp(ns), new NginxRtmp(ns)];
  await servers[0].start(19380);
  await servers[1].start(19381);
  const keys = ['linkBenchA1', 'linkBenchA2', 'linkBenchB3'].slice(0, count);
  const to = keys.map((k, i) => `d${i + 1}=${servers[i === 2 ? 1 : 0].url('live', k)}`).join(',');
  await ns.shapePorts([19380, 19381], '30mbit', [Math.min(2, count), count > 2 ? 1 : 0.001]);
  const run = rtmpush(bin, ns, [
    ...['--source', 'listen', '--listen', '127.0.0.1:19382'],
    ...['--to', to, '--preset', PRESET, '--uplink', 'off', '--json'],
  ]);
  await run.waitFor((e) => e.type === 'source' && e.state === 'waiting', 20_000);
  const pub = execa(
    'ip',
    [
      ...['netns', 'exec', ns.name, 'ffmpeg', '-hide_banner', '-loglevel', 'error'],
      ...['-re', '-f', 'lavfi', '-i', 'testsrc2=size=854x480:rate=30'],
      ...['-re', '-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=48000'],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-g', '60', '-b:v', '2500k', '-c:a', 'aac', '-f', 'flv'],
      'rtmp://127.0.0.1:19382/live/obs',
    ],
    { reject: false, stdin: 'ignore' },
  );
  try {
    await run.waitFor((e) => e.type === 'state' && e.state === 'live' && e.destination === `d${count}`, 30_000);
    await sleep(15_000);
    const need = count * (VIDEO_KBPS + AUDIO_KBPS);
    const link = Math.round(need * factor);
    const cutAt = Date.now();
    await ns.reshape(`${link}kbit`);
    await sleep(CUT_S * 1000);
    await ns.reshape('30mbit');
    await sleep(8000);
    // fits: video + audio within 95 % of each destination's share of the link
    const fit = run.events.find(
      (e) => e.type === 'bitrate' && e.seenAt > cutAt && e.kbps + AUDIO_KBPS <= (link / count) * 0.95,
    );
    const floor = Math.round(VIDEO_KBPS * 0.3);
    const atFloor = run.events.find((e) => e.type === 'bitrate' && e.seenAt > cutAt && e.kbps <= floor);
    const stats = run.events.filter((e) => e.type === 'stats').at(-1);
    const dropped = Object.values(stats?.destinations ?? {}).reduce((a, d) => a + d.droppedFrames, 0);
    const reconnects = run.events.filter((e) => e.type === 'state' && e.state === 'reconnecting').length;
    const warnings = run.events.filter((e) => e.type === 'warning').map((e) => e.message.slice(0, 60));
    run.proc.kill('SIGTERM');
    await run.proc;
    const holes = keys.map((k, i) => largestHole(servers[i === 2 ? 1 : 0].recording(k)));
    return {
      fitS: fit ? (fit.seenAt - cutAt) / 1000 : undefined,
      floorS: atFloor ? (atFloor.seenAt - cutAt) / 1000 : undefined,
      holeMs: Math.max(...holes),
      dropped,
      reconnects,
      steps: run.events
        .filter((e) => e.type === 'bitrate')
        .map((e) => `${((e.seenAt - cutAt) / 1000).toFixed(1)}s→${e.kbps} (${e.reason})`),
      warnings,
    };
  } finally {
    pub.kill('SIGKILL');
    run.proc.kill('SIGKILL');
    await Promise.allSettled([pub, run.proc]);
    for (const s of servers) await s.dispose();
    await ns.dispose();
  }
}

if (!(await NetNs.usable())) {
  console.log('needs root (ip netns, tc)');
  process.exit(0);
}
const builds = [['this build', BIN]];
if (process.env.BASELINE) builds.push(['baseline', process.env.BASELINE]);
const rows = [];
for (const name of CASES) {
  for (const [label, bin] of builds) {
    const r = await runCase(bin, name);
    rows.push({ case: name, build: label, ...r });
    console.error(JSON.stringify(rows.at(-1)));
  }
}
const cell = (v, unit = '') => (v === undefined ? '—' : `${v}${unit}`);
console.log('| case | build | to a fitting bitrate | to the floor | largest hole | frames dropped | reconnects |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const times = `${cell(r.fitS, ' s')} | ${cell(r.floorS, ' s')}`;
  console.log(`| ${r.case} | ${r.build} | ${times} | ${r.holeMs} ms | ${r.dropped} | ${r.reconnects} |`);
}
