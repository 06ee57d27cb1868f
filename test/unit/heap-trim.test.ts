import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fullCollection, trimHeap } from '../../src/run/heap-trim.js';

test('fullCollection: a collection that frees an object nothing holds any more', async () => {
  const collect = fullCollection();
  assert.equal(typeof collect, 'function');
  let ref: WeakRef<object> | undefined;
  (() => {
    ref = new WeakRef({ big: new Array(1000).fill(1) });
  })();
  // a WeakRef's target is kept to the end of the current job: collect after it
  await sleep(0);
  collect!();
  assert.equal(ref!.deref(), undefined);
});

test('trimHeap: collects every interval until stopped, never when off', async () => {
  let n = 0;
  const trim = trimHeap(() => n++, 20);
  await sleep(110);
  trim.stop();
  const seen = n;
  assert.ok(seen >= 3 && seen <= 6, `${seen} collections in 110 ms at one per 20 ms`);
  await sleep(60);
  assert.equal(n, seen, 'no collection after stop');
  let m = 0;
  trimHeap(() => m++, 0).stop();
  trimHeap(undefined, 20).stop();
  await sleep(50);
  assert.equal(m, 0);
});
