#!/usr/bin/env node
// Bundles the compiled CLI (dist/src, from tsc) into dist/bundle/: one file to load instead of ~200 modules,
// which cuts rtmpush's start-up from ~0.45 to ~0.2 CPU-s. Modules loaded on demand (the terminal reporter)
// stay separate chunks; node-media-server and ffmpeg-static are required at run time from node_modules.
import { build } from 'esbuild';

await build({
  entryPoints: { rtmpush: 'dist/src/cli/main.js' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  external: ['ffmpeg-static'],
  // CommonJS dependencies (commander) call require() for Node's own modules
  banner: {
    js:
      "import { createRequire as __rtmpushRequire } from 'node:module'; " +
      'const require = __rtmpushRequire(import.meta.url);',
  },
  sourcemap: true,
  logLevel: 'warning',
});
