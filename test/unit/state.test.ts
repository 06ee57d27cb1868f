import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QUIET_MS, initialState, liveMsAt, nextState, type DestinationEvent } from '../../src/state/destination.js';

const run = (events: DestinationEvent[]) => events.reduce(nextState, initialState(0));

describe('destination state machine', () => {
  it('connecting until the leg has streamed quietly, then live', () => {
    assert.equal(run([{ type: 'encoder-progress', at: QUIET_MS - 1 }]).name, 'connecting');
    const s = run([{ type: 'encoder-progress', at: QUIET_MS }]);
    assert.equal(s.name, 'live');
    assert.equal(s.everLive, true);
  });

  it('an error sends a live leg to reconnecting, counts attempts, and it comes back', () => {
    const s1 = run([
      { type: 'encoder-progress', at: 3000 },
      { type: 'leg-error', at: 5000, reason: 'Broken pipe' },
      { type: 'leg-error', at: 6000, reason: 'Connection refused' },
    ]);
    assert.deepEqual([s1.name, s1.attempt, s1.reconnects, s1.reason], ['reconnecting', 2, 1, 'Connection refused']);
    const s2 = [{ type: 'leg-recovered', at: 7000 } as const, { type: 'encoder-progress', at: 9000 } as const, { type: 'encoder-progress', at: 9500 } as const].reduce(nextState, s1);
    assert.equal(s2.name, 'live');
    assert.equal(s2.liveMs, 2000);
    assert.equal(liveMsAt(s2, 10_500), 3000);
  });

  it('stop: live → stopped, never live → failed with the last reason', () => {
    assert.equal(run([{ type: 'encoder-progress', at: 3000 }, { type: 'stop', at: 4000 }]).name, 'stopped');
    const f = run([{ type: 'leg-error', at: 100, reason: 'Connection refused' }, { type: 'stop', at: 4000 }]);
    assert.deepEqual([f.name, f.reason], ['failed', 'Connection refused']);
    assert.equal(run([{ type: 'stop', at: 10 }]).reason, 'never confirmed live');
  });

  it('final states do not move', () => {
    const s = run([{ type: 'stop', at: 10 }, { type: 'encoder-progress', at: 5000 }]);
    assert.equal(s.name, 'failed');
  });
});
