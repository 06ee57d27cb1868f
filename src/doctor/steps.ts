import { lookup } from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';
import { RtmpClient } from '../rtmp/client.js';
import type { RtmpEndpoint } from '../platforms/destinations.js';
import type { TlsPolicy } from '../net/tls-policy.js';

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
  if (key === undefined || key.trim() === '')
    return { step: 'key', status: 'fail', detail: 'no stream key', fix: `set ${keyFrom}` };
  if (/^[a-z]+:\/\//i.test(key.trim()))
    return {
      step: 'key',
      status: 'fail',
      detail: 'the key is a URL',
      fix: `set ${keyFrom} to the stream key alone, not the ingest URL`,
    };
  if (/\s/.test(key.trim()))
    return {
      step: 'key',
      status: 'fail',
      detail: 'the key contains whitespace',
      fix: `paste the key alone into ${keyFrom}`,
    };
  if (key !== key.trim())
    return {
      step: 'key',
      status: 'warn',
      detail: 'the key has spaces or a newline around it (rtmpush trims them)',
      fix: `remove them from ${keyFrom}`,
    };
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
    return {
      step: 'dns',
      status: 'fail',
      detail: `cannot resolve ${host} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      fix: 'check the host name in the URL and your DNS',
      ms: 0,
    };
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

export function upgradeTls(socket: net.Socket, host: string, policy: TlsPolicy): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    // host too: with only a socket, Node checks the certificate against "localhost"
    const secure = tls.connect({
      socket,
      host,
      servername: net.isIP(host) ? undefined : host,
      rejectUnauthorized: !policy.insecure,
      ca: policy.ca,
    });
    // An absolute deadline: a server trickling bytes would keep an idle timeout from ever firing.
    const timer = setTimeout(
      () => secure.destroy(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' })),
      TIMEOUT_MS,
    );
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(secure);
    });
    secure.once('close', () => clearTimeout(timer));
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
export async function rtmpConnect(socket: net.Socket, endpoint: RtmpEndpoint): Promise<ConnectOutcome> {
  const client = new RtmpClient(socket, endpoint);
  client.deadline(TIMEOUT_MS, 'answer to the RTMP handshake and connect');
  try {
    let handshakeMs: number;
    try {
      handshakeMs = await client.handshake();
    } catch (error) {
      return { ok: false, detail: `during the handshake: ${(error as Error).message}`, handshakeMs: 0 };
    }
    const answer = await client.connect();
    // A server that drops an unknown app just closes: say so plainly.
    const detail =
      !answer.ok && /closed the connection$/.test(answer.detail)
        ? 'the server closed the connection right after connect (no reply)'
        : answer.detail;
    return { ok: answer.ok, detail, handshakeMs };
  } finally {
    client.close();
  }
}
