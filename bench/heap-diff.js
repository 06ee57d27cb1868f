#!/usr/bin/env node
// What grew between two V8 heap snapshots (e.g. the two `SOAK_HEAP_DIR=dir npm run bench:soak` takes): objects
// grouped by type and constructor name, the groups whose retained-by-count or self size grew most.
// Usage: node bench/heap-diff.js early.heapsnapshot late.heapsnapshot [rows]
import { readFileSync } from 'node:fs';

function groups(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [ti, ni, si] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const out = new Map();
  const { nodes, strings } = snap;
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + ti]];
    // strings and numbers by type alone: their names are their values
    const name = type === 'object' || type === 'closure' || type === 'native' ? strings[nodes[i + ni]] : '';
    const key = `${type} ${name}`.trim();
    const g = out.get(key) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += nodes[i + si];
    out.set(key, g);
  }
  return out;
}

const [early, late, rows = '25'] = process.argv.slice(2);
if (!early || !late) {
  console.error('usage: node bench/heap-diff.js early.heapsnapshot late.heapsnapshot [rows]');
  process.exit(2);
}
const a = groups(early);
const b = groups(late);
const diff = [...b].map(([key, g]) => {
  const was = a.get(key) ?? { count: 0, bytes: 0 };
  return { key, count: g.count - was.count, bytes: g.bytes - was.bytes, total: g.bytes };
});
const total = (m) => [...m.values()].reduce((s, g) => s + g.bytes, 0);
console.log(`heap: ${(total(a) / 1e6).toFixed(1)} MB → ${(total(b) / 1e6).toFixed(1)} MB`);
console.log('| group | objects added | bytes added | bytes now |');
console.log('| --- | ---: | ---: | ---: |');
for (const d of diff.sort((x, y) => y.bytes - x.bytes).slice(0, Number(rows)))
  console.log(`| ${d.key.slice(0, 60)} | ${d.count} | ${d.bytes} | ${d.total} |`);
