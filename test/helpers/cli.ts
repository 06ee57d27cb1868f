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
  const r = await execa('node', [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...ISOLATED, ...env },
    extendEnv: false,
    cwd: options.cwd ?? ROOT,
    reject: false,
    timeout: options.timeoutMs ?? 120_000,
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
  });
  const stdout = String(r.stdout);
  const events = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);
  return { exitCode: r.exitCode ?? -1, stdout, stderr: String(r.stderr), events };
}
