import { execa } from 'execa';
import { childEnv, redact } from '../secret.js';
import type { Emit, RunEvent } from './events.js';

const HOOK_TIMEOUT_MS = 10_000;
/** At the end, how long the last state changes may take to reach the hook before it is stopped. */
const CLOSE_GRACE_MS = 2000;
/** Changes waiting for the hook beyond this are coalesced: a destination's latest change only. */
const MAX_QUEUE = 16;

type StateEvent = Extract<RunEvent, { type: 'state' }>;

export interface StateHook {
  emit: Emit;
  /** Lets the queued changes run (up to a short grace), then ends every hook's process group. */
  close(): Promise<void>;
}

/**
 * `--on-state CMD`: runs CMD through the shell on every state change, the event as one JSON line on its stdin
 * (for alerting from headless machines). One hook runs at a time; changes that come meanwhile wait in order, and
 * past 16 waiting only each destination's latest is kept (a flood of changes runs a few hooks, not hundreds). Each
 * hook runs in a process group of its own, with no keys in its environment, for at most 10 s; what it leaves running
 * in its group is ended when it ends, and a hook still running when rtmpush ends is ended with it. A failing hook is
 * reported once as a warning; it never stops the stream.
 */
export function withStateHook(emit: Emit, cmd: string | undefined): StateHook {
  if (!cmd) return { emit, close: async () => {} };
  const queue: StateEvent[] = [];
  let running: Promise<void> | undefined;
  let current: number | undefined;
  let warned = false;

  const warn = (message: string): void => {
    if (warned) return;
    warned = true;
    emit({ type: 'warning', message });
  };

  const runOne = async (event: StateEvent): Promise<void> => {
    const input = `${redact(JSON.stringify({ ...event, time: new Date().toISOString() }))}\n`;
    const child = execa('sh', ['-c', cmd], {
      input,
      reject: false,
      stdout: 'ignore',
      stderr: 'ignore',
      env: childEnv(),
      extendEnv: false,
      detached: true,
      cleanup: false,
    });
    const pid = child.pid;
    current = pid;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(pid);
    }, HOOK_TIMEOUT_MS);
    const r = await child;
    clearTimeout(timer);
    current = undefined;
    // What the hook left running in its group ends with it. Now, while that group still holds its id: later the id
    // could belong to another process group (a pid is reused once its group is gone).
    killGroup(pid);
    if (r.exitCode !== 0) {
      const how = timedOut
        ? `timed out after ${HOOK_TIMEOUT_MS / 1000} s`
        : r.exitCode === undefined
          ? 'was stopped'
          : `exit ${r.exitCode}`;
      warn(`--on-state command failed (${how}); it keeps running on each state change`);
    }
  };

  const pump = (): void => {
    if (running) return;
    const next = queue.shift();
    if (!next) return;
    running = runOne(next).finally(() => {
      running = undefined;
      pump();
    });
  };

  return {
    emit(event) {
      emit(event);
      if (event.type !== 'state') return;
      queue.push(event);
      // A hook slower than the changes: keep each destination's latest change only, so the queue stays short.
      if (queue.length > MAX_QUEUE) coalesce(queue);
      pump();
    },
    async close() {
      const deadline = Date.now() + CLOSE_GRACE_MS;
      while ((running || queue.length) && Date.now() < deadline) await Promise.race([running, sleep(50)]);
      const dropped = queue.length;
      queue.length = 0;
      killGroup(current);
      await running;
      if (dropped > 0)
        emit({
          type: 'warning',
          message:
            `--on-state: ${dropped} last state change` +
            `${dropped === 1 ? ' was' : 's were'} not passed on (the hook was still busy when rtmpush stopped)`,
        });
    },
  };
}

function coalesce(queue: StateEvent[]): void {
  const latest = new Map<string, StateEvent>();
  for (const e of queue) {
    latest.delete(e.destination);
    latest.set(e.destination, e);
  }
  queue.splice(0, queue.length, ...latest.values());
}

function killGroup(pgid: number | undefined): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // the group is gone
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
