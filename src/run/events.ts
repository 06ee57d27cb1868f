import type { CopiedStream } from '../ingest/copy-check.js';
import type { Check, ReceivedSummary } from '../probe/summary.js';
import type { RuleCheck } from '../rehearse/rules.js';
import type { DestinationStateName } from '../state/destination.js';

/** An encode as the start event gives it. */
export interface EncodeSummary {
  id: string;
  preset: string;
  width: number;
  height: number;
  fps: number;
  kbps: number;
  audioKbps: number;
  encoder: string;
  destinations: string[];
}

export type SourceState = 'waiting' | 'live' | 'slate';

/** What the destinations get now, as the status shows it: the source, the slate (and why), or nothing yet. */
export interface SourceStatus {
  state: SourceState;
  reason: string | null;
  since: string;
}

/** Everything a run reports. Reporters turn these into terminal lines or NDJSON. */
export type RunEvent =
  | {
      type: 'start';
      preset: string;
      source: string;
      video: string;
      audio: string;
      bitrate: string;
      destinations: string[];
      /** One per distinct setting, in the one ffmpeg process (the first is the one above). */
      encodes: EncodeSummary[];
      ffmpeg: string;
      notes: string[];
    }
  | {
      type: 'state';
      destination: string;
      state: DestinationStateName;
      reason?: string;
      attempt?: number;
      delayMs?: number;
      nextRetryAt?: string;
    }
  | {
      type: 'stats';
      fps: number;
      speed: number | null;
      bitrateKbps: number | null;
      droppedFrames: number;
      outTimeMs: number;
      frame: number;
      destinations?: Record<string, DestinationStats>;
    }
  | { type: 'warning'; message: string }
  /**
   * `--source listen` and the slate: waiting for an encoder to publish (where, and which key: never the key
   * itself), the source live, or the slate on instead (why).
   */
  | { type: 'source'; state: SourceState; reason?: string; server?: string; key?: string }
  /**
   * `--copy`: what the encoder sends, as the check accepted it (from its metadata and first two keyframes): it goes
   * out as it is, and the slate is encoded to match it.
   */
  | ({ type: 'copy' } & CopiedStream)
  /** The video bitrate followed the uplink: down when every destination struggled, back up when none did. */
  | { type: 'bitrate'; kbps: number; previousKbps: number; reason: string }
  /** The machine could not carry the planned x264 speed: the encoder was stepped faster (or back, with room). */
  /** x264 stepped; `size`: each side of the picture as a share of the planned (past ultrafast: 0.67, then 0.44) */
  | { type: 'speed'; x264Preset: string; size: number; previous: string; previousSize: number; reason: string }
  /** SIGHUP applied the config file's destinations: the labels added, removed and replaced (new URL or key). */
  | { type: 'reload'; added: string[]; removed: string[]; replaced: string[] }
  | { type: 'log'; line: string }
  | { type: 'error'; code: string; message: string }
  | {
      type: 'received';
      destination: string;
      summary: ReceivedSummary;
      checks: Check[];
      meetsPreset: boolean;
      /** The publish went on past what the embedded server records: its first this many seconds are checked. */
      recordedFirstS?: number;
    }
  | {
      type: 'rehearsal';
      platform: string;
      name: string;
      ok: boolean;
      checks: RuleCheck[];
      /** With several encodes: the encode's `local` destination whose recording was checked. */
      destination?: string;
    }
  | {
      type: 'summary';
      exitCode: number;
      destinations: Record<
        string,
        { finalState: DestinationStateName; liveMs: number; reconnects: number; reason?: string }
      >;
      /**
       * `--record`: the files written (a new one after each encoder restart), and why recording stopped if it
       * failed.
       */
      record?: { files: string[]; failed?: string };
    };

export interface DestinationStats {
  state: string;
  /**
   * What the server acknowledged over the last seconds (what left the socket where it does not ack): 0 when not
   * live.
   */
  deliveredKbps: number;
  congested: boolean;
  droppedFrames: number;
  liveMs: number;
  reconnects: number;
}

/** One destination as the control API's status shows it: true at the instant it is asked. */
export interface DestinationStatus {
  label: string;
  platform: string | null;
  state: DestinationStateName;
  reason: string | null;
  attempt: number;
  nextRetryAt: string | null;
  /** 0 when not live; from the first acknowledgements on when live. */
  deliveredKbps: number;
  congested: boolean;
  droppedFrames: number;
  liveMs: number;
  reconnects: number;
  paused: boolean;
}

/** The status and what Prometheus counts besides: bytes delivered over every session. */
export interface DestinationMetrics extends DestinationStatus {
  deliveredBytes: number;
}

export type Emit = (event: RunEvent) => void;
