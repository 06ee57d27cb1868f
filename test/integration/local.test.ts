import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import path from 'node:path';
import { execa } from 'execa';
import { LocalServer } from '../../src/run/local-server.js';
import { runCli } from '../helpers/cli.js';
import { probe } from '../helpers/probe.js';

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

describe("the embedded server's recordings stay bounded (a day of --to local)", () => {
  it('records the first seconds of a publish and the newest publishes only; the publish itself goes on', async () => {
    const local = new LocalServer(new Set(['boundedKey123']), { seconds: 2, files: 3 });
    await local.start();
    try {
      // ffmpeg publishes as fast as it encodes: three publishes of 1 s, then one of 6 s (its frames' timestamps)
      const publish = (seconds: number) =>
        execa('ffmpeg', [
          ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc=size=160x120:rate=25:d=${seconds}`],
          ...['-f', 'lavfi', '-i', `sine=d=${seconds}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25'],
          ...['-c:a', 'aac', '-f', 'flv', `rtmp://127.0.0.1:${local.port}/live/boundedKey123`],
        ]);
      for (let i = 0; i < 3; i++) await publish(1);
      await publish(6); // execa throws unless ffmpeg's publish went on to its end past what is recorded
      await local.stop(); // every recording on disk
      const files = local.recordings('/live/boundedKey123');
      assert.deepEqual(
        files.map((f) => path.basename(f)),
        ['002.flv', '003.flv', '004.flv'],
        'the oldest recording made room for the newest; numbers are not reused',
      );
      const last = await probe(files[2]!);
      assert.ok(last.durationS >= 1.5 && last.durationS <= 2.5, `recorded ${last.durationS} s of 6`);
      assert.equal(local.recordedFirst(files[2]!), 2);
      assert.equal(local.recordedFirst(files[1]!), undefined, 'a 1 s publish is recorded whole');
      assert.ok((await probe(files[1]!)).durationS >= 0.8);
    } finally {
      await local.stop();
      local.cleanup();
    }
  });
});
