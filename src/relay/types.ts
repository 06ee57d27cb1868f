import type { TlsPolicy } from '../net/tls-policy.js';
import type { RtmpEndpoint } from '../rtmp/endpoint.js';
import type { Secret } from '../secret.js';
import type { RetryPolicy } from '../state/backoff.js';

export interface RelayTarget extends RtmpEndpoint {
  key: Secret;
}

export interface RelayHints {
  /** The app path the platform expects, for the unknown-app hint. */
  expectedApp?: string;
  /** The platform's RTMPS ingest, suggested when port 1935 cannot be reached. */
  rtmpsUrl?: string;
}

export type RelayEvent =
  | { type: 'live'; confirmedBy: 'ack' | 'open' }
  | { type: 'retry'; attempt: number; delayMs: number; nextRetryAt: number; reason: string }
  /** The server refused. `final` once it refused rejectLimit times in a row; until then a longer retry is scheduled. */
  | { type: 'rejected'; reason: string; final: boolean; attempt?: number; delayMs?: number; nextRetryAt?: number }
  | { type: 'failed'; reason: string }
  | { type: 'congested'; congested: boolean };

export interface RelayOptions {
  target: RelayTarget;
  retry: RetryPolicy;
  tls: TlsPolicy;
  hints?: RelayHints;
  onEvent: (event: RelayEvent) => void;
  /** The stream's total bitrate: sets how much unacknowledged data counts as congestion. */
  bitrateKbps: number;
}
