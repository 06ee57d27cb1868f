import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { runCli } from '../../helpers/cli.js';
import { NginxRtmp } from '../../helpers/nginx.js';
import { freePort } from '../../helpers/ports.js';
import { startCli } from '../../helpers/spawn.js';
import { flashBeepInputs, flashBeepOffsets, mp4DecodeErrors, swapReport } from '../../helpers/swap-check.js';
import { tempDir } from '../../helpers/tmp.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FRAME_MS = 1000 / 30;
const AUDIO_FRAME_MS = 1024 / 48;

/** An encoder as OBS is one, whose picture flashes white as its 1 kHz beep starts, at every whole second. */
function flashBeep(port: number, gop: number): ResultPromise {
  return execa(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', ...flashBeepInputs('640x360', 30)],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(gop), '-c:a', 'aac', '-f', 'flv'],
      `rtmp://127.0.0.1:${port}/live/any`,
    ],
    { reject: false, stdin: 'ignore' },
  );
}

/** What the run's status and metrics said while the last publisher was live. */
interface Seen {
  status: Record<string, any>;
  metrics: string;
}

/**
 * A stream whose encoder publishes to rtmpush, is killed twice and comes back each time 5 s later (`step`: the
 * operator halves the bitrate meanwhile, through the control socket); returns the server's recording (a copy
 * kept in a folder of the test's), the run's events, and what its status and metrics said at the end.
 */
async function lostTwice(extra: string[], label: string, { step = false, gop = 60 } = {}) {
  /** What the server acknowledged, read from the metrics every 250 ms: [ms since the start, bytes]. */
  const acked: [number, number][] = [];
  let sampling: NodeJS.Timeout | undefined;
  const nginx = new NginxRtmp();
  await nginx.start();
  const [port, metricsPort] = [await freePort(), await freePort()];
  const dir = tempDir('swaps');
  const env = { RTMPUSH_RUNTIME_DIR: path.join(dir, 'run') };
  const run = startCli(
    [
      ...['start', '--source', 'listen', '--listen', `127.0.0.1:${port}`, '--preset', '360p30', '--name', label],
      ...[
        '--to',
        `a=${nginx.url('live', label)}`,
        '--json',
        '--uplink',
        'off',
        '--metrics',
        `127.0.0.1:${metricsPort}`,
      ],
      ...extra,
    ],
    env,
  );
  const seen: Seen = { status: {}, metrics: '' };
  const startedAt = Date.now();
  try {
    await run.waitFor((e) => e.type === 'source' && e.state === 'waiting', 15_000);
    sampling = setInterval(async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`).catch(() => undefined))?.text();
      const bytes = text?.match(/^rtmpush_destination_acknowledged_bytes_total\{[^}]*\} (\d+)$/m)?.[1];
      if (bytes) acked.push([Date.now() - startedAt, Number(bytes)]);
    }, 250);
    let publisher: ResultPromise | undefined;
    for (const [i, seconds] of [10, 10, 8].entries()) {
      publisher = flashBeep(port, gop);
      await until(() => sourceStates(run.events, 'live') > i, 15_000);
      if (i === 1 && step) {
        await sleep(3000);
        const asked = await runCli(['bitrate', '500k', '--name', label], env);
        assert.equal(asked.exitCode, 0, asked.stderr);
        assert.match(
          asked.stdout,
          /^video bitrate 500 kbps \(was 800\): at most 500 kbps until `rtmpush bitrate auto`$/m,
        );
        await run.waitFor((e) => e.type === 'bitrate' && e.kbps === 500, 5000);
      }
      await sleep(seconds * 1000);
      if (i === 2) {
        seen.status = JSON.parse((await runCli(['status', '--name', label, '--json'], env)).stdout);
        seen.metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        break;
      }
      publisher.kill('SIGKILL');
      await publisher;
      await until(() => sourceStates(run.events, 'slate') > i, 5000);
      await sleep(5000);
    }
    // stopped while the source is live: the stream ends with it
    clearInterval(sampling);
    run.proc.kill('SIGTERM');
    const result = await run.proc;
    publisher?.kill('SIGKILL');
    await nginx.stop();
    const file = path.join(dir, `${label}.flv`);
    copyFileSync(nginx.recording(label), file);
    return { file, events: run.events, exitCode: result.exitCode, seen, acked, startedAt };
  } finally {
    clearInterval(sampling);
    run.proc.kill('SIGKILL');
    await nginx.dispose();
  }
}

/** The most the server took in any one second of [from, to) (ms since the start), in kbps. */
function peakSecondKbps(acked: [number, number][], from: number, to: number): number {
  let peak = 0;
  for (const [at, bytes] of acked) {
    if (at < from || at + 1000 > to) continue;
    const later = acked.find(([t]) => t >= at + 1000);
    if (later) peak = Math.max(peak, ((later[1] - bytes) * 8) / (later[0] - at));
  }
  return Math.round(peak);
}

const sourceStates = (events: Record<string, any>[], state: string) =>
  events.filter((e) => e.type === 'source' && e.state === state).length;

async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await sleep(100);
  }
}

/** The timestamp rules a swap must keep, as the server recorded the stream. */
function assertSeamless(file: string, swaps: number, keyintMs = 2000): void {
  const r = swapReport(file);
  assert.equal(r.endOfSequenceBeforeEnd, 0, 'no end of sequence before the last frame');
  const oddVideo = r.videoSteps.filter((s) => Math.abs(s - FRAME_MS) > 1);
  assert.deepEqual(oddVideo, [], 'every video frame 1/fps after the one before (± 1 ms), across every swap');
  const oddShown = r.presentationSteps.filter((s) => Math.abs(s - FRAME_MS) > 1);
  assert.deepEqual(oddShown, [], 'shown 1/fps apart too: no picture missing or twice at a swap');
  // no hole over one audio frame; an overlap dropped leaves at least half a frame; never back
  const holes = r.audioSteps.filter((s) => s < AUDIO_FRAME_MS / 2 - 1 || s - AUDIO_FRAME_MS > AUDIO_FRAME_MS);
  assert.deepEqual(holes, [], 'audio frames 10.7 to 42.7 ms apart');
  assert.equal(r.avcHeaderRepeats, 0, 'parameter sets the decoder has are never sent again');
  assert.ok(Math.max(...r.keyframeIntervals) <= keyintMs + 1, `keyframes ${r.keyframeIntervals.join(' ')}`);
  const shorter = r.keyframeIntervals.filter((k) => k < keyintMs - 10).length;
  assert.ok(shorter <= swaps, `${shorter} shorter keyframe intervals for ${swaps} swaps`);
  assert.ok(r.videoFrames > 30 * 35, `${r.videoFrames} frames`);
}

describe('swaps change nothing but the picture: an encoder lost twice and back (flash + beep each second)', () => {
  it('re-encoded, a bitrate step between: parameter sets per bitrate, no step, in sync, decodable as MP4', async () => {
    const { file, events, exitCode, seen } = await lostTwice([], 'swapEnc1', { step: true });
    assert.equal(exitCode, 0);
    assert.deepEqual(
      events.filter((e) => e.type === 'state').map((e) => e.state),
      ['connecting', 'live', 'stopped'],
      'one session: never reconnecting',
    );
    assert.equal(sourceStates(events, 'slate'), 2);
    const r = swapReport(file);
    // the slate is encoded with the source's parameter sets; the bitrate step changes the HRD figures only
    assert.equal(r.avcHeaders.length, 2, 'one set of parameter sets per bitrate');
    assertSeamless(file, 5);
    // each figure counted apart, from the one place swaps are decided
    assert.deepEqual([seen.status.encoder.restarts, seen.status.encoder.slates, seen.status.encoder.swaps], [0, 2, 1]);
    assert.match(seen.metrics, /^rtmpush_slates_total 2$/m);
    assert.match(seen.metrics, /^rtmpush_encoder_swaps_total 1$/m);
    assert.match(seen.metrics, /^rtmpush_encoder_restarts_total 0$/m);
    assert.deepEqual(mp4DecodeErrors(file), [], 'cut into MP4, every frame decodes');
    assert.equal(r.aacHeaders.length, 1, 'one AAC configuration: every encoder’s audio is the same');
    const sync = flashBeepOffsets(file);
    assert.ok(sync.offsets.length >= 25, `${sync.offsets.length} flashes paired with beeps`);
    // each flash with its own beep (their lengths say which second they are), but where a loss (2), the bitrate
    // step or the end cut the beep short (a whole-second slip would leave nearly every flash unpaired)
    assert.ok(sync.unpaired <= 4, `${sync.unpaired} of ${sync.flashes} unpaired: ${sync.unpairedAt.join('; ')}`);
    // the bitrate step's new encoder starts a few frames behind the one it replaces: those pictures show twice
    assert.ok(sync.repeated <= 1, `${sync.repeated} flashes shown twice`);
    const worst = Math.max(...sync.offsets.map(Math.abs));
    assert.ok(worst <= FRAME_MS + 1, `every flash within a frame of its beep: ${sync.offsets.join(' ')}`);
  });

  it('--copy: the publisher’s stream and the slate’s, spliced with no end of sequence, no step, no burst', async () => {
    const { file, events, exitCode, acked, startedAt } = await lostTwice(['--copy'], 'swapCopy1');
    assert.equal(exitCode, 0);
    // what goes out is said: copied, not encoded; and, at each publish, what the check accepted
    const start = events.find((e) => e.type === 'start')!;
    assert.match(start.video, /^H\.264 as the encoder sends it \(copied, not encoded/);
    assert.equal(start.encodes[0].encoder, 'copy');
    const copies = events.filter((e) => e.type === 'copy');
    assert.equal(copies.length, 3, 'one per publish');
    assert.deepEqual(
      [copies[0]!.width, copies[0]!.height, copies[0]!.fps, copies[0]!.keyintS, copies[0]!.audioSampleRate],
      [640, 360, 30, 2, 48000],
    );
    // the frame rate is the stream's own (it read 90-281 at each takeover)
    const fps = events.filter((e) => e.type === 'stats' && e.fps > 0).map((e) => e.fps as number);
    assert.ok(Math.max(...fps) <= 31 && Math.min(...fps) >= 29, `stats.fps ${Math.min(...fps)}..${Math.max(...fps)}`);
    assert.deepEqual(
      events.filter((e) => e.type === 'state').map((e) => e.state),
      ['connecting', 'live', 'stopped'],
    );
    assert.ok(!events.some((e) => e.type === 'warning' && /congested/.test(e.message)), 'never congested');
    // the publisher's parameter sets and the slate's, each sent once: a new set at each swap, none repeated
    const r = swapReport(file);
    assert.equal(r.avcHeaders.length, 2);
    assertSeamless(file, 4);
    // back after the slate, the copy goes on live from a keyframe: the held first GOP is not written at once, so no
    // second after it carries more than the stream's own busiest second (its first GOP in one burst read 3×)
    const lives = events
      .filter((e) => e.type === 'source' && e.state === 'live')
      .map((e) => Date.parse(e.time) - startedAt);
    const slates = events
      .filter((e) => e.type === 'source' && e.state === 'slate')
      .map((e) => Date.parse(e.time) - startedAt);
    const steady = peakSecondKbps(acked, lives[0]! + 2000, slates[0]!);
    assert.ok(steady > 500, `the stream's busiest second: ${steady} kbps`);
    for (const back of lives.slice(1)) {
      const after = peakSecondKbps(acked, back - 500, back + 4000);
      assert.ok(after <= steady * 1.1, `${after} kbps in a second after the slate, the stream at most ${steady}`);
    }
  });

  it('--copy with OBS’s default 8.33 s keyframe interval, lost 5 s and back: no hole, never congested', async () => {
    const { file, events, exitCode } = await lostTwice(['--copy'], 'swapCopyLong1', { gop: 250 });
    assert.equal(exitCode, 0);
    const keyintS = events.find((e) => e.type === 'copy')?.keyintS;
    assert.ok(Math.abs(keyintS - 250 / 30) < 0.05, `keyframes every ${keyintS} s`);
    assert.ok(!events.some((e) => e.type === 'warning' && /congested/.test(e.message)), 'never congested');
    assert.deepEqual(
      events.filter((e) => e.type === 'state').map((e) => e.state),
      ['connecting', 'live', 'stopped'],
    );
    const r = swapReport(file);
    assert.equal(r.endOfSequenceBeforeEnd, 0);
    // the slate goes on until the copy's second keyframe: pictures every frame, and the sound with them
    const worst = Math.max(...r.videoSteps);
    assert.ok(worst <= FRAME_MS + 1, `the largest step in video timestamps: ${worst} ms`);
    assert.ok(Math.max(...r.audioSteps) <= 2 * AUDIO_FRAME_MS, `audio steps up to ${Math.max(...r.audioSteps)} ms`);
  });
});
