#!/usr/bin/env node
// Encode once: CPU seconds of rtmpush to 1, 3 and 5 destinations, of the same ffmpeg tee run bare (legs straight
// to the servers), and of 5 separate ffmpeg processes, on the same source and preset, in one run.
// Destinations are a real nginx-rtmp on loopback. Run after `npm install` (it uses the built dist/).
import { NginxRtmp } from '../dist/test/helpers/nginx.js';
import { BIN, SECONDS, STEADY, bareFfmpeg, medianRuns, printFixedPart, printTable } from './lib.js';

const PRESET = process.env.BENCH_PRESET ?? '720p30';
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);

const nginx = new NginxRtmp();
await nginx.start();
let run = 0;
const urls = (n) => Array.from({ length: n }, (_, i) => `d${i + 1}=${nginx.url('live', `bench${++run}x${i}`)}`);
const rtmpush = (n) => () =>
  `node ${BIN} start --to ${urls(n).join(',')} --preset ${PRESET} --duration ${SECONDS}s --json --uplink off`;
let rows;
try {
  rows = await medianRuns(
    {
      'rtmpush → 1': rtmpush(1),
      'rtmpush → 3': rtmpush(3),
      'rtmpush → 5': rtmpush(5),
      'bare ffmpeg tee → 1': () => bareFfmpeg(urls(1), PRESET, SECONDS),
      'bare ffmpeg tee → 5': () => bareFfmpeg(urls(5), PRESET, SECONDS),
      '5 separate ffmpeg': () =>
        `${urls(5)
          .map((u) => `${bareFfmpeg([u], PRESET, SECONDS)} >/dev/null 2>&1 &`)
          .join(' ')} wait`,
    },
    REPEAT,
    STEADY,
  );
} finally {
  await nginx.dispose();
}

const cpu = Object.fromEntries(rows.map(([name, c]) => [name, c.total]));
console.log(
  `encode-once: ${PRESET}, ${SECONDS} s of test pattern to a local nginx-rtmp, median of ${REPEAT} interleaved runs`,
);
printTable(rows);
const ratio5 = cpu['rtmpush → 5'] / cpu['rtmpush → 1'];
const overhead = cpu['rtmpush → 5'] / cpu['bare ffmpeg tee → 5'] - 1;
console.log(`CPU(5 destinations) / CPU(1) = ${ratio5.toFixed(3)} (goal ≤ 1.10: ${ratio5 <= 1.1 ? 'met' : 'NOT met'})`);
console.log(
  `bare ffmpeg alone: CPU(5) / CPU(1) = ${(cpu['bare ffmpeg tee → 5'] / cpu['bare ffmpeg tee → 1']).toFixed(3)}`,
);
console.log(
  `rtmpush over bare ffmpeg (5 destinations), whole runs = ${(overhead * 100).toFixed(1)} % ` +
    `(goal ≤ 5 %: ${overhead <= 0.05 ? 'met' : 'NOT met'}; x264 alone varies ±5–10 % run to run)`,
);
const r5 = rows.find(([name]) => name === 'rtmpush → 5')[1];
const own = r5.own / cpu['bare ffmpeg tee → 5'];
const ownCpu = "rtmpush's own CPU (Node: start-up, 5 relays, reporter; and its ffmpeg probes)";
console.log(
  `${ownCpu} over bare ffmpeg (5 destinations) = ${(own * 100).toFixed(1)} % ` +
    `(goal ≤ 5 %: ${own <= 0.05 ? 'met' : 'NOT met'})`,
);
const bareMsPerS = (cpu['bare ffmpeg tee → 5'] / SECONDS) * 1000;
const steady = r5.steadyMs / bareMsPerS;
console.log(
  `once started (from ${STEADY.from} s to ${STEADY.to} s of each run, start-up excluded): ` +
    `rtmpush's own ${r5.steadyMs.toFixed(1)} ms/s over bare ffmpeg's ${bareMsPerS.toFixed(0)} ms/s ` +
    `= ${(steady * 100).toFixed(1)} % (goal ≤ 5 %: ${steady <= 0.05 ? 'met' : 'NOT met'})`,
);
printFixedPart(r5, bareMsPerS, 0.05);
const encoderOverBare = 'the encoding ffmpeg inside rtmpush / bare ffmpeg (5 destinations)';
console.log(
  `${encoderOverBare} = ${(r5.encoder / cpu['bare ffmpeg tee → 5']).toFixed(3)} (the same work: 1 ± x264's noise)`,
);
console.log(`5 separate ffmpeg / rtmpush → 5 = ${(cpu['5 separate ffmpeg'] / cpu['rtmpush → 5']).toFixed(2)}x`);
