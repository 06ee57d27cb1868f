#!/usr/bin/env node
// Lines stay within 120 characters: the formatter wraps code, not strings and comments, so this checks the rest.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const MAX = 120;
const ROOTS = ['src', 'test', 'bench', 'scripts', 'bin'];
const long = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) walk(file);
    else if (/\.(ts|js)$/.test(name)) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if ([...line].length > MAX) long.push(`${file}:${i + 1}: ${[...line].length} characters`);
        });
    }
  }
};
for (const root of ROOTS) walk(root);
if (long.length > 0) {
  process.stderr.write(`${long.join('\n')}\n${long.length} lines over ${MAX} characters\n`);
  process.exit(1);
}
