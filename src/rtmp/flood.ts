/** What a publisher's server may send unasked in a second: bytes, and messages other than acknowledgements. */
export const SERVER_BYTES_PER_S = 1024 * 1024;
export const SERVER_MESSAGES_PER_S = 20_000;

/**
 * A server that talks more than any server needs to (a flood) is cut off: counts what it sent in the current
 * second. Acknowledgements are bounded by bytes alone; other messages by count too.
 */
export class FloodMeter {
  #bytes = 0;
  #messages = 0;
  #since = Date.now();

  /** Bytes arrived; true once this second's bound is passed (a little slack for one chunked message). */
  bytes(n: number): boolean {
    const now = Date.now();
    if (now - this.#since >= 1000) {
      this.#bytes = 0;
      this.#messages = 0;
      this.#since = now;
    }
    this.#bytes += n;
    return this.#bytes > SERVER_BYTES_PER_S + 3073;
  }

  /** Messages other than acknowledgements; true once this second's bound is passed. */
  messages(n: number): boolean {
    this.#messages += n;
    return this.#messages > SERVER_MESSAGES_PER_S;
  }
}
