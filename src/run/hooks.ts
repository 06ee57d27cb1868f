import { execa } from 'execa';
import { redact } from '../secret.js';
import type { Emit } from './events.js';

const HOOK_TIMEOUT_MS = 10_000;

/**
 * `--on-state CMD`: runs CMD through the shell on every state change, the event as one JSON line on its stdin
 * (for alerting from headless machines). A failing hook is reported once as a warning; it never stops the stream.
 */
export function withStateHook(emit: Emit, cmd: string | undefined): Emit {
  if (!cmd) return emit;
  let warned = false;
  return (event) => {
    emit(event);
    if (event.type !== 'state') return;
    const input = redact(JSON.stringify({ ...event, time: new Date().toISOString() })) + '\n';
    execa('sh', ['-c', cmd], { input, reject: false, timeout: HOOK_TIMEOUT_MS, stdout: 'ignore', stderr: 'ignore' }).then((r) => {
      if (r.exitCode !== 0 && !warned) {
        warned = true;
        emit({ type: 'warning', message: `--on-state command failed (${r.timedOut ? 'timed out' : `exit ${r.exitCode}`}); it keeps running on each state change` });
      }
    });
  };
}
