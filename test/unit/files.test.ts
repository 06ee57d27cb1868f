import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { MAX_SMALL_FILE, readSmallFile } from '../../src/util/files.js';
import { tempDir } from '../helpers/tmp.js';

describe('readSmallFile: a config, preset or CA file, read whole up to 1 MB', () => {
  const dir = tempDir('files');
  const file = (name: string, content: string | Buffer) => {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    return p;
  };

  it('reads the text as it is, a character split across pieces included; exactly 1 MB too', () => {
    // "é" is two bytes: placed across the 64 KB boundary between two reads
    const text = `${'a'.repeat(64 * 1024 - 1)}é${'b'.repeat(100)}`;
    assert.equal(readSmallFile(file('split.json', text), 'x'), text);
    assert.equal(readSmallFile(file('empty.json', ''), 'x'), '');
    const full = 'c'.repeat(MAX_SMALL_FILE);
    assert.equal(readSmallFile(file('full.json', full), 'x').length, MAX_SMALL_FILE);
  });

  it('one byte past 1 MB: refused in one line', () => {
    assert.throws(
      () => readSmallFile(file('big.json', 'd'.repeat(MAX_SMALL_FILE + 1)), 'preset big.json'),
      /^UsageError: preset big\.json: larger than 1 MB: is it the right file\?$/,
    );
  });

  it('a small file costs memory of its size, not 1 MB (a reload reads the config and every preset)', () => {
    const small = file('small.json', '{"destinations": {}}');
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 10; i++) readSmallFile(small, 'x');
    const grew = process.memoryUsage().arrayBuffers - before;
    assert.ok(grew < 2 * 1024 * 1024, `10 reads of a 20-byte file held ${(grew / 1048576).toFixed(1)} MB of buffers`);
  });
});
