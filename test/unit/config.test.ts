import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { configCandidates, loadConfig } from '../../src/config/load.js';
import { loadPresets } from '../../src/presets/load.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = (): string => tempDir('cfg');

describe('config file', () => {
  it('is looked for in --config, then ./rtmpush.config.json, then XDG', () => {
    assert.deepEqual(configCandidates({ cwd: '/w', env: { XDG_CONFIG_HOME: '/x' } }), [
      '/w/rtmpush.config.json',
      '/x/rtmpush/config.json',
    ]);
    assert.deepEqual(configCandidates({ cwd: '/w', env: {}, home: '/h' }), [
      '/w/rtmpush.config.json',
      '/h/.config/rtmpush/config.json',
    ]);
    assert.deepEqual(configCandidates({ explicit: 'c.json', cwd: '/w', env: {} }), ['/w/c.json']);
  });

  it('a missing --config file is an error; no file at all is an empty config', () => {
    const dir = tmp();
    assert.throws(() => loadConfig({ explicit: 'nope.json', cwd: dir, env: {} }), /--config nope.json: no such file/);
    assert.deepEqual(loadConfig({ cwd: dir, env: { XDG_CONFIG_HOME: dir } }).config, {});
  });

  it('reports every problem with its path', () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, 'rtmpush.config.json'),
      JSON.stringify({
        destinations: { yt: { platform: 'youtube', keyEnv: '1bad' }, both: { platform: 'x', url: 'rtmp://h/a' } },
        defaults: { preset: 5 },
        extra: true,
      }),
    );
    assert.throws(
      () => loadConfig({ cwd: dir, env: {} }),
      (e: Error) =>
        /destinations\.yt\.keyEnv: must be an environment variable name/.test(e.message) &&
        /destinations\.both: give exactly one of "platform" or "url"/.test(e.message) &&
        /defaults\.preset: /.test(e.message) &&
        /extra/.test(e.message),
    );
  });

  it('bad JSON names the file', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'rtmpush.config.json'), '{ nope');
    assert.throws(() => loadConfig({ cwd: dir, env: {} }), /rtmpush\.config\.json: not valid JSON/);
  });

  it('bad JSON is placed by line and column, never quoted: the text around the error may be a key', () => {
    const dir = tmp();
    const file = path.join(dir, 'rtmpush.config.json');
    const cases: [string, RegExp][] = [
      ['{"destinations": {"box": {"url": "rtmp://h/app", "key": newSecretKe}}}', /at line 1, column 57\)/],
      ['{\n  "defaults": {\n    "to": [newSecretKe]\n  }\n}', /at line 3, column 12\)/],
      ['{"key": "newSecretKe"\n"other": 1}', /at line 2, column 1\)/],
      ['{"key": "newSecretKe', /: not valid JSON \(it ends before its JSON does: an unclosed/],
    ];
    for (const [text, where] of cases) {
      writeFileSync(file, text);
      assert.throws(
        () => loadConfig({ cwd: dir, env: {} }),
        (e: Error) => where.test(e.message) && !/SecretKe|Secret|Ke"/.test(e.message),
        text,
      );
    }
  });

  it('a byte-order mark an editor left is not an error', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'rtmpush.config.json'), '\uFEFF{"defaults": {"preset": "720p30"}}');
    assert.equal(loadConfig({ cwd: dir, env: {} }).config.defaults?.preset, '720p30');
  });

  it('warns when a literal key sits in a file others can read, not when it is private', () => {
    const dir = tmp();
    const file = path.join(dir, 'rtmpush.config.json');
    writeFileSync(file, JSON.stringify({ destinations: { box: { url: 'rtmp://h/app', key: 'key1' } } }));
    chmodSync(file, 0o644);
    assert.match(
      loadConfig({ cwd: dir, env: {} }).warnings[0] ?? '',
      /holds stream keys \(box\) and other users can read it: run chmod 600/,
    );
    chmodSync(file, 0o600);
    assert.deepEqual(loadConfig({ cwd: dir, env: {} }).warnings, []);
  });
});

describe('presets', () => {
  it('built-ins: keyframes every 2 s are a plan matter; every preset is valid and has the required ones', () => {
    const names = loadPresets().map((e) => e.preset.name);
    for (const n of ['480p30', '720p30', '720p60', '1080p30', '1080p60']) assert.ok(names.includes(n), n);
  });

  it('user presets beside the config file are added and validated', () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'presets'));
    const good = {
      name: 'tiny',
      description: 'd',
      width: 320,
      height: 180,
      fps: 15,
      videoKbps: 300,
      minVideoKbps: 150,
      x264: { preset: 'ultrafast', tune: null, profile: 'baseline' },
      audio: { kbps: 64, sampleRate: 48000, channels: 2 },
    };
    writeFileSync(path.join(dir, 'presets', 'tiny.json'), JSON.stringify(good));
    const entries = loadPresets(path.join(dir, 'rtmpush.config.json'));
    assert.equal(entries.find((e) => e.preset.name === 'tiny')?.builtIn, false);
    writeFileSync(path.join(dir, 'presets', 'odd.json'), JSON.stringify({ ...good, name: 'odd', width: 321 }));
    assert.throws(() => loadPresets(path.join(dir, 'rtmpush.config.json')), /odd\.json: width: must be even/);
  });
});
