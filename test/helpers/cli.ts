import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'rtmpush.js');

/** No user config and no cached uplink measurement from the machine leak into a test. */
export const ISOLATED = {
  XDG_CONFIG_HOME: path.join(ROOT, 'dist', 'no-config'),
  XDG_CACHE_HOME: path.join(ROOT, 'dist', 'no-cache'),
};

/**
 * Each run gets its own folder for its control socket (unless the test gives one), so runs side by side in a test
 * never share a name; the folder goes when the run ends.
 */
export function ownRuntimeDir(env: Record<string, string>): { env: Record<string, string>; cleanup: () => void } {
  if (env.RTMPUSH_RUNTIME_DIR) return { env, cleanup: () => {} };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rtmpush-run-'));
  return { env: { RTMPUSH_RUNTIME_DIR: dir, ...env }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  events: Record<string, any>[];
}

/** Runs the real CLI as a user would, with a clean environment plus `env`. */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
  options: { cwd?: string; timeoutMs?: number; input?: string | Buffer } = {},
): Promise<CliResult> {
  const own = ownRuntimeDir(env);
  const r = await execa('node', [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...ISOLATED, ...own.env },
    extendEnv: false,
    cwd: options.cwd ?? ROOT,
    reject: false,
    timeout: options.timeoutMs ?? 120_000,
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
  });
  own.cleanup();
  const stdout = String(r.stdout);
  const events = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);
  return { exitCode: r.exitCode ?? -1, stdout, stderr: String(r.stderr), events };
}
