import net from 'node:net';
import tls from 'node:tls';
import { secureContextOf, type TlsPolicy } from './tls-policy.js';

/** Why a connection could not be made or was lost, in the socket's own terms. */
export type DialFailure =
  | { kind: 'network'; code: string; message: string }
  | { kind: 'untrusted'; code: string }
  | { kind: 'silent'; ms: number };

/** OpenSSL's and Node's codes for a certificate that is not trusted (rejected, never retried). */
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);

/** The one classification of socket errors. */
export function classifySocketError(error: NodeJS.ErrnoException): DialFailure {
  const code = error.code ?? 'EIO';
  return UNTRUSTED.has(code) ? { kind: 'untrusted', code } : { kind: 'network', code, message: error.message };
}

export class DialError extends Error {
  constructor(readonly failure: DialFailure) {
    super(failure.kind === 'silent' ? `no answer within ${failure.ms / 1000} s` : failure.code);
  }
}

/** A TCP connection, within `timeoutMs` (absolute). Resolves with the socket and the connect's round trip. */
export function connectTcp(host: string, port: number, timeoutMs: number): Promise<{ socket: net.Socket; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => fail(new DialError({ kind: 'silent', ms: timeoutMs })), timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error instanceof DialError ? error : new DialError(classifySocketError(error)));
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.setNoDelay(true);
      resolve({ socket, ms: Math.round(performance.now() - started) });
    });
  });
}

/** TLS over a connected socket, with the certificate checked as `policy` says, within `timeoutMs`. */
export function upgradeTls(
  socket: net.Socket,
  host: string,
  policy: TlsPolicy,
  timeoutMs: number,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    // host too: with only a socket, Node checks the certificate against "localhost"
    const secure = tls.connect({
      socket,
      host,
      servername: net.isIP(host) ? undefined : host,
      rejectUnauthorized: !policy.insecure,
      secureContext: secureContextOf(policy),
    });
    const timer = setTimeout(() => fail(new DialError({ kind: 'silent', ms: timeoutMs })), timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      secure.destroy();
      reject(error instanceof DialError ? error : new DialError(classifySocketError(error)));
    };
    secure.once('error', fail);
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      secure.off('error', fail);
      resolve(secure);
    });
  });
}

/** TCP, then TLS for rtmps://, all within `timeoutMs`. Rejects with a DialError. */
export async function dial(
  endpoint: { protocol: 'rtmp' | 'rtmps'; host: string; port: number },
  policy: TlsPolicy,
  timeoutMs: number,
): Promise<net.Socket> {
  const started = Date.now();
  const { socket } = await connectTcp(endpoint.host, endpoint.port, timeoutMs);
  if (endpoint.protocol === 'rtmp') return socket;
  return upgradeTls(socket, endpoint.host, policy, Math.max(1, timeoutMs - (Date.now() - started)));
}
