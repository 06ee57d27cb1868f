import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  initialSource,
  nextSource,
  type SourceEffect,
  type SourceEvent,
  type SourceSetup,
  type SourceState,
} from '../../src/source/machine.js';

const URL_SOURCE: SourceSetup = {
  listen: false,
  copy: false,
  slate: true,
  slateTimeoutMs: 600_000,
  restartable: true,
  swappable: true,
  kbps: 3000,
  watchdogMs: 10_000,
};
const LISTEN: SourceSetup = { ...URL_SOURCE, listen: true };
const TESTSRC: SourceSetup = { ...URL_SOURCE, slate: false, slateTimeoutMs: 0, swappable: false };

/** An effect in a few words: `run 1 source`, `stage 2 slate`, `say slate (why)`, `kill 1`, `timer slate`. */
function word(e: SourceEffect): string {
  switch (e.type) {
    case 'run':
      return [e.stage ? 'stage' : 'run', e.run.id, e.run.kind, e.run.swap ? 'swap' : '']
        .concat(e.durationMs ? [`-t ${e.durationMs}`] : [])
        .filter((w) => w !== '')
        .join(' ');
    case 'current':
      return `current ${e.run}`;
    case 'stop-run':
      return `stop ${e.run}`;
    case 'kill-run':
      return `kill ${e.run}`;
    case 'abandon-run':
      return `abandon ${e.run}`;
    case 'emit':
      if (e.event.type === 'source') return `say ${e.event.state}${e.event.reason ? ` (${e.event.reason})` : ''}`;
      return e.event.type === 'warning' ? `warn ${e.event.message}` : `emit ${e.event.type}`;
    case 'set-timer':
      return `timer ${e.timer} ${e.ms}`;
    case 'clear-timer':
      return `clear ${e.timer}`;
    case 'close-publisher':
      return `close publisher ${e.publisher}${e.reason ? ` (${e.reason})` : ''}`;
    case 'destinations':
      return 'destinations';
    case 'done':
      return 'done';
  }
}

const exit = (run: number, at: number, code = 1, fed = true): SourceEvent => ({
  type: 'exited',
  run,
  exit: { exitCode: code, signal: undefined },
  reason: `exit ${code}`,
  fed,
  at,
});

/** Plays events from the start; the state after them and, per event, what it asked for (clears left out). */
function play(setup: SourceSetup, events: SourceEvent[]): { state: SourceState; said: string[][] } {
  let state = initialSource(setup, 0);
  const said: string[][] = [];
  for (const e of events) {
    const step = nextSource(setup, state, e);
    state = step.state;
    said.push(step.effects.filter((f) => f.type !== 'clear-timer').map(word));
  }
  return { state, said };
}

describe('the source machine: which encoder feeds the stream, decided in one place (pure)', () => {
  it('a URL starts at once; lost after giving frames: the slate (staged), a retry after 1 s, 2 s, … ', () => {
    const { state, said } = play(URL_SOURCE, [
      { type: 'start', at: 0 },
      { type: 'tick', fed: true, silentS: 0, stillMs: 0, at: 1000 },
      exit(1, 5000),
      { type: 'retry-due', at: 6000 },
      exit(3, 6500, 1, false),
      { type: 'taken', run: 2, at: 7000 },
      { type: 'retry-due', at: 8500 },
    ]);
    assert.deepEqual(said, [
      ['destinations', 'run 1 source', 'current 1'],
      [],
      ['timer retry 1000', 'say slate (exit 1)', 'timer slate 600000', 'stage 2 slate', 'timer staged 10000'],
      // the slate is still starting: the source is tried once that is settled
      ['timer retry 2000'],
      [],
      ['current 2', 'stop 1'],
      ['stage 3 source', 'timer staged 10000'],
    ]);
    assert.deepEqual([state.shown, state.current?.id, state.staged?.id], ['slate', 2, 3]);
    assert.deepEqual(state.counts, { restarts: 0, slates: 1, swaps: 0 });
  });

  it('the source back: it takes over on its keyframe, the slate is stopped, its time stops running', () => {
    const { state, said } = play(URL_SOURCE, [
      { type: 'start', at: 0 },
      { type: 'tick', fed: true, silentS: 0, stillMs: 0, at: 1000 },
      { type: 'tick', fed: true, silentS: 1.0, stillMs: 0, at: 3000 },
      { type: 'taken', run: 2, at: 3500 },
      { type: 'retry-due', at: 4000 },
      { type: 'taken', run: 3, at: 5000 },
    ]);
    assert.deepEqual(said[2]!.slice(0, 2), ['timer retry 1000', 'say slate (no frames from the source for 1 s)']);
    assert.deepEqual(said[5], ['current 3', 'stop 2', 'say live']);
    assert.deepEqual([state.shown, state.current?.id, state.retries], ['live', 3, 0]);
  });

  it('the slate plays past its time: the stream ends, source lost', () => {
    const setup = { ...URL_SOURCE, slateTimeoutMs: 3000 };
    const { state, said } = play(setup, [
      { type: 'start', at: 0 },
      exit(1, 2000),
      { type: 'taken', run: 2, at: 2500 },
      { type: 'slate-timeout', at: 5000 },
      exit(2, 5200, 0),
    ]);
    assert.deepEqual(said[3], ['stop 2']);
    assert.deepEqual(said[4], ['done']);
    assert.deepEqual([state.phase, state.sourceLost, state.failed], ['ended', true, false]);
  });

  it('a URL that never gave a frame is not lost but wrong: the stream fails, no slate', () => {
    const { state, said } = play(URL_SOURCE, [{ type: 'start', at: 0 }, exit(1, 800, 1, false)]);
    assert.deepEqual(said[1], ['done']);
    assert.deepEqual([state.failed, state.exit.exitCode, state.counts.slates], [true, 1, 0]);
  });

  it('stop: the current run is stopped gracefully, one being staged given up; done once both have ended', () => {
    const { state, said } = play(URL_SOURCE, [
      { type: 'start', at: 0 },
      { type: 'bitrate', kbps: 2000, at: 100 },
      { type: 'stop', at: 200 },
      exit(2, 300, 137),
      exit(1, 400, 0),
    ]);
    assert.deepEqual(said[1], ['stage 2 source swap', 'timer staged 10000']);
    assert.deepEqual(said[2], ['abandon 2', 'stop 1']);
    assert.deepEqual(said[3], []);
    assert.deepEqual(said[4], ['done']);
    assert.deepEqual([state.failed, state.sourceLost], [false, false]);
  });

  it('a swap that never takes over (no keyframe in time): given up, the bitrate stays as it is', () => {
    const { state, said } = play(URL_SOURCE, [
      { type: 'start', at: 0 },
      { type: 'bitrate', kbps: 2000, at: 100 },
      { type: 'staged-timeout', run: 2, at: 10_100 },
      exit(2, 10_200, 1, false),
    ]);
    assert.deepEqual(said[2], ['kill 2']);
    assert.deepEqual(said[3], ['warn could not switch the encoder (exit 1): staying as it is']);
    assert.deepEqual([state.kbps, state.current?.id, state.counts.swaps], [3000, 1, 0]);
  });

  it('a swap that takes over counts as one; a new rate wanted meanwhile gives up the one under way for it', () => {
    const { state, said } = play(URL_SOURCE, [
      { type: 'start', at: 0 },
      { type: 'bitrate', kbps: 2000, at: 100 },
      { type: 'bitrate', kbps: 1500, at: 200 },
      { type: 'taken', run: 2, at: 900 },
      { type: 'taken', run: 3, at: 1000 },
      { type: 'bitrate', kbps: 1500, at: 1100 },
    ]);
    assert.deepEqual(said[2], ['abandon 2', 'stage 3 source swap', 'timer staged 10000'], 'the link fell further');
    assert.deepEqual(said[3], [], 'the one given up never takes over');
    assert.deepEqual(said[4], ['current 3', 'stop 1']);
    assert.deepEqual(said[5], [], 'at that rate already: nothing');
    assert.deepEqual([state.counts.swaps, state.current?.kbps, state.staged], [1, 1500, undefined]);
  });

  it('listen: nothing until a publish; its first keyframe starts the encoder; it leaves: the slate', () => {
    const { state, said } = play(LISTEN, [
      { type: 'start', at: 0 },
      { type: 'publish', publisher: 1, at: 1000 },
      { type: 'ready', publisher: 1, audio: false, at: 1200 },
      { type: 'gone', publisher: 1, reason: 'the encoder stopped publishing', at: 9000 },
    ]);
    assert.deepEqual(said[0], []);
    assert.deepEqual(said[1], ['destinations']);
    assert.deepEqual(said[2], ['run 1 source', 'current 1', 'say live']);
    assert.deepEqual(said[3], [
      'say slate (the encoder stopped publishing)',
      'timer slate 600000',
      'stage 2 slate',
      'timer staged 10000',
    ]);
    assert.equal(state.counts.slates, 1);
  });

  it('a publisher that comes back during a swap: the old one’s swap is given up, its own encoder starts', () => {
    const { state, said } = play(LISTEN, [
      { type: 'publish', publisher: 1, at: 0 },
      { type: 'ready', publisher: 1, audio: true, at: 100 },
      { type: 'bitrate', kbps: 2000, at: 1000 },
      { type: 'gone', publisher: 1, reason: 'closed', at: 1100 },
      { type: 'publish', publisher: 2, at: 1500 },
      { type: 'ready', publisher: 2, audio: true, at: 1600 },
    ]);
    assert.deepEqual(said[2], ['stage 2 source swap', 'timer staged 10000']);
    assert.deepEqual(said[3], [
      'abandon 2',
      'say slate (closed)',
      'timer slate 600000',
      'stage 3 slate',
      'timer staged 10000',
    ]);
    // the slate is still staged: the publisher's encoder replaces it, to take over on its keyframe
    assert.deepEqual(said[5], ['stage 4 source', 'abandon 3', 'timer staged 10000']);
    assert.deepEqual([state.staged?.id, state.staged?.publisher, state.staged?.kbps], [4, 2, 2000]);
  });

  it('an ingest’s encoder that fails with its publisher still there: the publisher is cut off, saying why', () => {
    const { said } = play(LISTEN, [
      { type: 'publish', publisher: 1, at: 0 },
      { type: 'ready', publisher: 1, audio: true, at: 100 },
      exit(1, 5000),
    ]);
    assert.deepEqual(said[2], ['close publisher 1 (exit 1)']);
  });

  it('--copy: the destinations dial only once the stream is accepted; listen with no slate time: lost ends it', () => {
    const setup = { ...LISTEN, copy: true, slateTimeoutMs: 0 };
    const { state, said } = play(setup, [
      { type: 'publish', publisher: 1, at: 0 },
      { type: 'ready', publisher: 1, audio: true, at: 2100 },
      { type: 'gone', publisher: 1, reason: 'closed', at: 9000 },
      exit(1, 9001, 0),
    ]);
    assert.deepEqual(said[0], []);
    assert.deepEqual(said[1], ['destinations', 'run 1 source', 'current 1', 'say live']);
    // (the publishers end a --copy run with its publisher: the machine stops it once, with the stream)
    assert.deepEqual(said[2], ['say slate (closed)', 'stop 1']);
    assert.deepEqual([state.phase, state.sourceLost, state.counts.slates], ['ended', true, 0], 'no slate played');
  });

  it('no slate (a test pattern): a stall is a restart at once; with --duration the new one gets what is left', () => {
    const setup = { ...TESTSRC, durationMs: 60_000 };
    const { state, said } = play(setup, [
      { type: 'start', at: 0 },
      { type: 'tick', fed: true, silentS: 0, stillMs: 11_000, at: 20_000 },
      {
        type: 'exited',
        run: 1,
        exit: { exitCode: undefined, signal: 'SIGKILL' },
        reason: 'the encoder was stopped (SIGKILL)',
        fed: true,
        at: 20_100,
      },
      exit(2, 60_000, 0),
    ]);
    assert.deepEqual(said[0], ['destinations', 'timer duration 75000', 'run 1 source -t 60000', 'current 1']);
    assert.deepEqual(said[1], ['warn the encoder made no progress for 10 s: restarting it', 'kill 1']);
    assert.deepEqual(said[2], ['run 2 source -t 39900', 'current 2']);
    assert.deepEqual(said[3], ['done']);
    assert.deepEqual([state.failed, state.counts.restarts], [false, 1]);
  });

  it('no slate, stdin: a stall cannot be restarted (stdin is read once): the stream fails', () => {
    const { state } = play({ ...TESTSRC, restartable: false }, [
      { type: 'start', at: 0 },
      { type: 'tick', fed: true, silentS: 0, stillMs: 11_000, at: 20_000 },
      exit(1, 20_100, 0),
    ]);
    assert.deepEqual([state.phase, state.failed, state.counts.restarts], ['ended', true, 0], 'nothing restarted');
  });

  it('a slate’s encoder that cannot run (ends within 5 s) fails the stream; one that ran is started again', () => {
    const base: SourceEvent[] = [{ type: 'start', at: 0 }, exit(1, 1000), { type: 'taken', run: 2, at: 1500 }];
    const early = play(URL_SOURCE, [...base, exit(2, 3000)]);
    assert.deepEqual([early.state.phase, early.state.failed], ['ended', true]);
    const later = play(URL_SOURCE, [...base, exit(2, 60_000)]);
    // staged: it takes over from the one that ended on its first keyframe
    assert.deepEqual(later.said.at(-1), ['stage 3 slate', 'timer staged 10000']);
  });

  it('a stuck source with a slate: one restart counted, and the slate while it comes back', () => {
    const { state, said } = play(URL_SOURCE, [
      { type: 'start', at: 0 },
      { type: 'tick', fed: true, silentS: 0, stillMs: 10_500, at: 12_000 },
      exit(1, 12_100, undefined),
    ]);
    assert.deepEqual(said[1], ['warn the encoder made no progress for 10 s: stopping it', 'kill 1']);
    assert.ok(said[2]!.includes('stage 2 slate'));
    assert.deepEqual(state.counts, { restarts: 1, slates: 1, swaps: 0 });
  });

  it('--duration counts from the first publish (an encoder that comes an hour late still gets all of it)', () => {
    const { said } = play({ ...LISTEN, durationMs: 60_000 }, [
      { type: 'publish', publisher: 1, at: 3_600_000 },
      { type: 'ready', publisher: 1, audio: true, at: 3_600_100 },
    ]);
    assert.deepEqual(said[0], ['destinations', 'timer duration 60000']);
  });
});
