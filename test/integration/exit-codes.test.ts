import assert from 'node:assert/strict';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { runCli } from '../helpers/cli.js';
import { NginxRtmp } from '../helpers/nginx.js';
import { freePort } from '../helpers/ports.js';
import { startCli } from '../helpers/spawn.js';
import { tempDir } from '../helpers/tmp.js';

/** A stand-in for ffmpeg (a shell script), to make rtmpush's own side fail on purpose. */
function encoder(name: string, body: string): string {
  const file = path.join(tempDir('encoder'), name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const errors = (events: Record<string, any>[]) => events.filter((e) => e.type === 'error').map((e) => e.code);

describe('exit 1: rtmpush’s own side failed', () => {
  // a real server, not `local`: the exit code must come from the encoder's failure alone
  const nginx = new NginxRtmp();
  before(() => nginx.start());
  after(() => nginx.dispose());

  it('an encoder that fails: encoder-failed, exit 1', async () => {
    const to = `d=${nginx.url('live', 'encoderFailsKey1')}`;
    const r = await runCli([
      'start',
      '--to',
      to,
      '--duration',
      '5s',
      '--json',
      '--ffmpeg',
      encoder('fails.sh', 'exit 1'),
    ]);
    assert.equal(r.exitCode, 1, r.stdout);
    assert.ok(errors(r.events).includes('encoder-failed'), r.stdout);
    assert.equal(r.events.at(-1)!.exitCode, 1);
  });

  it('a source that cannot be opened (a URL where nothing answers): encoder-failed, exit 1', async () => {
    const to = `d=${nginx.url('live', 'sourceFailsKey1')}`;
    const r = await runCli(['start', '--to', to, '--source', 'rtmp://127.0.0.1:1/live/nothingHere1', '--json']);
    assert.equal(r.exitCode, 1, r.stdout);
    assert.ok(errors(r.events).includes('encoder-failed'));
  });

  it('an encoder that ends at once having sent nothing: nothing-received at local, exit 1', async () => {
    const r = await runCli([
      'start',
      '--to',
      'local',
      '--duration',
      '5s',
      '--json',
      '--ffmpeg',
      encoder('quiet.sh', 'exit 0'),
    ]);
    assert.equal(r.exitCode, 1, r.stdout);
    assert.deepEqual(errors(r.events), ['never-live', 'nothing-received']);
  });
});

describe('exit 3: the destinations’ side, even when no destination was ever live', () => {
  const nginx = new NginxRtmp();
  before(() => nginx.start());
  after(() => nginx.dispose());

  it('every destination refused: never-live, exit 3 (not 1)', async () => {
    // 3 s: over before the first retry after a refusal (5 s ± 20 %), which could race the end and close as failed
    const r = await runCli(['start', '--to', `d=${nginx.url('deny', 'denyAllKey77')}`, '--duration', '3s', '--json']);
    assert.equal(r.exitCode, 3, r.stdout);
    assert.ok(errors(r.events).includes('never-live'));
    assert.equal(r.events.at(-1)!.destinations.d.finalState, 'rejected', r.stdout);
  });

  it('an ingest whose encoder was refused (a wrong key) and the run stopped: never-live, exit 3', async () => {
    const port = await freePort();
    const run = startCli(
      [
        ...['start', '--source', 'listen', '--listen', `127.0.0.1:${port}`, '--preset', '360p30', '--uplink', 'off'],
        ...['--to', `d=${nginx.url('live', 'neverPublishedKey1')}`, '--json'],
      ],
      { RTMPUSH_INGEST_KEY: 'theRightIngestKey1' },
    );
    await run.waitFor((e) => e.type === 'source' && e.state === 'waiting', 15_000);
    const refused = await execa(
      'ffmpeg',
      [
        ...['-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-t', '3'],
        ...['-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'flv', `rtmp://127.0.0.1:${port}/live/wrongKey`],
      ],
      { reject: false },
    );
    assert.notEqual(refused.exitCode, 0, 'the wrong key is refused');
    await run.waitFor((e) => e.type === 'warning' && /wrong stream key/.test(e.message));
    run.proc.kill('SIGTERM');
    const result = await run.proc;
    assert.equal(result.exitCode, 3);
    assert.ok(errors(run.events).includes('never-live'), JSON.stringify(run.events.map((e) => e.type)));
    assert.equal(run.events.at(-1)!.destinations.d.reason, 'no encoder published');
  });
});

describe('a leg rtmpush cannot read (its own side): the encoder is restarted, the destination goes on', () => {
  it('garbage on the first encoder’s leg: restarted once, live, exit 0', async () => {
    const dir = tempDir('leg-fault');
    const marker = path.join(dir, 'once');
    // the first encoder writes garbage where its FLV leg should start, then runs; the restarted one is clean
    const wrapper = encoder(
      'garbage-once.sh',
      `if [ ! -e '${marker}' ]; then touch '${marker}'; printf 'NOT FLV AT ALL' >&3; fi\nexec ffmpeg "$@"`,
    );
    const r = await runCli([
      'start',
      '--to',
      'local',
      '--preset',
      '360p30',
      '--duration',
      '8s',
      '--json',
      '--ffmpeg',
      wrapper,
      // x264 by name: no encoder probe runs the wrapper first (its first run must be the stream's)
      '--encoder',
      'x264',
    ]);
    assert.ok(existsSync(marker));
    const warnings = r.events.filter((e) => e.type === 'warning').map((e) => e.message as string);
    assert.ok(
      warnings.some((m) => /^the encoder's leg cannot be read \(.*FLV.*\): restarting it$/.test(m)),
      JSON.stringify(warnings),
    );
    assert.equal(r.exitCode, 0, r.stdout);
    assert.equal(r.events.at(-1)!.destinations.local.finalState, 'stopped');
  });
});
