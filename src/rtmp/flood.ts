import { ACK_WINDOW } from './message.js';

/** What a publisher's server may send unasked in a second: bytes, and messages other than acknowledgements. */
export const SERVER_BYTES_PER_S = 1024 * 1024;
/** An acknowledgement as a server chunks it (a full header and 4 bytes), with room to spare. */
const ACK_BYTES = 32;
export const SERVER_MESSAGES_PER_S = 20_000;

/**
 * A server that talks more than any server needs to (a flood) is cut off: counts what it sent in the current
 * second. Acknowledgements are bounded by bytes alone; other messages by count too.
 */
export class FloodMeter {
  #bytes = 0;
  #messages = 0;
  #since = Date.now();
  /** Bytes taken as acknowledgements so far: never more than what we sent asks for. */
  #ackBytes = 0;

  /** `sent`: the bytes we have written so far. What we send is answered by one acknowledgement per window. */
  constructor(private readonly sent: () => number) {}

  /**
   * Bytes arrived; true once this second's bound is passed. First they count as the acknowledgements what we sent
   * asks for (on loopback, gigabytes a second, and late in a lump when the event loop was busy sending); the rest
   * is unasked: 1 MiB a second (and a little slack for one chunked message).
   */
  bytes(n: number): boolean {
    const now = Date.now();
    if (now - this.#since >= 1000) {
      this.#bytes = 0;
      this.#messages = 0;
      this.#since = now;
    }
    const owed = (Math.ceil(this.sent() / ACK_WINDOW) + 16) * ACK_BYTES;
    const asAcks = Math.min(n, Math.max(0, owed - this.#ackBytes));
    this.#ackBytes += asAcks;
    this.#bytes += n - asAcks;
    return this.#bytes > SERVER_BYTES_PER_S + 3073;
  }

  /** Messages other than acknowledgements; true once this second's bound is passed. */
  messages(n: number): boolean {
    this.#messages += n;
    return this.#messages > SERVER_MESSAGES_PER_S;
  }
}
