import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialState, isReportable, liveMsAt, nextState, type DestinationEvent } from '../../src/state/destination.js';
import { afterLoss, DEFAULT_RETRY, retryDelay } from '../../src/state/backoff.js';

const run = (events: DestinationEvent[]) => events.reduce(nextState, initialState(0));
const retry = (at: number, attempt: number, reason = 'connection refused'): DestinationEvent => ({
  type: 'retry',
  at,
  attempt,
  delayMs: 1000,
  nextRetryAt: at + 1000,
  reason,
});

describe('destination state machine', () => {
  it('connecting → live → reconnecting (counted, with attempt, delay and reason) → live', () => {
    const s1 = run([{ type: 'live', at: 1000 }, retry(5000, 1), retry(6000, 2, 'reset')]);
    assert.deepEqual(
      [s1.name, s1.attempt, s1.reconnects, s1.reason, s1.delayMs, s1.nextRetryAt],
      ['reconnecting', 2, 1, 'reset', 1000, 7000],
    );
    assert.equal(s1.liveMs, 4000);
    const s2 = nextState(s1, { type: 'live', at: 8000 });
    assert.deepEqual([s2.name, s2.reason, s2.attempt, s2.nextRetryAt], ['live', undefined, 0, undefined]);
    assert.equal(liveMsAt(s2, 9000), 5000);
  });

  it('a retry before ever being live does not count as a reconnect', () => {
    assert.equal(run([retry(100, 1), retry(1200, 2)]).reconnects, 0);
  });

  it('a refusal is rejected at once; while retries remain it can still go live; the last refusal is final', () => {
    const r1 = run([
      {
        type: 'rejected',
        at: 10,
        reason: 'Already publishing',
        final: false,
        attempt: 1,
        delayMs: 5000,
        nextRetryAt: 5010,
      },
    ]);
    assert.deepEqual(
      [r1.name, r1.reason, r1.nextRetryAt, r1.terminal],
      ['rejected', 'Already publishing', 5010, false],
    );
    assert.equal(nextState(r1, { type: 'live', at: 6000 }).name, 'live');
    assert.equal(nextState(r1, { type: 'stop', at: 6000 }).name, 'rejected', 'ends rejected');
    const r = run([
      { type: 'rejected', at: 10, reason: 'Already publishing', final: true },
      { type: 'live', at: 20 },
    ]);
    assert.deepEqual([r.name, r.reason], ['rejected', 'Already publishing']);
    assert.equal(
      run([
        { type: 'failed', at: 10, reason: 'gave up' },
        { type: 'stop', at: 20 },
      ]).name,
      'failed',
    );
  });

  it('stop: live → stopped; never live → failed with the last reason', () => {
    assert.equal(
      run([
        { type: 'live', at: 10 },
        { type: 'stop', at: 20 },
      ]).name,
      'stopped',
    );
    assert.deepEqual(((s) => [s.name, s.reason])(run([retry(10, 1), { type: 'stop', at: 20 }])), [
      'failed',
      'connection refused',
    ]);
    assert.equal(run([{ type: 'stop', at: 20 }]).reason, 'never went live');
  });

  it('every retry is reportable, a repeated live is not', () => {
    const a = run([retry(10, 1)]);
    assert.equal(isReportable(a, nextState(a, retry(20, 2))), true);
    const l = run([{ type: 'live', at: 10 }]);
    assert.equal(isReportable(l, nextState(l, { type: 'live', at: 20 })), false);
  });

  it('the last refusal is reported: rejected with no next try, after a rejected that had one', () => {
    const second = run([
      { type: 'rejected', at: 10, reason: 'BadName', final: false, attempt: 2, delayMs: 7500, nextRetryAt: 7510 },
    ]);
    const last = nextState(second, { type: 'rejected', at: 7600, reason: 'BadName', final: true });
    assert.equal(isReportable(second, last), true);
    assert.deepEqual(
      [last.name, last.terminal, last.nextRetryAt, last.delayMs],
      ['rejected', true, undefined, undefined],
    );
    // the end of the run changes nothing the user needs to hear again
    assert.equal(isReportable(last, nextState(last, { type: 'stop', at: 9000 })), false);
    assert.equal(isReportable(second, nextState(second, { type: 'stop', at: 9000 })), false);
  });
});

describe('retryDelay', () => {
  it('starts at 1 s, grows ×1.5', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => retryDelay(DEFAULT_RETRY, n, false, 0.5)),
      [1000, 1500, 2250, 3375],
    );
  });
  it(
    'never waits longer than the cap; ' + 'at the cap the jitter only shortens, so capped destinations still spread',
    () => {
      const capped = [0, 0.25, 0.5, 0.75, 0.999999].map((r) => retryDelay(DEFAULT_RETRY, 50, false, r));
      assert.deepEqual(capped, [30_000, 28_500, 27_000, 25_500, 24_000]);
      const short = { ...DEFAULT_RETRY, maxMs: 1000 };
      for (let attempt = 1; attempt <= 6; attempt++) {
        for (const r of [0, 0.3, 0.6, 0.999999])
          assert.ok(retryDelay(short, attempt, false, r) <= 1000, `attempt ${attempt}, random ${r}`);
      }
      assert.equal(retryDelay(short, 1, true, 0.999999), 800, 'a refusal is capped too');
    },
  );
  it('jitter spreads ±20 %', () => {
    assert.equal(retryDelay(DEFAULT_RETRY, 1, false, 0), 800);
    assert.equal(retryDelay(DEFAULT_RETRY, 1, false, 0.999999), 1200);
  });
  it('a refusal waits longer', () => {
    assert.equal(retryDelay(DEFAULT_RETRY, 1, true, 0.5), 5000);
  });
});

describe('afterLoss (the retry policy, pure)', () => {
  const policy = { ...DEFAULT_RETRY, jitter: 0, maxRetries: 2 };
  const run = (losses: ('refused' | 'network' | 'final')[]) => {
    const counters = { attempt: 0, rejections: 0 };
    return losses.map((l) => {
      const d = afterLoss(policy, counters, l, 0.5);
      return d.kind === 'give-up'
        ? `give up: ${d.as}`
        : `${d.refused ? 'refused' : 'retry'} ${d.attempt} in ${d.delayMs}`;
    });
  };
  it('network losses back off ×1.5 and give up past maxRetries', () => {
    assert.deepEqual(run(['network', 'network', 'network']), ['retry 1 in 1000', 'retry 2 in 1500', 'give up: failed']);
  });
  it('refusals wait longer, and the third in a row is final', () => {
    assert.deepEqual(run(['refused', 'refused', 'refused']), [
      'refused 1 in 5000',
      'refused 2 in 7500',
      'give up: rejected',
    ]);
  });
  it('a network loss between refusals starts their count again; a final loss gives up at once', () => {
    assert.deepEqual(run(['refused', 'network', 'refused']), [
      'refused 1 in 5000',
      'retry 1 in 1000',
      'refused 1 in 5000',
    ]);
    assert.deepEqual(run(['final']), ['give up: rejected']);
  });
});
