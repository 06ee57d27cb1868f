import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  ENCODER_STALE_MS,
  encoderCacheFile,
  ffmpegKey,
  readEncoderCache,
  writeEncoderCache,
} from '../../src/probe/encoder-cache.js';
import {
  chooseEncoder,
  failureReason,
  listedHardwareEncoders,
  parseEncoderList,
  probeEncoder,
} from '../../src/probe/encoders.js';
import { UsageError } from '../../src/errors.js';
import { tempDir } from '../helpers/tmp.js';

const ENCODERS_OUTPUT = `Encoders:
 V..... = Video
 ------
 V....D libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)
 V....D libx264rgb           libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 RGB (codec h264)
 V....D h264_nvenc           NVIDIA NVENC H.264 encoder (codec h264)
 V..... h264_omx             OpenMAX IL H.264 video encoder (codec h264)
 V..... h264_qsv             H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (Intel Quick Sync Video acceleration)
 V..... h264_v4l2m2m         V4L2 mem2mem H.264 encoder wrapper (codec h264)
 V....D h264_vaapi           H.264/AVC (VAAPI) (codec h264)
 A....D aac                  AAC (Advanced Audio Coding)
`;

describe('reading ffmpeg', () => {
  it('parseEncoderList: the encoders rtmpush knows, in its order (h264_omx and the rest are not among them)', () => {
    assert.deepEqual(parseEncoderList(ENCODERS_OUTPUT), ['x264', 'nvenc', 'qsv', 'vaapi', 'v4l2m2m']);
    assert.deepEqual(parseEncoderList(' V....D libx264  x\n'), ['x264']);
    assert.deepEqual(parseEncoderList(''), []);
  });

  it('failureReason: the encoder’s or device’s own line, not ffmpeg’s summary', () => {
    const nvenc =
      '[h264_nvenc @ 0x55e183e3c740] [error] Cannot load libcuda.so.1\n' +
      '[error] Error initializing output stream 0:0 -- Error while opening encoder for output stream #0:0 - ' +
      'maybe incorrect parameters such as bit_rate, rate, width or height\n';
    assert.equal(failureReason(nvenc), 'Cannot load libcuda.so.1');
    const vaapi =
      '[AVHWDeviceContext @ 0x5581abe54a80] [error] No VA display found for device /dev/dri/renderD128.\n' +
      '[error] Device creation failed: -22.\n' +
      "[error] Failed to set value '/dev/dri/renderD128' for option 'vaapi_device': Invalid argument\n" +
      '[fatal] Error parsing global options: Invalid argument\n';
    assert.equal(failureReason(vaapi), 'No VA display found for device /dev/dri/renderD128');
    const v4l2 =
      '[h264_v4l2m2m @ 0x5643] [error] Could not find a valid device\n[h264_v4l2m2m @ 0x5643] [error] ' +
      "can't configure encoder\n";
    assert.equal(failureReason(v4l2), 'Could not find a valid device');
    // nothing more specific than the summary (h264_omx here): the summary without its boilerplate
    const omx = nvenc.split('\n').slice(1).join('\n');
    assert.equal(failureReason(omx), 'Error while opening encoder for output stream #0:0');
    assert.equal(failureReason('some wrapper said\nlibfoo: gone\n'), 'libfoo: gone');
    assert.equal(failureReason('\n\n'), undefined);
    assert.ok(failureReason(`[x @ 0x1] [error] ${'y'.repeat(400)}`)!.length <= 160);
  });
});

/** A fake ffmpeg listing nvenc, qsv and vaapi: nvenc cannot load CUDA, the others work if asked; runs are counted. */
function fakeFfmpeg(
  dir: string,
  opts: { qsvWorks?: boolean; vaapiWorks?: boolean; hang?: boolean; silentOk?: boolean } = {},
) {
  const file = path.join(dir, 'ffmpeg');
  const count = path.join(dir, 'runs');
  const pids = path.join(dir, 'pids');
  const fail = (context: string, line: string) => `echo "[${context} @ 0x2] [error] ${line}" >&2; exit 1`;
  // a working encode reports its frames on the progress pipe (a wrapper that hides the exit code: none, exit 0)
  const works = opts.silentOk ? 'exit 0' : 'printf "frame=15\\nprogress=end\\n"; exit 0';
  writeFileSync(
    file,
    `#!/bin/sh
echo "$*" >> '${count}'
case " $* " in *" -encoders "*)
  printf ' V....D libx264   x264\\n V....D h264_nvenc  nv\\n V..... h264_qsv  q\\n V....D h264_vaapi  va\\n'; exit 0;;
esac
codec=; prev=
for a in "$@"; do [ "$prev" = "-c:v:0" ] && codec=$a; prev=$a; done
${opts.hang ? `sleep 30 & echo $! >> '${pids}'; wait` : ''}
case $codec in
  h264_nvenc) echo "[h264_nvenc @ 0x1] [error] Cannot load libcuda.so.1" >&2; exit 1;;
  h264_qsv) ${opts.qsvWorks ? works : fail('h264_qsv', 'Error initializing an internal MFX session')};;
  h264_vaapi) ${opts.vaapiWorks ? works : fail('AVHWDeviceContext', 'No VA display found.')};;
  libx264) ${works};;
esac
exit 1
`,
  );
  chmodSync(file, 0o755);
  const runs = (): number => (existsSync(count) ? readFileSync(count, 'utf8').trim().split('\n').length : 0);
  return { file, runs, pids };
}

/** Whether a process still runs (a killed one its new parent has not reaped yet is a zombie: not running). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return !/^\d+ \(.*\) Z /.test(stat);
}

describe('probing an encoder', () => {
  it('lists the hardware encoders an ffmpeg has, best first', async () => {
    const { file } = fakeFfmpeg(tempDir('enc-list'));
    assert.deepEqual(await listedHardwareEncoders(file), ['nvenc', 'qsv', 'vaapi']);
  });

  it('a test encode that works is ok; one that fails gives ffmpeg’s reason; both say how long they took', async () => {
    const { file } = fakeFfmpeg(tempDir('enc-probe'), { vaapiWorks: true });
    const ok = await probeEncoder(file, 'vaapi');
    assert.deepEqual({ ...ok, ms: 0 }, { name: 'vaapi', ok: true, ms: 0 });
    const bad = await probeEncoder(file, 'nvenc');
    assert.deepEqual({ ...bad, ms: 0 }, { name: 'nvenc', ok: false, reason: 'Cannot load libcuda.so.1', ms: 0 });
    assert.ok(typeof bad.ms === 'number' && bad.ms >= 0);
    // exit 0 with no frame out (a wrapper script that hides ffmpeg's failure) is not a working encoder
    const { file: hiding } = fakeFfmpeg(tempDir('enc-hiding'), { vaapiWorks: true, silentOk: true });
    const hidden = await probeEncoder(hiding, 'vaapi');
    assert.deepEqual([hidden.ok, hidden.reason], [false, 'no frame came out of the encoder']);
    const missing = await probeEncoder(path.join(tempDir('enc-none'), 'no-ffmpeg'), 'nvenc');
    assert.equal(missing.ok, false);
    assert.match(missing.reason!, /^could not run .*no-ffmpeg: not an executable file$/);
  });

  it('a probe that hangs is stopped at its timeout, with what its wrapper started', async () => {
    const { file, pids } = fakeFfmpeg(tempDir('enc-hang'), { hang: true });
    const t = performance.now();
    const r = await probeEncoder(file, 'nvenc', 400);
    assert.ok(performance.now() - t < 3000);
    assert.deepEqual([r.ok, r.reason], [false, 'no result within 0.4 s']);
    const pid = Number(readFileSync(pids, 'utf8').trim());
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(alive(pid), false, 'the sleep the wrapper started is gone too');
  });
});

describe('the encoder cache', () => {
  it('lives in $XDG_CACHE_HOME/rtmpush/encoders.json, else ~/.cache/rtmpush/encoders.json', () => {
    assert.equal(encoderCacheFile({ XDG_CACHE_HOME: '/c' }), '/c/rtmpush/encoders.json');
    assert.equal(encoderCacheFile({ HOME: '/h' }), '/h/.cache/rtmpush/encoders.json');
  });

  it('is per ffmpeg binary (path, size, mtime) and machine; kept a day; private; other keys kept', () => {
    const env = { XDG_CACHE_HOME: path.join(tempDir('enc-cache'), 'deep') };
    const at = Date.parse('2026-11-29T10:00:00Z');
    writeEncoderCache(
      env,
      'a',
      { listed: ['x264', 'nvenc'], results: [{ name: 'nvenc', ok: false, reason: 'r' }] },
      at,
    );
    writeEncoderCache(env, 'b', { results: [{ name: 'qsv', ok: true, ms: 5 }] }, at + 1000);
    assert.equal(statSync(encoderCacheFile(env)).mode & 0o077, 0);
    const a = readEncoderCache(env, 'a', at + ENCODER_STALE_MS - 1000);
    assert.deepEqual(a.listed?.names, ['x264', 'nvenc']);
    assert.deepEqual(a.results.nvenc, { name: 'nvenc', ok: false, reason: 'r', at });
    assert.equal(readEncoderCache(env, 'b', at).results.qsv?.ok, true);
    assert.deepEqual(readEncoderCache(env, 'a', at + ENCODER_STALE_MS + 1000), { results: {} });

    const dir = tempDir('enc-key');
    const bin = path.join(dir, 'ffmpeg');
    writeFileSync(bin, 'one');
    const k1 = ffmpegKey(bin);
    assert.match(k1, new RegExp(`\\|${bin}\\|3\\|`));
    utimesSync(bin, new Date(at), new Date(at));
    assert.notEqual(ffmpegKey(bin), k1, 'a new build (here: a new mtime) is a new key');
  });

  it('a corrupt or foreign file is ignored, and rewritten on the next write', () => {
    const env = { XDG_CACHE_HOME: tempDir('enc-corrupt') };
    writeEncoderCache(env, 'k', { listed: ['x264'] });
    for (const junk of [
      '{not json',
      '[]',
      '{"version":99,"entries":{}}',
      '{"version":1,"entries":{"k":{"results":{"nvenc":{"name":"qsv","ok":1}}}}}',
    ]) {
      writeFileSync(encoderCacheFile(env), junk);
      assert.deepEqual(readEncoderCache(env, 'k'), { results: {} }, junk);
    }
    writeEncoderCache(env, 'k', { listed: ['x264', 'vaapi'] });
    const back = JSON.parse(readFileSync(encoderCacheFile(env), 'utf8'));
    assert.equal(back.version, 1);
    assert.deepEqual(readEncoderCache(env, 'k').listed?.names, ['x264', 'vaapi']);
  });
});

describe('chooseEncoder', () => {
  it('auto: the best hardware encoder that works; a second call the same day runs nothing', async () => {
    const dir = tempDir('enc-auto');
    const { file, runs } = fakeFfmpeg(dir, { vaapiWorks: true });
    const env = { XDG_CACHE_HOME: dir };
    const first = await chooseEncoder('auto', file, env);
    assert.equal(first.name, 'vaapi');
    assert.equal(first.note, undefined);
    assert.deepEqual(
      first.tried.map((t) => `${t.name}:${t.ok}`),
      ['nvenc:false', 'qsv:false', 'vaapi:true'],
    );
    assert.equal(runs(), 4, 'one listing and three probes');
    const again = await chooseEncoder('auto', file, env, Date.now() + 3600_000);
    assert.equal(again.name, 'vaapi');
    assert.equal(runs(), 4, 'all from the cache');
    await chooseEncoder('auto', file, env, Date.now() + ENCODER_STALE_MS + 1000);
    assert.equal(runs(), 8, 'a day later: listed and probed again');
  });

  it('auto with nothing working: x264 and one note naming each failure', async () => {
    const dir = tempDir('enc-none-works');
    const { file } = fakeFfmpeg(dir);
    const c = await chooseEncoder('auto', file, { XDG_CACHE_HOME: dir });
    assert.equal(c.name, 'x264');
    assert.equal(
      c.note,
      'no hardware encoder works here (nvenc: Cannot load libcuda.so.1; qsv: Error initializing an internal MFX ' +
        'session; vaapi: No VA display found): encoding with x264',
    );
  });

  it('an ffmpeg that cannot list its encoders: x264, and nothing remembered (asked again next time)', async () => {
    const dir = tempDir('enc-broken');
    const file = path.join(dir, 'ffmpeg');
    writeFileSync(file, `#!/bin/sh\necho run >> '${dir}/runs'\nexit 1\n`);
    chmodSync(file, 0o755);
    const env = { XDG_CACHE_HOME: dir };
    assert.deepEqual(await chooseEncoder('auto', file, env), { name: 'x264', tried: [] });
    await chooseEncoder('auto', file, env);
    assert.equal(readFileSync(path.join(dir, 'runs'), 'utf8'), 'run\nrun\n');
    assert.equal(existsSync(encoderCacheFile(env)), false);
  });

  it('x264 by name probes nothing; a hardware one by name works, or is a one-line UsageError', async () => {
    const dir = tempDir('enc-explicit');
    const { file, runs } = fakeFfmpeg(dir, { qsvWorks: true });
    const env = { XDG_CACHE_HOME: dir };
    assert.deepEqual(await chooseEncoder('x264', file, env), { name: 'x264', tried: [] });
    assert.equal(runs(), 0);
    assert.equal((await chooseEncoder('qsv', file, env)).name, 'qsv');
    await assert.rejects(chooseEncoder('nvenc', file, env), (e: Error) => {
      assert.ok(e instanceof UsageError);
      assert.equal(
        e.message,
        '--encoder nvenc does not work here (Cannot load libcuda.so.1): use --encoder auto or x264',
      );
      return true;
    });
    await assert.rejects(
      chooseEncoder('videotoolbox', file, env),
      new UsageError(
        `--encoder videotoolbox: this ffmpeg (${file}) has no h264_videotoolbox: use --encoder auto or x264`,
      ),
    );
  });
});
