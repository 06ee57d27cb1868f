import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { resolveStream } from '../../src/cli/options.js';
import { tempDir } from '../helpers/tmp.js';

describe('precedence: defaults → config file → environment → flags', () => {
  const dir = tempDir('precedence');
  writeFileSync(
    path.join(dir, 'rtmpush.config.json'),
    JSON.stringify({ defaults: { preset: '480p30', source: 'testsrc', to: ['local'] } }),
  );
  const resolve = (flags: Record<string, unknown>, env: Record<string, string> = {}) =>
    resolveStream({ to: [], ...flags }, { env: { XDG_CONFIG_HOME: dir, ...env }, cwd: dir, os: 'linux' }).plan;

  it('a default nobody set: 720p30 (no config file)', () => {
    const plan = resolveStream(
      { to: ['local'] },
      { env: { XDG_CONFIG_HOME: dir }, cwd: tempDir('none'), os: 'linux' },
    ).plan;
    assert.equal(plan.preset, '720p30');
  });
  it('the config file beats the default', () => assert.equal(resolve({}).preset, '480p30'));
  it('the environment beats the config file', () =>
    assert.equal(resolve({}, { RTMPUSH_PRESET: '360p30' }).preset, '360p30'));
  it('a flag beats the environment', () => {
    assert.equal(resolve({ preset: '1080p30' }, { RTMPUSH_PRESET: '360p30' }).preset, '1080p30');
  });
  it('destinations too: config defaults, then RTMPUSH_TO, then --to', () => {
    const labels = (p: ReturnType<typeof resolve>) => p.destinations.map((d) => d.label);
    assert.deepEqual(labels(resolve({})), ['local']);
    assert.deepEqual(labels(resolve({}, { RTMPUSH_TO: 'env=rtmp://h/live/envkey1' })), ['env']);
    assert.deepEqual(
      labels(resolve({ to: ['flag=rtmp://h/live/flagkey1'] }, { RTMPUSH_TO: 'env=rtmp://h/live/envkey1' })),
      ['flag'],
    );
  });
  it(
    'a key typed in --to is warned about (other local users see the command line); ' +
      'one from the environment is not',
    () => {
      const typed = resolveStream({ to: ['a=rtmp://h/live/typedKey99'] }, { env: {}, cwd: dir, os: 'linux' });
      assert.ok(typed.config.warnings.some((w) => /a: a key typed in --to is visible to other local users/.test(w)));
      const fromEnv = resolveStream(
        { to: [] },
        { env: { RTMPUSH_TO: 'a=rtmp://h/live/typedKey99' }, cwd: dir, os: 'linux' },
      );
      assert.ok(!fromEnv.config.warnings.some((w) => /typed in --to/.test(w)));
    },
  );
});

describe('an uplink too small for its destinations', () => {
  const resolve = (env: Record<string, string>) =>
    resolveStream(
      { to: ['a=rtmp://127.0.0.1/live/keyA1', 'b=rtmp://127.0.0.1/live/keyB1'], uplink: '150k' },
      { env: { XDG_CONFIG_HOME: tempDir('uplink-small'), ...env }, cwd: tempDir('uplink-cwd'), os: 'linux' },
    );
  it('loopback servers use no uplink: nothing to share, nothing refused', () => {
    assert.ok(resolve({}).plan.video.kbps >= 100);
  });
  it('counted (RTMPUSH_UPLINK_LOOPBACK=count): refused, naming the destinations that share it', () => {
    assert.throws(
      () => resolve({ RTMPUSH_UPLINK_LOOPBACK: 'count' }),
      /for each of 2 destinations, below the 100 kbps/,
    );
  });
});
