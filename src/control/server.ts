import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import { RequestRefused, UsageError } from '../errors.js';
import { redact } from '../secret.js';
import { type Answer, type Controller, MAX_BODY_BYTES, route } from './api.js';

/** At most this many connections at once; event followers take at most MAX_FOLLOWERS of them. */
const MAX_CONNECTIONS = 64;
const MAX_FOLLOWERS = 16;
/** An event follower that has not read this much is dropped: a stalled client never grows our memory. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * The control API of one running stream: HTTP/1.1 and JSON on a Unix socket only its user can reach (the folder
 * is 0700, the socket 0600). Every answer goes through the key redaction, as everything rtmpush prints.
 */
export class ControlServer {
  readonly #server: http.Server;
  readonly #followers = new Set<http.ServerResponse>();
  #ino: number | undefined;

  constructor(
    readonly path: string,
    controller: Controller,
  ) {
    this.#server = http.createServer((req, res) => {
      this.#handle(controller, req, res).catch((error: unknown) => {
        // never an unhandled rejection: the stream goes on whatever a request does
        if (!res.headersSent) send(res, { status: 500, body: { error: `internal error: ${String(error)}` } });
        else res.destroy();
      });
    });
    this.#server.maxConnections = MAX_CONNECTIONS;
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 10_000;
    // /v1/events streams for as long as the run lasts
    this.#server.timeout = 0;
  }

  /** Takes the socket path: refuses a live one (another run of this name), replaces a stale one. */
  async listen(name: string): Promise<void> {
    await refuseRunning(this.path, name);
    try {
      await new Promise<void>((resolve, reject) => {
        this.#server.once('error', reject);
        this.#server.listen(this.path, () => {
          this.#server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      // another start of this name took the path between the check and now
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      await refuseAnswering(this.path, name);
      throw new UsageError(`${this.path} was taken by another start meanwhile: try again, or pick another --name`);
    }
    chmodSync(this.path, 0o600);
    this.#ino = lstatSync(this.path).ino;
  }

  /** Ends event streams (after what was written, the summary included), stops answering, removes the socket. */
  async close(): Promise<void> {
    for (const res of this.#followers) res.end();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    // a client that does not let go is cut after a second
    const cut = setTimeout(() => this.#server.closeAllConnections(), 1000);
    await closed;
    clearTimeout(cut);
    try {
      if (this.#ino !== undefined && lstatSync(this.path).ino === this.#ino) unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  async #handle(c: Controller, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    if (method === 'GET' && (req.url ?? '').split('?')[0] === '/v1/events') return this.#events(c, req, res);
    let body: string;
    try {
      body = await readBody(req);
    } catch {
      // the rest of the body is not read: answer, then close the connection
      res.once('finish', () => req.destroy());
      res.shouldKeepAlive = false;
      return send(res, { status: 413, body: { error: `the body is over ${MAX_BODY_BYTES} bytes` } });
    }
    let answer: Answer;
    try {
      answer = await route(c, method, req.url ?? '/', body);
    } catch (error) {
      if (error instanceof RequestRefused) answer = { status: error.status, body: { error: error.message } };
      else if (error instanceof UsageError) answer = { status: 400, body: { error: error.message } };
      else answer = { status: 500, body: { error: `internal error: ${(error as Error).message}` } };
    }
    send(res, answer);
  }

  /** Server-Sent Events: each event `--json` would print, as one `data:` line. */
  #events(c: Controller, req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.#followers.size >= MAX_FOLLOWERS)
      return send(res, { status: 503, body: { error: `already ${MAX_FOLLOWERS} event followers; try later` } });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(': rtmpush events\n\n');
    this.#followers.add(res);
    const off = c.onEvent((json) => {
      if (res.writableLength > MAX_BUFFERED_BYTES) return void res.destroy();
      res.write(`data: ${json}\n\n`);
    });
    const done = (): void => {
      off();
      this.#followers.delete(res);
    };
    req.socket.once('close', done);
    res.once('close', done);
  }
}

function send(res: http.ServerResponse, answer: Answer): void {
  const text = `${redact(JSON.stringify(answer.body ?? null))}\n`;
  res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.pause();
        return reject(new Error('too large'));
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

/**
 * A socket at the path: if a run answers on it, that name is taken (exit 2 with its pid); if nothing answers, it
 * is what a killed run left behind, and is removed. Anything else at the path is refused, never removed.
 */
async function refuseRunning(path: string, name: string): Promise<void> {
  let found: { isSocket(): boolean; ino: number };
  try {
    found = lstatSync(path);
  } catch {
    return;
  }
  if (!found.isSocket())
    throw new UsageError(`${path} exists and is not a socket: move it away, or pick another --name`);
  await refuseAnswering(path, name);
  // Only the stale socket that was found: another start of this name may have replaced it while it was asked.
  try {
    if (lstatSync(path).ino === found.ino) unlinkSync(path);
  } catch {
    // gone meanwhile
  }
}

async function refuseAnswering(path: string, name: string): Promise<void> {
  const pid = await runningPid(path);
  if (pid !== undefined)
    throw new UsageError(`rtmpush \`${name}\` is already running (pid ${pid ?? '?'}); pick another --name`);
}

/** The pid of the run answering on the socket; undefined if nothing answers (a stale socket). */
function runningPid(path: string): Promise<number | null | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: path, path: '/v1/status', timeout: 2000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (text.length < 1_000_000) text += d;
      });
      res.on('end', () => {
        try {
          resolve((JSON.parse(text) as { pid?: number }).pid ?? null);
        } catch {
          resolve(null);
        }
      });
    });
    // Connected but no answer in time: something holds the socket; treat the name as taken.
    req.on('timeout', () => {
      req.destroy();
      resolve(null);
    });
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? undefined : null),
    );
  });
}
