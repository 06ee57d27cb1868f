import { lookup } from 'node:dns/promises';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { type CauseContext, describeCause } from '../advice/cause.js';
import type { RtmpEndpoint } from '../rtmp/endpoint.js';
import { PublisherSession } from '../rtmp/publisher.js';
import { keyAdvice, keyProblem, keyProblemText } from '../platforms/key-rules.js';
import { peerText } from '../util/text.js';

export type StepStatus = 'pass' | 'warn' | 'fail';

export interface StepResult {
  step: 'key' | 'dns' | 'tcp' | 'tls' | 'rtmp' | 'rtt';
  status: StepStatus;
  detail: string;
  /** What to do, on warn or fail. */
  fix?: string;
  ms: number;
}

/** Each step's deadline. */
export const TIMEOUT_MS = 5000;

/** Step 1: a key that looks like a key (pure): the rules start applies (platforms/key-rules.ts). */
export function checkKeyShape(key: string | undefined, keyFrom: string): Omit<StepResult, 'ms'> {
  const problem = keyProblem(key);
  if (!problem) return { step: 'key', status: 'pass', detail: `set (${key!.length} characters)` };
  return {
    step: 'key',
    status: problem === 'padded' ? 'warn' : 'fail',
    detail: keyProblemText(problem),
    fix: keyAdvice(problem, keyFrom),
  };
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

export interface ConnectOutcome {
  ok: boolean;
  /** The server's words, or what happened. */
  detail: string;
  /** RTMP handshake round trip (C0+C1 sent → S0+S1+S2 received). */
  handshakeMs: number;
  /** Whether the app path is the likely cause: a refusal, or a close with no answer to `connect`. */
  appProblem: boolean;
}

/**
 * RTMP handshake and `connect` to the app, and nothing more: no stream is created, nothing is published. The same
 * publisher session the relay uses; what went wrong is said in the same words.
 */
export function rtmpConnect(
  socket: Duplex,
  endpoint: RtmpEndpoint,
  ctx: Omit<CauseContext, 'wasLive'>,
): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    let answer: string | undefined;
    const session = new PublisherSession(
      socket,
      { endpoint, name: '', connectOnly: true, deadlineMs: TIMEOUT_MS },
      {
        onConnected: (code) => {
          answer = code;
        },
        onEnd: (end) =>
          resolve(
            answer !== undefined
              ? { ok: true, detail: peerText(answer), handshakeMs: session.handshakeMs, appProblem: false }
              : {
                  ok: false,
                  detail: describeCause(end, { ...ctx, wasLive: false }),
                  handshakeMs: session.handshakeMs,
                  appProblem: end.kind === 'refused' || (end.kind === 'closed' && end.phase === 'connect'),
                },
          ),
      },
    );
  });
}
