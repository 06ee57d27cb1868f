import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Destination, resolveDestinations } from '../../src/platforms/destinations.js';
import { formatReload } from '../../src/report/format.js';
import type { DestinationBoard } from '../../src/run/board.js';
import type { RunEvent } from '../../src/run/events.js';
import { publishKey } from '../../src/run/operator.js';
import { diffDestinations, Reloader } from '../../src/run/reload.js';

const dest = (label: string, key: string, host = 'a.example'): Destination =>
  resolveDestinations([`${label}=rtmp://${host}/live/${key}`], { env: {}, config: {} })[0]!;
const running = (...ds: Destination[]) => new Map(ds.map((d) => [d.label, publishKey(d)]));
const labels = (diff: ReturnType<typeof diffDestinations>) => ({
  add: diff.add.map((d) => d.label),
  replace: diff.replace.map((d) => d.label),
  remove: diff.remove,
});

describe('diffDestinations: what a reload changes, by label', () => {
  const a = dest('a', 'keyAaaaaaaa1');
  const b = dest('b', 'keyBbbbbbbb2');
  const c = dest('c', 'keyCcccccccc3');
  const x = dest('x', 'keyXxxxxxxx9');

  it('the same config: nothing', () => {
    assert.deepEqual(labels(diffDestinations(new Set(['a', 'b']), [a, b], running(a, b))), {
      add: [],
      replace: [],
      remove: [],
    });
  });

  it('one added, one removed; one the API added (no config named it) is kept', () => {
    assert.deepEqual(labels(diffDestinations(new Set(['a', 'b']), [a, c], running(a, b, x))), {
      add: ['c'],
      replace: [],
      remove: ['b'],
    });
  });

  it('a label given another key or server is replaced', () => {
    const a2 = dest('a', 'keyAnewwwww4');
    const a3 = dest('a', 'keyAaaaaaaa1', 'b.example');
    for (const moved of [a2, a3])
      assert.deepEqual(labels(diffDestinations(new Set(['a']), [moved], running(a))), {
        add: [],
        replace: ['a'],
        remove: [],
      });
  });

  it('a destination moved to another label: the old one leaves, so the new one may publish there', () => {
    const renamed = dest('renamed', 'keyAaaaaaaa1');
    assert.deepEqual(labels(diffDestinations(new Set(['a', 'b']), [renamed, b], running(a, b))), {
      add: ['renamed'],
      replace: [],
      remove: ['a'],
    });
  });

  it('a label the config now names that the API added: adopted as it is, or replaced if it publishes elsewhere', () => {
    assert.deepEqual(labels(diffDestinations(new Set(['a']), [a, x], running(a, x))).replace, []);
    const x2 = dest('x', 'keyXnewwwww8');
    assert.deepEqual(labels(diffDestinations(new Set(['a']), [a, x2], running(a, x))).replace, ['x']);
  });

  it('refused, nothing changed: a new one where a staying one publishes, and local added while streaming', () => {
    const sameAsX = dest('y', 'keyXxxxxxxx9');
    assert.throws(
      () => diffDestinations(new Set(['a']), [a, sameAsX], running(a, x)),
      /y: x already publishes there with that key/,
    );
    const [local] = resolveDestinations(['local'], { env: {}, config: {} });
    assert.throws(() => diffDestinations(new Set(['a']), [a, local!], running(a)), /local cannot be added/);
    // local that runs already is kept as it is (its port was chosen at start)
    assert.deepEqual(labels(diffDestinations(new Set(['local']), [local!], new Map([['local', 'x']]))), {
      add: [],
      replace: [],
      remove: [],
    });
  });
});

/** A board that notes what a reload did to it, and fails a remove on purpose when told to. */
function fakeBoard(initial: Destination[], failRemove?: string) {
  const on = running(...initial);
  const did: string[] = [];
  const board = {
    get publishing() {
      return new Map(on);
    },
    async remove(label: string, o: { evenLast?: boolean } = {}) {
      if (label === failRemove) throw new Error('the stream is stopping');
      did.push(`remove ${label}${o.evenLast ? ' (even last)' : ''}`);
      on.delete(label);
    },
    add(d: Destination) {
      did.push(`add ${d.label}`);
      on.set(d.label, publishKey(d));
    },
  };
  return { board: board as unknown as DestinationBoard, did };
}

describe('Reloader: one reload at a time, reported', () => {
  const a = dest('a', 'keyAaaaaaaa1');
  const b = dest('b', 'keyBbbbbbbb2');
  const c = dest('c', 'keyCcccccccc3');

  it('removes before it adds (the last one may go when another comes), then reports what changed', async () => {
    const events: RunEvent[] = [];
    const { board, did } = fakeBoard([a]);
    const r = new Reloader({ initial: ['a'], read: () => [c], emit: (e) => events.push(e) });
    r.attach(board);
    await r.reload();
    assert.deepEqual(did, ['remove a (even last)', 'add c']);
    assert.deepEqual(events, [{ type: 'reload', added: ['c'], removed: ['a'], replaced: [] }]);
    assert.equal(
      formatReload(events[0] as Extract<RunEvent, { type: 'reload' }>),
      'config reloaded: added c; removed a',
    );
  });

  it('a reload asked for while the stream starts runs once its destinations exist; none after a stop', async () => {
    let reads = 0;
    const { board } = fakeBoard([a]);
    const r = new Reloader({
      initial: ['a'],
      read: () => {
        reads++;
        return [a];
      },
      emit: () => {},
    });
    void r.reload();
    assert.equal(reads, 0);
    r.attach(board);
    await r.reload();
    assert.equal(reads, 2);
    r.close();
    await r.reload();
    assert.equal(reads, 2);
  });

  it('a config that does not read changes nothing; a refusal part way is reported with what was done', async () => {
    const events: RunEvent[] = [];
    const { board, did } = fakeBoard([a, b], 'b');
    const bad = new Reloader({
      initial: ['a', 'b'],
      read: () => {
        throw new Error('show.json: not JSON');
      },
      emit: (e) => events.push(e),
    });
    bad.attach(board);
    await bad.reload();
    assert.deepEqual(did, []);
    assert.deepEqual(events, [
      { type: 'error', code: 'reload-failed', message: 'reload: show.json: not JSON; nothing was changed' },
    ]);
    events.length = 0;
    const partial = new Reloader({ initial: ['a', 'b'], read: () => [c], emit: (e) => events.push(e) });
    partial.attach(board);
    await partial.reload();
    assert.deepEqual(did, ['remove a (even last)']);
    assert.deepEqual(events, [
      { type: 'error', code: 'reload-failed', message: 'reload stopped part way: the stream is stopping' },
      { type: 'reload', added: [], removed: ['a'], replaced: [] },
    ]);
  });
});
