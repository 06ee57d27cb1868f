import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { ChunkReader, MSG, writeChunks } from '../rtmp/chunk.js';
import { command, parseCommand, setChunkSize } from '../relay/messages.js';
import type { Amf0Object } from '../rtmp/amf0.js';
import type { RtmpEndpoint } from '../platforms/destinations.js';

export type StepStatus = 'pass' | 'warn' | 'fail';

export interface StepResult {
  step: 'key' | 'dns' | 'tcp' | 'tls' | 'rtmp' | 'rtt';
  status: StepStatus;
  detail: string;
  /** What to do, on warn or fail. */
  fix?: string;
  ms: number;
}

const TIMEOUT_MS = 5000;

/** Step 1: a key that looks like a key (pure). */
export function checkKeyShape(key: string | undefined, keyFrom: string): Omit<StepResult, 'ms'> {
  if (key === undefined || key.trim() === '') return { step: 'key', status: 'fail', detail: 'no stream key', fix: `set ${keyFrom}` };
  if (/^[a-z]+:\/\//i.test(key.trim())) return { step: 'key', status: 'fail', detail: 'the key is a URL', fix: `set ${keyFrom} to the stream key alone, not the ingest URL` };
  if (/\s/.test(key.trim())) return { step: 'key', status: 'fail', detail: 'the key contains whitespace', fix: `paste the key alone into ${keyFrom}` };
  if (key !== key.trim()) return { step: 'key', status: 'warn', detail: 'the key has spaces or a newline around it (rtmpush trims them)', fix: `remove them from ${keyFrom}` };
  return { step: 'key', status: 'pass', detail: `set (${key.length} characters)` };
}

const timed = async <T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const t = performance.now();
  const value = await fn();
  return { value, ms: Math.round(performance.now() - t) };
};

export async function checkDns(host: string): Promise<StepResult> {
  if (net.isIP(host)) return { step: 'dns', status: 'pass', detail: `${host} is an address`, ms: 0 };
  try {
    const { value, ms } = await timed(() => lookup(host, { all: true }));
    return { step: 'dns', status: 'pass', detail: `${host} → ${value.map((a) => a.address).join(', ')}`, ms };
  } catch (error) {
    return { step: 'dns', status: 'fail', detail: `cannot resolve ${host} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, fix: 'check the host name in the URL and your DNS', ms: 0 };
  }
}

/** Opens a TCP connection; resolves with the socket and how long the connect took (one round trip). */
export function connectTcp(host: string, port: number): Promise<{ socket: net.Socket; ms: number }> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const socket = net.connect({ host, port });
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    socket.once('connect', () => {
      socket.setTimeout(0);
      resolve({ socket, ms: Math.round(performance.now() - t) });
    });
    socket.once('error', reject);
  });
}

export function upgradeTls(socket: net.Socket, host: string, caFile?: string, insecure = false): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ socket, servername: net.isIP(host) ? undefined : host, rejectUnauthorized: !insecure, ca: caFile ? readFileSync(caFile) : undefined });
    secure.setTimeout(TIMEOUT_MS, () => secure.destroy(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' })));
    secure.once('secureConnect', () => {
      secure.setTimeout(0);
      resolve(secure);
    });
    secure.once('error', reject);
  });
}

export interface ConnectOutcome {
  ok: boolean;
  /** The server's words, or what happened. */
  detail: string;
  /** RTMP handshake round trip (C0+C1 sent → S0+S1 received). */
  handshakeMs: number;
}

/** RTMP handshake and `connect` to the app, and nothing more: no stream is created, nothing is published. */
export function rtmpConnect(socket: net.Socket, endpoint: RtmpEndpoint): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const reader = new ChunkReader();
    let hs = Buffer.alloc(0);
    let phase: 'handshake' | 'connect' | 'done' = 'handshake';
    let handshakeMs = 0;
    const t = performance.now();
    const finish = (ok: boolean, detail: string): void => {
      if (phase === 'done') return;
      phase = 'done';
      socket.destroy();
      resolve({ ok, detail, handshakeMs });
    };
    socket.setTimeout(TIMEOUT_MS, () => finish(false, 'no answer to the RTMP handshake or connect within 5 s'));
    socket.on('error', (e) => finish(false, e.message));
    socket.on('close', () => finish(false, phase === 'connect' ? 'the server closed the connection right after connect (no reply)' : 'the server closed the connection during the handshake'));
    socket.on('data', (data: Buffer) => {
      if (phase === 'handshake') {
        hs = Buffer.concat([hs, data]);
        if (!handshakeMs && hs.length >= 1) handshakeMs = Math.round(performance.now() - t);
        if (hs.length < 1 + 2 * 1536) return;
        socket.write(hs.subarray(1, 1537));
        phase = 'connect';
        const tcUrl = `${endpoint.protocol}://${endpoint.host}:${endpoint.port}/${endpoint.app}`;
        socket.write(writeChunks(setChunkSize(4096), 128));
        socket.write(writeChunks(command(0, 'connect', 1, { app: endpoint.app, type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; rtmpush doctor)', tcUrl }), 4096));
        data = hs.subarray(1 + 2 * 1536);
        if (data.length === 0) return;
      }
      for (const msg of reader.push(data)) {
        if (msg.typeId !== MSG.CommandAmf0) continue;
        const cmd = parseCommand(msg);
        if (!cmd || cmd.txn !== 1) continue;
        const info = (cmd.args[1] ?? {}) as Amf0Object;
        const words = [info.code, info.description].filter(Boolean).join(': ') || cmd.name;
        finish(cmd.name === '_result', words);
      }
    });
    socket.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(8), randomBytes(1528)]));
  });
}
