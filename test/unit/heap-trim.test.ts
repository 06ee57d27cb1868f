import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import vm from 'node:vm';
import { fullCollection, HEAP_TRIM_EVERY_MS, heapTrimEvery, trimHeap } from '../../src/run/heap-trim.js';

describe('heap trim: a full collection once a minute while a stream runs', () => {
  it('fullCollection frees an object nothing holds any more, and gives no later context a gc of its own', async () => {
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
    assert.equal(vm.runInNewContext('typeof gc'), 'undefined');
    assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
  });

  it('trimHeap collects every interval until stopped; never with 0 or nothing to call', () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      let n = 0;
      const trim = trimHeap(() => n++, 20);
      mock.timers.tick(20 * 3);
      assert.equal(n, 3);
      trim.stop();
      mock.timers.tick(20 * 3);
      assert.equal(n, 3, 'no collection after stop');
      let m = 0;
      const off = trimHeap(() => m++, 0);
      mock.timers.tick(HEAP_TRIM_EVERY_MS * 2);
      assert.equal(m, 0);
      off.stop();
    } finally {
      mock.timers.reset();
    }
  });

  it('RTMPUSH_HEAP_TRIM: unset or empty once a minute; off or 0; a duration from 10s to 1h; else exit 2', () => {
    assert.equal(heapTrimEvery(undefined), 60_000);
    assert.equal(heapTrimEvery(' '), 60_000);
    assert.equal(heapTrimEvery('off'), 0);
    assert.equal(heapTrimEvery('0'), 0);
    assert.equal(heapTrimEvery('5m'), 300_000);
    assert.equal(heapTrimEvery('30'), 30_000);
    for (const bad of ['0.001', '1e9', '-1', 'abc', '2h'])
      assert.throws(
        () => heapTrimEvery(bad),
        /^UsageError: RTMPUSH_HEAP_TRIM .*(not a duration|from 10s to 1h, or off)/,
      );
  });
});
