#!/usr/bin/env node
// Uplink: at each shaped rate (tbf on a network namespace's loopback, MTU 1500), rtmpush's reading (what the
// server acknowledged), the naive sender-side reading (what write() accepted), their errors against what the
// link carries (~0.95 × the tbf rate), and the time taken. Needs root (ip netns, tc) and nginx-rtmp.
import { execa } from 'execa';
import { NetNs } from '../dist/test/helpers/netns.js';
import { NginxRtmp } from '../dist/test/helpers/nginx.js';
import { BIN } from './lib.js';

const RATES = (process.env.BENCH_RATES ?? '2,4,8').split(',').map(Number);
const ns = new NetNs();
await ns.create();
const nginx = new NginxRtmp(ns);
await nginx.start(19370);
const pct = (v, truth) => `${v >= truth ? '+' : ''}${(((v - truth) / truth) * 100).toFixed(1)} %`;
try {
  console.log('| tbf rate | link carries (0.95 ×) | rtmpush (acks) | error | sender-side | error | time |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const rate of RATES) {
    await ns.shapeAll(`${rate}mbit`);
    const t = Date.now();
    const r = await execa('ip', [
      'netns',
      'exec',
      ns.name,
      'env',
      'XDG_CACHE_HOME=/tmp/rtmpush-bench-cache',
      'node',
      BIN,
      'uplink',
      '--target',
      nginx.url('live', `bench${rate}`),
      '--json',
    ]);
    const took = ((Date.now() - t) / 1000).toFixed(1);
    const m = JSON.parse(String(r.stdout).trim().split('\n').at(-1));
    const truth = rate * 1000 * 0.95;
    console.log(
      `| ${rate} Mbit/s | ${truth} kbps | ${m.kbps} kbps | ${pct(m.kbps, truth)} | ` +
        `${m.senderSideKbps} kbps | ${pct(m.senderSideKbps, truth)} | ${took} s |`,
    );
  }
} finally {
  await nginx.dispose();
  await ns.dispose();
}
