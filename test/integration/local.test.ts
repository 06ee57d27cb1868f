import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

describe('start --to local (the README command, shortened)', () => {
  it('streams the test pattern to the embedded server and reports what arrived', async () => {
    const r = await runCli(['start', '--to', 'local', '--preset', '360p30', '--duration', '8s', '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const received = r.events.find((e) => e.type === 'received');
    assert.ok(received, 'a received event');
    assert.equal(received.destination, 'local');
    assert.equal(received.meetsPreset, true, JSON.stringify(received.checks));
    assert.equal(received.summary.videoCodec, 'h264');
    assert.equal(received.summary.audioCodec, 'aac');
    assert.ok(received.summary.durationS >= 7, `duration ${received.summary.durationS}`);
    assert.deepEqual(
      r.events.filter((e) => e.destination === 'local' && e.type === 'state').map((e) => e.state),
      ['connecting', 'live', 'stopped'],
    );
    // only NDJSON on stdout: node-media-server's own logging must not leak into it
    for (const line of r.stdout.trim().split('\n')) assert.ok(line.startsWith('{"type":'), line);
  });

  it('without --json on a non-terminal: plain timestamped lines on stderr, nothing on stdout', async () => {
    const r = await runCli(['start', '--to', 'local', '--preset', '360p30', '--duration', '5s']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^\d{4}-\d\d-\d\dT[\d:.]+Z local: live$/m);
    assert.match(r.stderr, /local received \d+(\.\d+)? s: h264/);
    assert.match(r.stderr, /meets the preset/);
    assert.ok(!r.stderr.includes('\u001b['), 'no colour codes');
  });
});
