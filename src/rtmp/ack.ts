/** nginx-rtmp sets its received-bytes count back to 0 once it reaches this (ngx_rtmp_recv). */
export const NGINX_ACK_RESET = 0xf0000000;
/**
 * nginx counts a read before it checks the reset point, and drops what that read took past it: up to one read,
 * a chunk (4096 here) and its header. The count is taken to go on from the far end of that read: an estimate a little
 * high is corrected by "never above what was sent"; one a little low would add up over weeks into false congestion.
 */
const NGINX_OVERSHOOT = 4096 + 18;
/** A server may count the handshake (1 + 2 × 1536 bytes) that our own count leaves out. */
const SLACK = 3073;
/** A step back of at most this is an old acknowledgement arriving late, not a reset. */
const STALE = 1024 * 1024;

/**
 * The bytes a peer has acknowledged, in our own count of bytes sent. RTMP's acknowledgement is a 32-bit sequence
 * number: it wraps at 2^32, nginx-rtmp resets it at 0xF0000000, and nothing says where a server starts it. So the
 * count advances by the sequence's difference modulo 2^32; an advance past what was sent means the peer's count
 * restarted: at nginx's reset point when that fits, else everything sent is taken as acknowledged (the next
 * acknowledgements are exact again). A small step back is a late acknowledgement and changes nothing. Never
 * decreases, never exceeds what was sent.
 */
export class AckCounter {
  #acked = 0;
  #last: number | undefined;

  get acked(): number {
    return this.#acked;
  }

  /** Takes the peer's sequence number; `sent` is our count of bytes sent so far. Returns the acknowledged total. */
  update(sequence: number, sent: number): number {
    const seq = sequence >>> 0;
    const last = this.#last;
    const delta = last === undefined ? seq : (seq - last) >>> 0;
    // A small step back is a stale or repeated acknowledgement: nothing new.
    if (last !== undefined && delta >= 2 ** 31 && 2 ** 32 - delta <= STALE) return this.#acked;
    let candidate = last === undefined ? seq : this.#acked + delta;
    if (candidate > sent + SLACK) {
      const viaReset =
        last !== undefined && last < NGINX_ACK_RESET ? this.#acked + (NGINX_ACK_RESET - last) + seq : Infinity;
      candidate = viaReset <= sent + SLACK ? viaReset + NGINX_OVERSHOOT : sent;
    }
    this.#acked = Math.max(this.#acked, Math.min(candidate, sent));
    this.#last = seq;
    return this.#acked;
  }
}
