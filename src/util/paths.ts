import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The installed package's root (this file is built to dist/src/util/paths.js). */
export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}
