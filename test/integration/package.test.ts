import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { packageRoot } from '../../src/util/paths.js';

describe('the npm package', () => {
  it('ships the bundled CLI, the presets and the platform table, and no tests or sources', async () => {
    const r = await execa('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: packageRoot() });
    const files: string[] = JSON.parse(r.stdout)[0].files.map((f: { path: string }) => f.path);
    for (const want of [
      'bin/rtmpush.js',
      'dist/bundle/rtmpush.mjs',
      'presets/720p30.json',
      'data/platforms.json',
      'package.json',
      'README.md',
    ]) {
      assert.ok(files.includes(want), `${want} in ${files.join(' ')}`);
    }
    assert.ok(
      !files.some((f) => f.startsWith('test/') || f.startsWith('dist/test/') || f.startsWith('src/')),
      files.join(' '),
    );
  });
});
