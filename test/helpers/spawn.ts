import { readdirSync, readFileSync } from 'node:fs';
import { execa, type ResultPromise } from 'execa';
import { BIN, ISOLATED, ownRuntimeDir, ROOT } from './cli.js';

/** Starts the CLI in the background and collects its NDJSON events as they come. */
export function startCli(
  args: string[],
  env: Record<string, string> = {},
  /** `detached`: in a session of its own, with no controlling terminal (as a service runs). */
  options: { detached?: boolean; prefix?: string[] } = {},
): {
  proc: ResultPromise;
  events: Record<string, any>[];
  waitFor: (pred: (e: Record<string, any>) => boolean, ms?: number) => Promise<Record<string, any>>;
} {
  const own = ownRuntimeDir(env);
  // `prefix`: how it is run (`ip netns exec NAME`), or as it is
  const [file, ...before] = [...(options.prefix ?? []), 'node'];
  const proc = execa(file!, [...before, BIN, ...args], {
    cwd: ROOT,
    env: { ...ISOLATED, ...own.env },
    reject: false,
    buffer: false,
    stdin: 'ignore',
    stderr: 'ignore',
    detached: options.detached ?? false,
  });
  void proc.then(own.cleanup, own.cleanup);
  const events: Record<string, any>[] = [];
  let pending = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let nl: number;
    for (nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.startsWith('{')) events.push(JSON.parse(line) as Record<string, any>);
    }
  });
  const waitFor = async (pred: (e: Record<string, any>) => boolean, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const found = events.find(pred);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `no such event within ${ms} ms; got ${JSON.stringify(events.map((e) => `${e.type}:${e.state ?? ''}`))}`,
    );
  };
  return { proc, events, waitFor };
}

/** Direct children of a process, from /proc (Linux). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    if (text) out.push(...text.split(/\s+/).map(Number));
  }
  return out;
}

export function commandOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Running (not gone, not a zombie). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
