import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Plan } from '../../src/plan/plan.js';
import type { Source } from '../../src/plan/source.js';
import { encoderSwappable } from '../../src/source/setup.js';

/** What encoderSwappable reads of a plan: its source, its slate, --copy. */
const plan = (source: Source, more: { copy?: boolean; slateMs?: number } = {}): Plan =>
  ({
    source,
    slate: { image: true, timeoutMs: more.slateMs ?? 600_000 },
    ...(more.copy ? { copy: true } : {}),
  }) as unknown as Plan;
const file = (more: Partial<Extract<Source, { kind: 'file' }>>): Source => ({
  kind: 'file',
  path: '/media/a.mp4',
  loop: false,
  hasAudio: true,
  ...more,
});

describe('which sources follow the uplink (their encoder can be swapped while the first still runs)', () => {
  it('the test pattern, a regular file, an ingest, a URL, a screen: yes', () => {
    assert.equal(encoderSwappable(plan({ kind: 'testsrc' })), true);
    assert.equal(encoderSwappable(plan(file({ seekable: true }))), true);
    assert.equal(encoderSwappable(plan(file({ seekable: true, loop: true, durationS: 30 }))), true);
    assert.equal(encoderSwappable(plan({ kind: 'listen' })), true);
    assert.equal(encoderSwappable(plan({ kind: 'url', url: 'rtmp://h/a/b', private: false })), true);
  });

  it('a FIFO or device given as a file, a looped file of unknown length, stdin, a camera, --copy: no', () => {
    assert.equal(encoderSwappable(plan(file({ seekable: false }))), false);
    assert.equal(encoderSwappable(plan(file({}))), false, 'not known to be a regular file');
    assert.equal(encoderSwappable(plan(file({ seekable: true, loop: true }))), false);
    assert.equal(encoderSwappable(plan({ kind: 'stdin' })), false);
    assert.equal(encoderSwappable(plan({ kind: 'camera', os: 'linux' })), false);
    assert.equal(encoderSwappable(plan({ kind: 'testsrc' }, { copy: true })), false);
    assert.equal(encoderSwappable(plan({ kind: 'url', url: 'rtmp://h/a/b', private: false }, { slateMs: 0 })), false);
  });
});
