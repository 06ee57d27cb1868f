import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { connectTcp, upgradeTls } from '../doctor/steps.js';
import type { Destination } from '../platforms/destinations.js';
import { expectedApp, findPlatform, wrongAppHint } from '../platforms/table.js';
import { MSG } from '../rtmp/chunk.js';
import { RtmpClient } from '../rtmp/client.js';
import type { TlsPolicy } from '../net/tls-policy.js';

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
  const { endpoint } = dest;
  const tcp = await connectTcp(endpoint.host, endpoint.port);
  const socket: net.Socket =
    endpoint.protocol === 'rtmps' ? await upgradeTls(tcp.socket, endpoint.host, opts.tls) : tcp.socket;
  const client = new RtmpClient(socket, endpoint);
  try {
    const setup = client.deadline(SETUP_MS, 'answer to the handshake, connect and publish');
    await client.handshake();
    const connected = await client.connect();
    if (!connected.ok) {
      const platform = dest.platform ? findPlatform(dest.platform) : undefined;
      throw new Error(
        `the server refused connect (${connected.detail}): ${wrongAppHint(endpoint.app, platform ? expectedApp(platform) : undefined)}`,
      );
    }
    const published = await client.publish(dest.key.reveal());
    if (!published.ok) throw new Error(`the server refused the test publish: ${published.detail}`);
    setup.done();

    const warmup = opts.warmupMs ?? 2000;
    const start = Date.now();
    const acks: { at: number; bytes: number }[] = [];
    client.onAck = (bytes, at) => acks.push({ at, bytes });
    // Filler "video": inter frames of random bytes, so nothing compresses along the way.
    const payload = Buffer.concat([Buffer.from([0x27, 0x01, 0, 0, 0]), randomBytes(16 * 1024)]);
    let ts = 0;
    let closed = false;
    socket.once('close', () => (closed = true));
    let sentAtWarmup: { at: number; bytes: number } | undefined;
    const warm = setTimeout(() => (sentAtWarmup = { at: Date.now(), bytes: client.sent }), warmup);
    const progress = setInterval(() => opts.onProgress?.(Date.now() - start, rate(acks, start + warmup)), 1000);
    while (!closed && Date.now() - start < opts.seconds * 1000) {
      ts += 33;
      const more = client.write({ csid: 6, typeId: MSG.Video, streamId: client.streamId, timestamp: ts, payload });
      if (!more)
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 250);
          socket.once('drain', () => {
            clearTimeout(t);
            resolve();
          });
        });
    }
    clearInterval(progress);
    clearTimeout(warm);
    const senderSideKbps = sentAtWarmup
      ? Math.round(((client.sent - sentAtWarmup.bytes) * 8) / (Date.now() - sentAtWarmup.at))
      : null;
    if (closed) throw new Error('the server closed the test stream');
    const kbps = rate(acks, start + warmup);
    if (kbps === null)
      throw new Error(
        'the server sent no acknowledgements: it cannot be used to measure (try --to local or another target)',
      );
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
    client.close();
  }
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
