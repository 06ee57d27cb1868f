import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { resolveStream } from '../../src/cli/options.js';
import { ConfigReader } from '../../src/cli/reload.js';
import { type Destination, resolveDestinations } from '../../src/platforms/destinations.js';
import { formatReload } from '../../src/report/format.js';
import type { DestinationBoard } from '../../src/board/board.js';
import type { RunEvent } from '../../src/run/events.js';
import { publishKey } from '../../src/platforms/destinations.js';
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

/**
 * A board with the real one's rules (one destination per URL and key, none added where one is still unpublishing,
 * the last one kept unless told otherwise) that notes what a reload did to it, and fails a remove when told to.
 */
function fakeBoard(initial: Destination[], failRemove?: string, refuseAdd?: string) {
  let failing = failRemove;
  let refusing = refuseAdd;
  let closing = false;
  const on = running(...initial);
  const unpublishing = new Set<string>();
  const did: string[] = [];
  const board = {
    get closing() {
      return closing;
    },
    get publishing() {
      return new Map(on);
    },
    async remove(label: string, o: { evenLast?: boolean } = {}) {
      if (label === failing) throw new Error('the server did not answer');
      const key = on.get(label);
      if (key === undefined) throw new Error(`no destination ${label}`);
      if (on.size === 1 && !o.evenLast) throw new Error(`${label} is the last destination`);
      on.delete(label);
      did.push(`remove ${label}`);
      unpublishing.add(key);
      await new Promise((r) => setTimeout(r, 5));
      unpublishing.delete(key);
    },
    add(d: Destination) {
      if (d.label === refusing) throw new Error('refused');
      const key = publishKey(d);
      if (on.has(d.label)) throw new Error(`${d.label} is already a destination`);
      const same = [...on].find(([, k]) => k === key);
      if (same || unpublishing.has(key)) throw new Error(`${same?.[0] ?? 'one'} already publishes there with that key`);
      on.set(d.label, key);
      did.push(`add ${d.label}`);
    },
  };
  const heal = () => {
    failing = undefined;
    refusing = undefined;
  };
  const ctl = { heal, close: () => (closing = true), on };
  return { board: board as unknown as DestinationBoard, did, ...ctl };
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
    assert.deepEqual(await r.reload(), { ok: true, added: ['c'], removed: ['a'], replaced: [] });
    assert.deepEqual(did, ['remove a', 'add c']);
    assert.deepEqual(events, [{ type: 'reload', added: ['c'], removed: ['a'], replaced: [] }]);
    assert.equal(
      formatReload(events[0] as Extract<RunEvent, { type: 'reload' }>),
      'config reloaded: added c; removed a',
    );
  });

  it('a destination whose own preset changed keeps running as it is, and the reload says so once', async () => {
    const events: RunEvent[] = [];
    const { board, did } = fakeBoard([a, b]);
    const bVertical = { ...b, own: { preset: 'vertical-720p30' } };
    const r = new Reloader({ initial: [a, b], read: () => [a, bVertical], emit: (e) => events.push(e) });
    r.attach(board);
    assert.deepEqual(await r.reload(), { ok: true, added: [], removed: [], replaced: [] });
    assert.deepEqual(did, []);
    const said = events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message);
    assert.deepEqual(said, [
      "reload: b's own preset, videoBitrate or encoder changed: that applies from the next start " +
        "(a running stream's encodes are set when it starts)",
    ]);
    await r.reload();
    assert.equal(events.filter((e) => e.type === 'warning').length, 1, 'once per change');
  });

  it('two destinations swap keys: both unpublished, then both published with the other’s key', async () => {
    const { board, did, on } = fakeBoard([a, b]);
    const aAsB = dest('a', 'keyBbbbbbbb2');
    const bAsA = dest('b', 'keyAaaaaaaa1');
    const r = new Reloader({ initial: [a, b], read: () => [aAsB, bAsA], emit: () => {} });
    r.attach(board);
    assert.deepEqual(await r.reload(), { ok: true, added: [], removed: [], replaced: ['a', 'b'] });
    assert.deepEqual(did, ['remove a', 'remove b', 'add a', 'add b']);
    assert.deepEqual(on, running(aAsB, bAsA));
  });

  it('asked while starting: SIGHUP runs once the destinations exist, the API is told to ask again', async () => {
    let reads = 0;
    const { board, close } = fakeBoard([a]);
    const r = new Reloader({
      initial: [a],
      read: () => {
        reads++;
        return [a];
      },
      emit: () => {},
    });
    assert.deepEqual(await r.reload(), {
      ok: false,
      status: 409,
      error: 'the stream is still starting; try again in a moment',
    });
    void r.reload({ whileStarting: true });
    assert.equal(reads, 0);
    r.attach(board);
    await new Promise((done) => setImmediate(done));
    assert.equal(reads, 1, 'the SIGHUP ran at attach; the API’s request was not kept for later');
    close();
    assert.deepEqual(await r.reload(), { ok: false, status: 409, error: 'the stream is stopping' });
    assert.equal(reads, 1, 'nothing read once the stream stops by itself');
  });

  it('a config that does not read changes nothing; a refusal part way is reported, taken up next time', async () => {
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
    const first = await partial.reload();
    assert.deepEqual(did, ['remove a', 'add c']);
    const message =
      'reload stopped part way (b: the server did not answer); ' +
      'config reloaded: added c; removed a; reload again to retry';
    assert.deepEqual(first, { ok: false, status: 409, error: message });
    assert.deepEqual(events, [
      { type: 'reload', added: ['c'], removed: ['a'], replaced: [] },
      { type: 'error', code: 'reload-failed', message },
    ]);
    // the next reload takes up what was not done, and only that
    heal();
    assert.deepEqual(await partial.reload(), { ok: true, added: [], removed: ['b'], replaced: [] });
    assert.deepEqual(did, ['remove a', 'add c', 'remove b']);
  });

  it('a new key that could not be published: putting the config back brings the destination back', async () => {
    const { board, did, on, heal } = fakeBoard([a, b], undefined, 'a');
    const a2 = dest('a', 'keyAnewwwww4');
    let config = [a2, b];
    const r = new Reloader({ initial: [a, b], read: () => config, emit: () => {} });
    r.attach(board);
    const refused = await r.reload();
    assert.deepEqual(refused, {
      ok: false,
      status: 409,
      error: 'reload stopped part way (a: refused); config reloaded: removed a; reload again to retry',
    });
    assert.deepEqual(did, ['remove a']);
    heal();
    config = [a, b];
    assert.deepEqual(await r.reload(), { ok: true, added: ['a'], removed: [], replaced: [] });
    assert.deepEqual(did, ['remove a', 'add a']);
    assert.deepEqual(on, running(b, a));
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

  it('a stream whose destinations --to named: a config that lists others says it is not used for that', () => {
    const { xdg, ctx, write } = setup();
    write(path.join(xdg, 'rtmpush', 'config.json'), 'mine.example');
    const warned: string[] = [];
    const named = { ...flags, to: ['a'] };
    const reader = new ConfigReader(named, ctx, resolveStream(named, ctx), (w) => warned.push(w));
    reader.read();
    assert.deepEqual(warned, [
      "reload: the destinations are the ones --to named at start; the config's defaults.to is not used " +
        '(their definitions in the config are); start without it for the config to choose them',
    ]);
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
