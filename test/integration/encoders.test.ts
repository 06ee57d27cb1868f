import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { locateFfmpeg } from '../../src/ffmpeg/locate.js';
import { encoderCacheFile } from '../../src/probe/encoder-cache.js';
import { type EncoderChoice, chooseEncoder } from '../../src/probe/encoders.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Against this machine's real ffmpeg (Debian's 5.1 lists h264_nvenc, h264_qsv, h264_vaapi and h264_v4l2m2m, and
 * with no GPU none of them opens), through a wrapper that counts how often ffmpeg is started.
 */
describe('choosing an encoder with the real ffmpeg', () => {
  const dir = tempDir('encoders');
  const env = { XDG_CACHE_HOME: path.join(dir, 'cache') };
  const wrapper = path.join(dir, 'ffmpeg');
  const runs = (): number => readFileSync(path.join(dir, 'runs'), 'utf8').trim().split('\n').length;
  let auto: EncoderChoice;
  let firstMs = 0;

  before(async () => {
    const real = locateFfmpeg({ env: process.env, platform: process.platform });
    writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> '${dir}/runs'\nexec '${real}' "$@"\n`);
    chmodSync(wrapper, 0o755);
    const t = performance.now();
    auto = await chooseEncoder('auto', wrapper, env);
    firstMs = Math.round(performance.now() - t);
  });

  it('auto: each listed hardware encoder really fails here, so x264, with one note naming each reason', (t) => {
    t.diagnostic(`first choice (list + probes in parallel): ${firstMs} ms`);
    for (const r of auto.tried) t.diagnostic(`${r.name}: ${r.ok ? 'works' : r.reason} (${r.ms} ms)`);
    if (auto.name !== 'x264') return t.skip(`${auto.name} works on this machine: nothing falls back`);
    assert.deepEqual(
      ['nvenc', 'qsv', 'vaapi'].filter((n) => auto.tried.some((r) => r.name === n)),
      ['nvenc', 'qsv', 'vaapi'],
      "Debian's ffmpeg lists nvenc, qsv and vaapi",
    );
    const named = auto.tried.map((r) => `${r.name}: ${r.reason}`).join('; ');
    assert.equal(auto.note, `no hardware encoder works here (${named}): encoding with x264`);
    assert.match(auto.note!, /nvenc: Cannot load libcuda\.so\.1; qsv: .+; vaapi: .+\): encoding with x264$/);
    assert.ok(firstMs < 10_000, `${firstMs} ms`);
    assert.equal(runs(), 1 + auto.tried.length, 'one listing, one test encode per listed hardware encoder');
    assert.equal(statSync(encoderCacheFile(env)).mode & 0o777, 0o600);
  });

  it('a second choice the same day starts no ffmpeg and leaves the cache as it was', async () => {
    const before = { runs: runs(), mtime: statSync(encoderCacheFile(env)).mtimeMs };
    const again = await chooseEncoder('auto', wrapper, env);
    assert.deepEqual(again, auto);
    assert.deepEqual({ runs: runs(), mtime: statSync(encoderCacheFile(env)).mtimeMs }, before);
  });

  it('--encoder nvenc, which does not work here: one line saying what to do', async (t) => {
    const nvenc = auto.tried.find((r) => r.name === 'nvenc');
    if (!nvenc || nvenc.ok) return t.skip('nvenc is not listed, or works, here');
    await assert.rejects(chooseEncoder('nvenc', wrapper, env), (e: Error) => {
      assert.ok(e instanceof UsageError, 'the CLI prints a UsageError alone and exits 2');
      assert.equal(
        e.message,
        '--encoder nvenc does not work here (Cannot load libcuda.so.1): use --encoder auto or x264',
      );
      return true;
    });
  });

  it('--encoder x264 starts no ffmpeg at all', async () => {
    const before = runs();
    assert.deepEqual(await chooseEncoder('x264', wrapper, env), { name: 'x264', tried: [] });
    assert.equal(runs(), before);
  });

  it('rtmpush doctor lists the encoders (text and --json) from the same cache, without probing again', async () => {
    const before = runs();
    const cliEnv = { RTMPUSH_FFMPEG: wrapper, XDG_CACHE_HOME: env.XDG_CACHE_HOME };
    const json = await runCli(['doctor', '--json', '--no-speed'], cliEnv);
    assert.equal(json.exitCode, 0, json.stderr);
    const report = json.events.find((e) => e.type === 'encoders')!;
    assert.equal(report.ffmpeg, wrapper);
    assert.equal(report.cached, true);
    assert.equal(report.auto, auto.name);
    assert.deepEqual(report.encoders[0], { name: 'x264', codec: 'libx264', ok: true });
    assert.deepEqual(
      report.encoders.slice(1).map((e: any) => [e.name, e.ok, e.reason]),
      auto.tried.map((r) => [r.name, r.ok, r.reason]),
    );
    assert.deepEqual(json.events.at(-1), { ...json.events.at(-1), type: 'summary', reachable: 0, total: 0 });

    const text = await runCli(['doctor', '--no-speed'], cliEnv);
    assert.equal(text.exitCode, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`H\\.264 encoders with ${wrapper}:\\n {2}x264 +ok +software`));
    for (const r of auto.tried.filter((x) => !x.ok))
      assert.ok(text.stdout.includes(`  ${r.name.padEnd(12)} fail  ${r.reason}\n`), r.name);
    assert.ok(text.stdout.includes(`--encoder auto uses ${auto.name} here (as probed in the last day)`));
    assert.match(text.stdout, /no destination checked: add --to/);
    assert.equal(runs(), before, 'doctor took every result from the cache');
  });
});
