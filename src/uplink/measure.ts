import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { describeCause } from '../advice/cause.js';
import { DialError, dial } from '../net/dial.js';
import type { TlsPolicy } from '../net/tls-policy.js';
import type { Destination } from '../platforms/destinations.js';
import { platformHints } from '../platforms/table.js';
import { MSG } from '../rtmp/message.js';
import { PublisherSession } from '../rtmp/publisher.js';
import type { UplinkNetwork } from './network.js';

export interface UplinkMeasurement {
  kbps: number;
  method: 'rtmp-acknowledgements';
  target: string;
  /** Per-second delivered rates after the warm-up, and their coefficient of variation (%). */
  perSecondKbps: number[];
  variationPct: number;
  seconds: number;
  measuredAt: string;
  /** What the socket accepted over the same window: shown only to compare; the kernel's buffer makes it read high. */
  senderSideKbps: number | null;
  /** The network it was made on (the route to the target); absent in a file written before rtmpush recorded it. */
  network?: UplinkNetwork;
}

/** The handshake, connect and publish must be done within this: a silent or endless server cannot hold the run. */
const SETUP_MS = 10_000;

export interface MeasureOptions {
  seconds: number;
  warmupMs?: number;
  tls: TlsPolicy;
  onProgress?: (elapsedMs: number, kbps: number | null) => void;
}

/**
 * Publishes a throw-away stream as fast as the path takes it and measures what the far side acknowledged
 * (RTMP Acknowledgements), after a warm-up: bytes accepted by the socket read far too high while the kernel's
 * send buffer grows.
 */
export async function measureUplink(dest: Destination, opts: MeasureOptions): Promise<UplinkMeasurement> {
  const acks: { at: number; bytes: number }[] = [];
  const { session, socket, ended } = await publish(dest, opts.tls, (bytes) => acks.push({ at: Date.now(), bytes }));
  try {
    const warmup = opts.warmupMs ?? 2000;
    const start = Date.now();
    // Filler "video": inter frames of random bytes, so nothing compresses along the way.
    const payload = Buffer.concat([Buffer.from([0x27, 0x01, 0, 0, 0]), randomBytes(16 * 1024)]);
    let ts = 0;
    let sentAtWarmup: { at: number; bytes: number } | undefined;
    const warm = setTimeout(() => (sentAtWarmup = { at: Date.now(), bytes: session.sent }), warmup);
    const progress = setInterval(() => opts.onProgress?.(Date.now() - start, rate(acks, start + warmup)), 1000);
    for (let n = 1; !socket.destroyed && Date.now() - start < opts.seconds * 1000; n++) {
      ts += 33;
      const more = session.send({ csid: 6, typeId: MSG.Video, streamId: session.streamId, timestamp: ts, payload });
      if (!more) await drained(socket);
      // a path faster than this loop (loopback) never pushes back: the acknowledgements must still be read
      else if (n % 32 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    clearInterval(progress);
    clearTimeout(warm);
    const senderSideKbps = sentAtWarmup
      ? Math.round(((session.sent - sentAtWarmup.bytes) * 8) / (Date.now() - sentAtWarmup.at))
      : null;
    const end = ended();
    if (end) throw new Error(`the test stream ended: ${end}`);
    const kbps = rate(acks, start + warmup);
    if (kbps === null)
      throw new Error('the server sent no acknowledgements: it cannot be used to measure (try another target)');
    const perSecond = perSecondRates(acks, start + warmup);
    const mean = perSecond.reduce((a, b) => a + b, 0) / (perSecond.length || 1);
    const sd = Math.sqrt(perSecond.reduce((a, b) => a + (b - mean) ** 2, 0) / (perSecond.length || 1));
    return {
      kbps,
      method: 'rtmp-acknowledgements',
      target: dest.label,
      perSecondKbps: perSecond,
      variationPct: mean > 0 ? Math.round((sd / mean) * 100) : 0,
      seconds: Math.round((Date.now() - start) / 100) / 10,
      measuredAt: new Date().toISOString(),
      senderSideKbps,
    };
  } finally {
    session.close();
  }
}

/** Dials and publishes the test stream; rejects with what went wrong, in the words the relay uses. */
async function publish(
  dest: Destination,
  tls: TlsPolicy,
  onAck: (bytes: number) => void,
): Promise<{ session: PublisherSession; socket: Duplex; ended: () => string | undefined }> {
  const { endpoint } = dest;
  const ctx = {
    host: endpoint.host,
    port: endpoint.port,
    app: endpoint.app,
    ...platformHints(dest.platform),
    wasLive: false,
  };
  let socket: Duplex;
  try {
    socket = await dial(endpoint, tls, SETUP_MS);
  } catch (error) {
    throw error instanceof DialError ? new Error(describeCause(error.failure, ctx)) : error;
  }
  let ended: string | undefined;
  return new Promise((resolve, reject) => {
    const session: PublisherSession = new PublisherSession(
      socket,
      { endpoint, name: dest.key.reveal(), deadlineMs: SETUP_MS },
      {
        onPublished: () => resolve({ session, socket, ended: () => ended }),
        onAck,
        onEnd: (end) => {
          if (end.kind === 'stopped') return;
          ended = describeCause(end, ctx);
          reject(new Error(ended));
        },
      },
    );
  });
}

function drained(socket: Duplex): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 250);
    socket.once('drain', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** Slope of acknowledged bytes between the first acknowledgement after `from` and the last one. */
function rate(acks: { at: number; bytes: number }[], from: number): number | null {
  const window = acks.filter((a) => a.at >= from);
  const first = window[0];
  const last = window[window.length - 1];
  if (!first || !last || last.at - first.at < 1000) return null;
  return Math.round(((last.bytes - first.bytes) * 8) / (last.at - first.at));
}

function perSecondRates(acks: { at: number; bytes: number }[], from: number): number[] {
  const out: number[] = [];
  const window = acks.filter((a) => a.at >= from);
  for (let t = from; t + 1000 <= (window[window.length - 1]?.at ?? from); t += 1000) {
    const slice = window.filter((a) => a.at >= t && a.at < t + 2000);
    const r = rate(slice, t);
    if (r !== null) out.push(r);
  }
  return out;
}
