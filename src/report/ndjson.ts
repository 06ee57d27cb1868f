import { redact } from '../secret.js';
import type { RunEvent } from '../run/events.js';
import type { Reporter } from './reporter.js';

/** One JSON object a line on stdout, each with `type` and an ISO-8601 `time`. */
export function jsonReporter(write: (text: string) => void, now: () => Date = () => new Date()): Reporter {
  return {
    handle(event: RunEvent) {
      const { type, ...rest } = event;
      write(`${redact(JSON.stringify({ type, time: now().toISOString(), ...rest }))}\n`);
    },
    close() {},
  };
}

/** One object, for commands that print a single result (`plan --json`, `presets --json`). */
export function printJson(write: (text: string) => void, type: string, body: object, now: Date = new Date()): void {
  write(`${redact(JSON.stringify({ type, time: now.toISOString(), ...body }))}\n`);
}
