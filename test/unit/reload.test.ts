import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { resolveStream } from '../../src/cli/options.js';
import { ConfigReader } from '../../src/cli/reload.js';
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
  const none = { add: [], replace: [], remove: [] };

  it('the same config: nothing', () => {
    assert.deepEqual(labels(diffDestinations(running(a, b), [a, b], running(a, b))), none);
  });

  it('one added, one removed; one the API added (no config named it) is kept', () => {
    assert.deepEqual(labels(diffDestinations(running(a, b), [a, c], running(a, b, x))), {
      add: ['c'],
      replace: [],
      remove: ['b'],
    });
  });

  it('one the API removed while the config still names it as before stays removed', () => {
    assert.deepEqual(labels(diffDestinations(running(a, b), [a, b], running(a))), none);
    // …unless the config changed it: then it is the config's again
    const b2 = dest('b', 'keyBnewwwww5');
    assert.deepEqual(labels(diffDestinations(running(a, b), [a, b2], running(a))).add, ['b']);
  });

  it('a label given another key or server is replaced', () => {
    const a2 = dest('a', 'keyAnewwwww4');
    const a3 = dest('a', 'keyAaaaaaaa1', 'b.example');
    for (const moved of [a2, a3])
      assert.deepEqual(labels(diffDestinations(running(a), [moved], running(a))), {
        add: [],
        replace: ['a'],
        remove: [],
      });
  });

  it('a destination moved to another label: the old one leaves, so the new one may publish there', () => {
    const renamed = dest('renamed', 'keyAaaaaaaa1');
    assert.deepEqual(labels(diffDestinations(running(a, b), [renamed, b], running(a, b))), {
      add: ['renamed'],
      replace: [],
      remove: ['a'],
    });
  });

  it('a label the config now names that the API added: adopted as it is, or replaced if it publishes elsewhere', () => {
    assert.deepEqual(labels(diffDestinations(running(a), [a, x], running(a, x))), none);
    const x2 = dest('x', 'keyXnewwwww8');
    assert.deepEqual(labels(diffDestinations(running(a), [a, x2], running(a, x))).replace, ['x']);
  });

  it('refused, nothing changed: a new one where a staying one publishes, and local added while streaming', () => {
    const sameAsX = dest('y', 'keyXxxxxxxx9');
    assert.throws(
      () => diffDestinations(running(a), [a, sameAsX], running(a, x)),
      /y: x already publishes there with that key/,
    );
    const [local] = resolveDestinations(['local'], { env: {}, config: {} });
    assert.throws(() => diffDestinations(running(a), [a, local!], running(a)), /local cannot be added/);
    // local that runs already is kept as it is (its port was chosen at start)
    assert.deepEqual(labels(diffDestinations(running(local!), [local!], new Map([['local', 'x']]))), none);
  });
});

/** A board that notes what a reload did to it, and fails a remove on purpose when told to. */
function fakeBoard(initial: Destination[], failRemove?: string) {
  let failing = failRemove;
  const on = running(...initial);
  const did: string[] = [];
  const board = {
    get publishing() {
      return new Map(on);
    },
    async remove(label: string, o: { evenLast?: boolean } = {}) {
      if (label === failing) throw new Error('the stream is stopping');
      did.push(`remove ${label}${o.evenLast ? ' (even last)' : ''}`);
      on.delete(label);
    },
    add(d: Destination) {
      did.push(`add ${d.label}`);
      on.set(d.label, publishKey(d));
    },
  };
  return { board: board as unknown as DestinationBoard, did, heal: () => (failing = undefined) };
}

describe('Reloader: one reload at a time, reported', () => {
  const a = dest('a', 'keyAaaaaaaa1');
  const b = dest('b', 'keyBbbbbbbb2');
  const c = dest('c', 'keyCcccccccc3');

  it('removes before it adds (the last one may go when another comes), then reports what changed', async () => {
    const events: RunEvent[] = [];
    const { board, did } = fakeBoard([a]);
    const r = new Reloader({ initial: [a], read: () => [c], emit: (e) => events.push(e) });
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
      initial: [a],
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
    const { board, did, heal } = fakeBoard([a, b], 'b');
    const bad = new Reloader({
      initial: [a, b],
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
    const partial = new Reloader({ initial: [a, b], read: () => [c], emit: (e) => events.push(e) });
    partial.attach(board);
    await partial.reload();
    assert.deepEqual(did, ['remove a (even last)']);
    assert.deepEqual(events, [
      { type: 'error', code: 'reload-failed', message: 'reload stopped part way: the stream is stopping' },
      { type: 'reload', added: [], removed: ['a'], replaced: [] },
    ]);
    // the next reload takes up what was not done, and only that
    heal();
    assert.deepEqual(await partial.reload(), { ok: true, added: ['c'], removed: ['b'], replaced: [] });
    assert.deepEqual(did, ['remove a (even last)', 'remove b (even last)', 'add c']);
  });
});

describe('ConfigReader: a reload reads the file the stream started with, and no other', () => {
  const KEYS = { KEY_A: 'readerKeyAaa1', KEY_EVIL: 'readerKeyEvil2' };
  const setup = () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'rtmpush-reader-'));
    const xdg = path.join(cwd, 'xdg');
    mkdirSync(path.join(xdg, 'rtmpush'), { recursive: true });
    const ctx = { env: { ...KEYS, XDG_CONFIG_HOME: xdg }, cwd, os: 'linux' as const };
    const write = (file: string, host: string, keyEnv = 'KEY_A') =>
      writeFileSync(
        file,
        JSON.stringify({ destinations: { a: { url: `rtmp://${host}/live`, keyEnv } }, defaults: { to: ['a'] } }),
      );
    return { cwd, xdg, ctx, write };
  };
  const flags = { to: [], uplink: 'off' };

  it('a config found in the user’s folder at start: a file planted in the working folder later is not read', () => {
    const { cwd, xdg, ctx, write } = setup();
    write(path.join(xdg, 'rtmpush', 'config.json'), 'mine.example');
    const reader = new ConfigReader(flags, ctx, resolveStream(flags, ctx), () => {});
    // another user's file where the search would look first
    write(path.join(cwd, 'rtmpush.config.json'), 'attacker.example', 'KEY_EVIL');
    const [a] = reader.read();
    assert.equal(a!.endpoint.host, 'mine.example');
  });

  it('a stream started without a config file has none to read again', () => {
    const { cwd, ctx, write } = setup();
    const withTo = { ...flags, to: ['a=rtmp://h.example/live/readerKeyAaa1'] };
    const reader = new ConfigReader(withTo, ctx, resolveStream(withTo, ctx), () => {});
    write(path.join(cwd, 'rtmpush.config.json'), 'attacker.example', 'KEY_EVIL');
    assert.throws(() => reader.read(), /started without a config file: there is none to read again/);
  });

  it('warns of an encode change against what runs, not of a bitrate the destinations move', () => {
    const { xdg, ctx, write } = setup();
    const file = path.join(xdg, 'rtmpush', 'config.json');
    write(file, 'mine.example');
    const warned: string[] = [];
    // an uplink of 6 Mbit/s: 4200 kbps for one destination's stream, less each for two
    const shared = { ...flags, uplink: '6M' };
    const start = resolveStream(shared, ctx);
    const reader = new ConfigReader(shared, ctx, start, (w) => warned.push(w));
    // two destinations share the uplink: a lower cap, the same encode
    const two = {
      a: { url: 'rtmp://mine.example/live', keyEnv: 'KEY_A' },
      b: { url: 'rtmp://b.example/live', keyEnv: 'KEY_A' },
    };
    writeFileSync(file, JSON.stringify({ destinations: two, defaults: { to: ['a', 'b'] } }));
    const [a] = reader.read();
    reader.applied();
    assert.ok(reader.current.plan.video.kbps < start.plan.video.kbps, 'the cap moved with the destinations');
    assert.equal(a!.label, 'a');
    assert.deepEqual(warned, []);
    writeFileSync(file, JSON.stringify({ destinations: two, defaults: { to: ['a'], preset: '1080p30' } }));
    reader.read();
    reader.applied();
    // back as it was: the stream never changed its encode, so nothing to say
    writeFileSync(file, JSON.stringify({ destinations: two, defaults: { to: ['a'] } }));
    reader.read();
    assert.equal(warned.length, 1);
    assert.match(
      warned[0]!,
      /^reload: this config would encode 1080p30 1920x1080@30 .*; the stream goes on with 720p30 /,
    );
  });
});
