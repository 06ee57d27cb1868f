#!/usr/bin/env node
// Per-platform encodes (issue 14): CPU seconds of
//   1. one encode (720p30) to 3 destinations,
//   2. two encodes (720p30 + vertical-720p30) to 3 destinations in one rtmpush (one ffmpeg: one decode, a split),
//   3. the same two encodes as two rtmpush runs side by side (two ffmpeg processes, each decoding the source),
// on the same 1080p30 H.264 file (looped), to a local nginx-rtmp, interleaved, median of BENCH_REPEAT runs.
// Goals: (2) ≤ 0.95 × (3), (2) ≤ 2.1 × (1). Run after `npm install` (it uses the built dist/).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { NginxRtmp } from '../dist/test/helpers/nginx.js';
import { BIN, medianRuns, printTable, shq } from './lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);

const dir = mkdtempSync(path.join(os.tmpdir(), 'rtmpush-bench-encodes-'));
const source = path.join(dir, 'source-1080p30.mp4');
// a moving 1080p30 picture with sound, as a camera or a recording would give (its decode is part of the cost)
await execa('ffmpeg', [
  ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30', '-f', 'lavfi'],
  ...['-i', 'sine=frequency=330:sample_rate=48000', '-t', '20', '-c:v', 'libx264', '-preset', 'veryfast'],
  ...['-b:v', '6M', '-g', '60', '-c:a', 'aac', source],
]);

const nginx = new NginxRtmp();
await nginx.start();
let run = 0;
const dest = (label) => `${label}=${nginx.url('live', `enc${++run}${label}`)}`;
// each run its own name: two at once must not share a control socket
const start = (to, extra = '') =>
  `node ${BIN} start --to ${shq(to)} --source ${shq(source)} --loop --preset 720p30 --encoder x264 ` +
  `--duration ${SECONDS}s --json --uplink off --no-adaptive-bitrate --name bench${++run} ${extra}`;
// a config names the vertical destination's preset (NAME@PRESET takes platform ids and config names)
const config = (label) => {
  const file = path.join(dir, `config-${label}-${++run}.json`);
  const url = nginx.url('live', `enc${run}${label}`);
  const base = url.slice(0, url.lastIndexOf('/'));
  const key = url.slice(url.lastIndexOf('/') + 1);
  return { file, body: { destinations: { [label]: { url: base, key, preset: 'vertical-720p30' } } } };
};
/** An rtmpush run whose destinations are `others` and a vertical one (`v`, named in a config of its own). */
const withVertical = (others) => {
  const c = config('v');
  const to = others ? `${others},v` : 'v';
  return `printf %s ${shq(JSON.stringify(c.body))} > ${shq(c.file)} && ${start(to, `--config ${shq(c.file)}`)}`;
};

let rows;
try {
  rows = await medianRuns(
    {
      'rtmpush: 1 encode → 3': () => start(`${dest('a')},${dest('b')},${dest('c')}`),
      'rtmpush: 2 encodes (720p30 + vertical) → 3': () => withVertical(`${dest('a')},${dest('b')}`),
      'two rtmpush side by side: 720p30 → 2 | vertical → 1': () =>
        `(${start(`${dest('a')},${dest('b')}`)} >/dev/null 2>&1 & ${withVertical('')} >/dev/null 2>&1 & wait)`,
    },
    REPEAT,
  );
} finally {
  await nginx.dispose();
  rmSync(dir, { recursive: true, force: true });
}

const cpu = Object.fromEntries(rows.map(([name, c]) => [name, c.total]));
console.log(`encodes: ${SECONDS} s of a 1080p30 file to a local nginx-rtmp, median of ${REPEAT} interleaved runs`);
printTable(rows);
const one = cpu['rtmpush: 1 encode → 3'];
const two = cpu['rtmpush: 2 encodes (720p30 + vertical) → 3'];
const apart = cpu['two rtmpush side by side: 720p30 → 2 | vertical → 1'];
const a = two / apart;
const b = two / one;
console.log(`2 encodes in one process / 2 processes = ${a.toFixed(3)} (goal ≤ 0.95: ${a <= 0.95 ? 'met' : 'NOT met'})`);
console.log(`2 encodes in one process / 1 encode = ${b.toFixed(3)} (goal ≤ 2.1: ${b <= 2.1 ? 'met' : 'NOT met'})`);
