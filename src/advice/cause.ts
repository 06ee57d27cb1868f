import type { DialFailure } from '../net/dial.js';
import type { SessionEnd } from '../rtmp/publisher.js';
import { peerText } from '../util/text.js';

/** Why a destination's session ended: what the dial or the RTMP session reported, in their terms. */
export type Cause = SessionEnd | DialFailure;

/** What the words need to know about the destination. */
export interface CauseContext {
  host: string;
  port: number;
  app: string;
  /** The app path the destination's platform expects, if it has one. */
  expectedApp?: string;
  /** The platform's RTMPS ingest, offered when port 1935 cannot be reached. */
  rtmpsUrl?: string;
  /** Whether the destination had been live in this session (a close then is a loss, not a refusal). */
  wasLive: boolean;
}

/** A refusal is retried slowly and ends `rejected`; anything else is a network loss, retried with backoff. */
export function isRefusal(cause: Cause, wasLive: boolean): boolean {
  if (cause.kind === 'refused' || cause.kind === 'untrusted') return true;
  return (
    cause.kind === 'closed' &&
    !wasLive &&
    (cause.phase === 'connect' || cause.phase === 'publish' || cause.phase === 'streaming')
  );
}

/** A certificate that is not trusted will not become trusted by retrying. */
export const isFinal = (cause: Cause): boolean => cause.kind === 'untrusted';

/** What the platform expects, said when the app path looks wrong. */
export function wrongAppHint(app: string, expected: string | undefined): string {
  return (
    `the app path "${app}" is probably wrong` +
    `${expected && expected !== app ? ` (the platform expects "${expected}")` : ''}`
  );
}

/** The one place a session's end becomes words (and the fix, where there is one): the relay and doctor use it. */
export function describeCause(cause: Cause, ctx: CauseContext): string {
  const where = `${ctx.host.includes(':') ? `[${ctx.host}]` : ctx.host}:${ctx.port}`;
  switch (cause.kind) {
    case 'refused': {
      // The server's own words: printed without control characters, cut to 200 characters (util/text.ts).
      const status = peerText(cause.description ? `${cause.code}: ${cause.description}` : cause.code);
      const what = `the server refused ${cause.phase === 'connect' ? 'the connection' : 'the publish'}: ${status}`;
      if (/already publishing|BadName/i.test(status))
        return `${what} — another encoder is publishing with this key; stop it or use a fresh key`;
      return what;
    }
    case 'closed':
      if (ctx.wasLive) return `${where} closed the connection`;
      switch (cause.phase) {
        case 'handshake':
          return `${where} closed the connection during the RTMP handshake (is it an RTMP server?)`;
        case 'connect': {
          const hint = wrongAppHint(ctx.app, ctx.expectedApp);
          return `the server closed the connection after the handshake without answering connect: ${hint}`;
        }
        default:
          // No reason given: a wrong key, a denied app, or a name another encoder holds (node-media-server) all look
          // alike.
          return (
            'the server closed the connection when asked to publish: check the key and the app path, ' +
            'and that no other encoder is publishing with this key'
          );
      }
    case 'silent': {
      const within = `within ${Math.round(cause.ms / 1000)} s`;
      if (!('phase' in cause)) return `no answer from ${where} ${within}`;
      if (cause.phase === 'handshake')
        return `${where} accepted the connection but did not answer the RTMP handshake ${within}`;
      return `${where} did not answer ${cause.phase === 'connect' ? 'connect' : 'publish'} ${within}`;
    }
    case 'protocol':
      return `the server broke the RTMP protocol: ${cause.detail}`;
    case 'stalled':
      return (
        `the server stopped ${cause.acking ? 'acknowledging' : 'taking data'} ` +
        `for ${Math.round(cause.ms / 1000)} s (hung or overloaded)`
      );
    case 'untrusted': {
      const fix = 'set RTMPUSH_CA_FILE for a private CA, or pass --insecure-tls to skip the check';
      return `the server's TLS certificate is not trusted (${cause.code}): ${fix}`;
    }
    case 'network':
      return describeNetwork(cause, where, ctx);
    case 'stopped':
      return 'stopped';
  }
}

function describeNetwork(cause: Extract<Cause, { kind: 'network' }>, where: string, ctx: CauseContext): string {
  switch (cause.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve ${ctx.host}: check the host name and your DNS`;
    case 'ECONNREFUSED':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH': {
      const what = cause.code === 'ECONNREFUSED' ? 'connection refused' : 'unreachable';
      const tip =
        ctx.port === 1935 && ctx.rtmpsUrl
          ? `: port 1935 may be blocked; try the RTMPS URL on 443 (${ctx.rtmpsUrl})`
          : '';
      return `${where} ${what}${tip}`;
    }
    case 'ECONNRESET':
      return `${where} reset the connection`;
    case 'EPIPE':
      return `${where} closed the connection`;
    default:
      return `${where}: ${cause.message}`;
  }
}
