import type { Cause } from '../advice/cause.js';
import { connectTcp } from '../net/dial.js';

/** How often a destination that could not be reached is probed while it waits, and how long one probe may take. */
const PROBE_EVERY_MS = 1000;
const PROBE_TIMEOUT_MS = 800;

/** The server could not be reached at all (nothing listening, no route, no name): a probe can tell when it is back. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Whether a wait after this cause may be cut short by a probe. Only a server that could not be reached: one that
 * accepts and then refuses, hangs or resets would answer every probe, and the backoff must space out its retries.
 */
export const probeable = (cause: Cause): boolean => cause.kind === 'network' && UNREACHABLE.has(cause.code);

/**
 * While a destination waits out its backoff because its server could not be reached, a plain TCP connect about
 * once a second (nothing on the RTMP level, closed at once); the first that connects ends the wait.
 */
export class ReachProbe {
  #timer: NodeJS.Timeout | undefined;
  #watching = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  /** Calls `back` once, when the server accepts a connection again (until `stop`). */
  watch(back: () => void): void {
    this.stop();
    const id = this.#watching;
    const probe = async (): Promise<void> => {
      const ok = await connectTcp(this.host, this.port, PROBE_TIMEOUT_MS).then(
        ({ socket }) => {
          socket.destroy();
          return true;
        },
        () => false,
      );
      if (id !== this.#watching) return;
      if (ok) {
        this.stop();
        back();
      } else this.#timer = setTimeout(() => void probe(), PROBE_EVERY_MS);
    };
    this.#timer = setTimeout(() => void probe(), PROBE_EVERY_MS);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#watching++;
  }
}
