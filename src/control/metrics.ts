import http from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { UsageError } from '../errors.js';
import type { DestinationMetrics } from '../run/events.js';
import type { LiveSession } from '../run/session.js';
import type { DestinationStateName } from '../state/destination.js';

const STATES: DestinationStateName[] = [
  'connecting',
  'live',
  'reconnecting',
  'rejected',
  'failed',
  'stopped',
  'paused',
];

type Kind = 'gauge' | 'counter';

/**
 * Prometheus metrics of one running stream, read from it at each scrape. Labels are the destination's label and
 * platform: never a key or a URL.
 */
export function streamRegistry(live: () => LiveSession | undefined): Registry {
  const register = new Registry();
  const registers = [register];
  collectDefaultMetrics({ register });
  const rows = (): DestinationMetrics[] => live()?.board.metrics() ?? [];
  const put = (m: Gauge | Counter, kind: Kind, labels: Record<string, string>, v: number): void => {
    if (kind === 'gauge') (m as Gauge).set(labels, v);
    else (m as Counter).inc(labels, v);
  };
  const perDestination = (name: string, help: string, kind: Kind, read: (d: DestinationMetrics) => number): void => {
    const Metric = kind === 'gauge' ? Gauge : Counter;
    new Metric({
      name,
      help,
      labelNames: ['destination', 'platform'],
      registers,
      collect(this: Gauge | Counter) {
        this.reset();
        for (const d of rows()) put(this, kind, { destination: d.label, platform: d.platform ?? '' }, read(d));
      },
    });
  };
  const ofEncoder = (name: string, help: string, kind: Kind, read: (s: LiveSession) => number): void => {
    const Metric = kind === 'gauge' ? Gauge : Counter;
    new Metric({
      name,
      help,
      registers,
      collect(this: Gauge | Counter) {
        this.reset();
        const s = live();
        put(this, kind, {}, s ? read(s) : 0);
      },
    });
  };

  new Gauge({
    name: 'rtmpush_destination_state',
    help: 'Whether the destination is in this state now (1) or not (0)',
    labelNames: ['destination', 'platform', 'state'],
    registers,
    collect() {
      this.reset();
      for (const d of rows())
        for (const state of STATES)
          this.set({ destination: d.label, platform: d.platform ?? '', state }, d.state === state ? 1 : 0);
    },
  });
  perDestination(
    'rtmpush_destination_delivered_bits_per_second',
    'What the server took over the last seconds (0 when not live)',
    'gauge',
    (d) => d.deliveredKbps * 1000,
  );
  perDestination(
    'rtmpush_destination_acknowledged_bytes_total',
    'Bytes the server acknowledged (took, where it never acknowledges), over every session',
    'counter',
    (d) => d.deliveredBytes,
  );
  perDestination(
    'rtmpush_destination_reconnects_total',
    'Times it lost a live session',
    'counter',
    (d) => d.reconnects,
  );
  perDestination(
    'rtmpush_destination_dropped_frames_total',
    'Frames dropped for it (congestion, waiting for a keyframe)',
    'counter',
    (d) => d.droppedFrames,
  );
  perDestination('rtmpush_destination_live_seconds', 'Time it has been live', 'gauge', (d) => d.liveMs / 1000);
  ofEncoder('rtmpush_encoder_fps', 'Frames a second the encoder makes', 'gauge', (s) => s.encoder()?.fps ?? 0);
  ofEncoder('rtmpush_encoder_speed', 'Encoding speed (1 is real time)', 'gauge', (s) => s.encoder()?.speed ?? 0);
  ofEncoder(
    'rtmpush_encoder_dropped_frames_total',
    'Frames the encoder dropped',
    'counter',
    (s) => s.encoder()?.droppedFrames ?? 0,
  );
  ofEncoder(
    'rtmpush_encoder_restarts_total',
    'Encoders found stuck (no progress, an unreadable leg) and started again',
    'counter',
    (s) => s.counts().restarts,
  );
  ofEncoder(
    'rtmpush_slates_total',
    'Times the slate went on because the source was lost',
    'counter',
    (s) => s.counts().slates,
  );
  ofEncoder(
    'rtmpush_encoder_swaps_total',
    'Encoders swapped for one at another bitrate or x264 speed (the sessions held)',
    'counter',
    (s) => s.counts().swaps,
  );
  return register;
}

/** Serves `GET /metrics` (and nothing else) on HOST:PORT, read-only. */
export class MetricsServer {
  readonly #server: http.Server;

  constructor(private readonly register: Registry) {
    this.#server = http.createServer((req, res) => void this.#handle(req, res));
    this.#server.maxConnections = 16;
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 10_000;
  }

  /** Binds before anything starts: an address in use or not ours is bad input (exit 2). */
  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new UsageError(`--metrics ${host}:${port}: cannot listen there (${error.code ?? error.message})`)),
      );
      this.#server.listen(port, host, () => resolve());
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return end(res, 404, 'text/plain', 'only /metrics is served here\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return end(res, 405, 'text/plain', 'GET /metrics\n');
    end(res, 200, this.register.contentType, await this.register.metrics());
  }
}

function end(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
