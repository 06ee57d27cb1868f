#!/usr/bin/env node
// Recovery: one of three destinations is killed mid-stream and restarted. Prints the time from the server being
// back to `live`, the frames lost on the two healthy destinations (goal 0), and the CPU overhead of the
// per-destination relays against the same ffmpeg tee with its legs straight to the servers (goal ≤ 3 %).
import { execa } from 'execa';
import { NginxRtmp } from '../dist/test/helpers/nginx.js';
import { probeReceived } from '../dist/src/run/ffprobe.js';
import { BIN, SECONDS, STEADY, bareFfmpeg, medianRuns, printFixedPart, printTable } from './lib.js';

const PRESET = process.env.BENCH_PRESET ?? '720p30';
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const servers = [new NginxRtmp(), new NginxRtmp(), new NginxRtmp()];
for (const s of servers) await s.start();
try {
  // 1. kill and restart destination 2
  const keys = ['recA', 'recB', 'recC'];
  const to = servers.map((s, i) => `d${i + 1}=${s.url('live', keys[i])}`).join(',');
  const proc = execa(
    'node',
    [BIN, 'start', '--to', to, '--preset', PRESET, '--duration', '24s', '--json', '--uplink', 'off'],
    { reject: false, buffer: false, stdin: 'ignore', stderr: 'ignore' },
  );
  const events = [];
  let pending = '';
  proc.stdout.on('data', (c) => {
    pending += c;
    let nl;
    for (nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      events.push(JSON.parse(pending.slice(0, nl)));
      pending = pending.slice(nl + 1);
    }
  });
  while (!events.some((e) => e.type === 'state' && e.destination === 'd2' && e.state === 'live')) await sleep(50);
  await sleep(5000);
  await servers[1].stop();
  const killedAt = Date.now();
  await sleep(4000);
  await servers[1].start(servers[1].port);
  const backAt = Date.now();
  await proc;
  const liveAgain = events.find(
    (e) => e.type === 'state' && e.destination === 'd2' && e.state === 'live' && Date.parse(e.time) > killedAt,
  );
  const lastRetry = events
    .filter(
      (e) => e.type === 'state' && e.destination === 'd2' && e.state === 'reconnecting' && Date.parse(e.time) <= backAt,
    )
    .at(-1);
  const healthy = await Promise.all([0, 2].map((i) => probeReceived('ffprobe', servers[i].recording(keys[i]))));
  const frames = events.filter((e) => e.type === 'stats').at(-1)?.frame;

  console.log(`recovery: ${PRESET}, 24 s to 3 nginx-rtmp; d2's server stopped for 4 s at ~6 s`);
  console.log(`| measure | value |`);
  console.log(`| --- | ---: |`);
  console.log(
    `| d2 server back → d2 live | ${liveAgain ? `${Date.parse(liveAgain.time) - backAt} ms` : 'never'} ` +
      `(its backoff delay then: ${lastRetry?.delayMs ?? '?'} ms; goal ≤ delay + 2000 ms) |`,
  );
  console.log(`| frames lost on d1 / d3 | ${healthy[0].lostFrames} / ${healthy[1].lostFrames} (goal 0) |`);
  console.log(
    `| frames recorded on d1 / d3, encoded | ${healthy[0].videoFrames} / ${healthy[1].videoFrames}, ${frames} |`,
  );

  // 2. CPU of the relays
  let run = 0;
  const urls = () => servers.map((s, i) => `d${i + 1}=${s.url('live', `cpu${++run}`)}`);
  const rows = await medianRuns(
    {
      'rtmpush (relays) → 3': () =>
        `node ${BIN} start --to ${urls().join(',')} --preset ${PRESET} --duration ${SECONDS}s --json --uplink off`,
      'bare ffmpeg tee → 3 (no relay)': () => bareFfmpeg(urls(), PRESET, SECONDS),
    },
    REPEAT,
    STEADY,
  );
  console.log(`\nrelay CPU: ${PRESET}, ${SECONDS} s, median of ${REPEAT} interleaved runs`);
  printTable(rows);
  const overhead = rows[0][1].total / rows[1][1].total - 1;
  console.log(
    `rtmpush with relays over the bare pipeline, whole runs = ${(overhead * 100).toFixed(1)} % ` +
      `(goal ≤ 3 %: ${overhead <= 0.03 ? 'met' : 'NOT met'}; x264 alone varies ±5–10 % run to run)`,
  );
  const own = rows[0][1].own / rows[1][1].total;
  const ownCpu = "rtmpush's own CPU (Node: the 3 relays, and its start-up and reporter)";
  console.log(
    `${ownCpu} over the bare pipeline = ${(own * 100).toFixed(1)} % ` +
      `(goal ≤ 3 %: ${own <= 0.03 ? 'met' : 'NOT met'})`,
  );
  const bareMsPerS = (rows[1][1].total / SECONDS) * 1000;
  const steady = rows[0][1].steadyMs / bareMsPerS;
  console.log(
    `once started (from ${STEADY.from} s to ${STEADY.to} s, start-up excluded): ` +
      `rtmpush's own ${rows[0][1].steadyMs.toFixed(1)} ms/s over the bare pipeline's ${bareMsPerS.toFixed(0)} ms/s ` +
      `= ${(steady * 100).toFixed(1)} % (goal ≤ 3 %: ${steady <= 0.03 ? 'met' : 'NOT met'})`,
  );
  printFixedPart(rows[0][1], bareMsPerS, 0.03);
} finally {
  for (const s of servers) await s.dispose();
}
