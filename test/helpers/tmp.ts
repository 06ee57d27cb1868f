import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

/** A temporary folder removed when the current test file's suite ends. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `rtmpush-${prefix}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
