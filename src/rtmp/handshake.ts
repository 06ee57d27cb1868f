import { randomBytes } from 'node:crypto';

/** The RTMP handshake's C1/S1/C2/S2 size; C0/S0 is one byte (version 3). */
export const HANDSHAKE_SIZE = 1536;
const VERSION = 3;

/** C0+C1 (or S0+S1): the version, then 4 bytes of time, 4 zero bytes, 1528 random bytes. */
function hello(): Buffer {
  const out = Buffer.alloc(1 + HANDSHAKE_SIZE);
  out[0] = VERSION;
  randomBytes(HANDSHAKE_SIZE - 8).copy(out, 9);
  return out;
}

/**
 * The client side, as pure steps over buffers: `start()` gives C0+C1; `receive()` takes what the server sent and,
 * once S0+S1+S2 are in, gives C2 (an echo of S1) and whatever came after them (the first chunks).
 */
export class ClientHandshake {
  #got: Buffer = Buffer.alloc(0);
  done = false;

  start(): Buffer {
    return hello();
  }

  receive(data: Buffer): { reply: Buffer; rest: Buffer } | undefined {
    this.#got = this.#got.length === 0 ? data : Buffer.concat([this.#got, data]);
    if (this.#got.length < 1 + 2 * HANDSHAKE_SIZE) return undefined;
    this.done = true;
    const got = this.#got;
    this.#got = Buffer.alloc(0);
    return { reply: Buffer.from(got.subarray(1, 1 + HANDSHAKE_SIZE)), rest: got.subarray(1 + 2 * HANDSHAKE_SIZE) };
  }
}

/**
 * The server side: `receive()` takes what the client sent; once C0+C1 are in it gives S0+S1+S2 (S2 echoes C1), and
 * once C2 is in, whatever came after it. Accepts the simple handshake and ffmpeg's digest one alike (it echoes).
 */
export class ServerHandshake {
  #got: Buffer = Buffer.alloc(0);
  #answered = false;
  done = false;

  receive(data: Buffer): { reply?: Buffer; rest?: Buffer } {
    this.#got = this.#got.length === 0 ? data : Buffer.concat([this.#got, data]);
    const out: { reply?: Buffer; rest?: Buffer } = {};
    if (!this.#answered && this.#got.length >= 1 + HANDSHAKE_SIZE) {
      out.reply = Buffer.concat([hello(), this.#got.subarray(1, 1 + HANDSHAKE_SIZE)]);
      this.#got = this.#got.subarray(1 + HANDSHAKE_SIZE);
      this.#answered = true;
    }
    if (this.#answered && this.#got.length >= HANDSHAKE_SIZE) {
      out.rest = this.#got.subarray(HANDSHAKE_SIZE);
      this.#got = Buffer.alloc(0);
      this.done = true;
    }
    return out;
  }
}
