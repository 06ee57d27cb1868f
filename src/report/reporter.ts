import type { RunEvent } from '../run/events.js';

export interface Reporter {
  handle(event: RunEvent): void;
  close(): void;
}
