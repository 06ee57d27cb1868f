import type { RunEvent } from '../run/events.js';
import { retryDelay } from '../state/backoff.js';
import {
  type RunKind,
  type RunRef,
  type SourceEffect,
  type SourceSetup,
  type SourceState,
  SOURCE_RETRY,
  STOP_SLACK_MS,
} from './types.js';

/** The state as a step changes it. */
export type Draft = { -readonly [K in keyof SourceState]: SourceState[K] };

/**
 * One step of the source machine: a draft of the state, and the effects asked for. What every handler does (a run
 * started, given up or killed, the slate on, the stream stopped) is here; the handlers are in machine.ts.
 */
export class Step {
  readonly effects: SourceEffect[] = [];

  constructor(
    readonly setup: SourceSetup,
    readonly s: Draft,
  ) {}

  emit(event: RunEvent): void {
    this.effects.push({ type: 'emit', event });
  }

  /** The destinations start, and --duration starts counting (the director's to keep where a slate covers). */
  begin(at: number): void {
    const s = this.s;
    s.phase = 'streaming';
    s.published = true;
    // --duration counts from here: an ingest's first publish, else the start
    s.startedAt = at;
    this.effects.push({ type: 'destinations' });
    const { durationMs } = this.setup;
    if (durationMs !== undefined)
      this.effects.push({
        type: 'set-timer',
        timer: 'duration',
        ms: this.setup.slate ? durationMs : durationMs + STOP_SLACK_MS,
      });
  }

  /** A new run: the stream if there is none, else staged to take over on its first keyframe. */
  startRun(kind: RunKind, at: number, how: { swap?: boolean; durationMs?: number } = {}): RunRef {
    const s = this.s;
    const run: RunRef = {
      id: s.nextId,
      kind,
      kbps: s.kbps,
      steps: s.steps,
      startedAt: at,
      ...(kind === 'source' && s.publisher ? { publisher: s.publisher.id, audio: s.publisher.audio } : {}),
      ...(how.swap ? { swap: true } : {}),
    };
    s.nextId++;
    s.running = [...s.running, run.id];
    const durationMs = how.durationMs ?? this.remainingForFfmpeg(at);
    const stage = s.current !== undefined;
    this.effects.push({ type: 'run', run, stage, ...(durationMs !== undefined ? { durationMs } : {}) });
    if (!stage) {
      s.current = run;
      this.effects.push({ type: 'current', run: run.id });
      this.announce(run);
      return run;
    }
    if (s.staged) this.abandon(s.staged);
    s.staged = run;
    this.effects.push({ type: 'set-timer', timer: 'staged', ms: this.setup.watchdogMs, run: run.id });
    return run;
  }

  /** Where no slate covers, ffmpeg itself ends at --duration (-t): what is left of it. */
  remainingForFfmpeg(at: number): number | undefined {
    const { durationMs, slate } = this.setup;
    if (durationMs === undefined || slate) return undefined;
    return Math.max(1000, durationMs - (at - this.s.startedAt));
  }

  /** Given up before it took over: its leg closed, it is killed. */
  abandon(run: RunRef): void {
    if (this.s.staged?.id === run.id) {
      this.s.staged = undefined;
      this.effects.push({ type: 'clear-timer', timer: 'staged' });
    }
    this.effects.push({ type: 'abandon-run', run: run.id });
  }

  kill(run: RunRef, reason: string): void {
    const s = this.s;
    if (run.killedFor) return;
    const killed = { ...run, killedFor: reason };
    if (s.current?.id === run.id) s.current = killed;
    const whose = run.kind === 'slate' ? "slate's " : '';
    const then = this.setup.slate ? 'stopping it' : 'restarting it';
    this.emit({ type: 'warning', message: `${reason.replace(/^the encoder/, `the ${whose}encoder`)}: ${then}` });
    this.effects.push({ type: 'kill-run', run: run.id });
  }

  /** A source's run is the stream: the destinations are told, and the slate's time stops running. */
  announce(run: RunRef): void {
    const s = this.s;
    if (run.kind !== 'source') return;
    s.retries = 0;
    if (s.current?.id !== run.id || s.shown === 'live') return;
    if (s.shown === 'slate') s.fed = true;
    s.shown = 'live';
    this.effects.push({ type: 'clear-timer', timer: 'slate' });
    this.emit({ type: 'source', state: 'live' });
  }

  /** The bitrate or speed wanted changed: the source's run is swapped for one at it (where it can be). */
  swapIfNeeded(at: number): void {
    const s = this.s;
    const current = s.current;
    if (s.phase !== 'streaming' || current?.kind !== 'source' || s.staged) return;
    if (current.kbps === s.kbps && current.steps === s.steps) return;
    if (!this.setup.swappable || this.setup.copy || (this.setup.listen && !s.publisher?.ready)) return;
    this.startRun('source', at, { swap: true });
  }

  /** A lost source (not `listen`) is started again, staged, until one takes over. */
  retryLater(): void {
    const s = this.s;
    if (this.setup.listen || s.phase !== 'streaming' || s.retrying) return;
    s.retrying = true;
    s.retries++;
    this.effects.push({ type: 'set-timer', timer: 'retry', ms: retryDelay(SOURCE_RETRY, s.retries, false, 0) });
  }

  /** The source has gone: the slate goes on (or the stream ends, with no slate time). Said once per loss. */
  lost(reason: string, at: number): void {
    const s = this.s;
    if (s.phase !== 'streaming' || s.publisher) return;
    this.retryLater();
    if (s.shown === 'slate') return;
    s.shown = 'slate';
    this.emit({ type: 'source', state: 'slate', reason });
    if (this.setup.slateTimeoutMs === 0) {
      s.sourceLost = true;
      return this.stop();
    }
    s.counts.slates++;
    this.effects.push({ type: 'set-timer', timer: 'slate', ms: this.setup.slateTimeoutMs });
    if (s.staged?.kind !== 'slate' && s.current?.kind !== 'slate') this.startRun('slate', at);
  }

  stop(): void {
    const s = this.s;
    if (s.phase === 'stopping' || s.phase === 'ended') return;
    s.phase = 'stopping';
    for (const timer of ['slate', 'duration', 'retry', 'staged'] as const)
      this.effects.push({ type: 'clear-timer', timer });
    if (s.publisher) this.effects.push({ type: 'close-publisher', publisher: s.publisher.id });
    if (s.staged) this.abandon(s.staged);
    const current = s.current;
    if (!current || !s.running.includes(current.id)) {
      if (s.running.length === 0) return this.end();
      return;
    }
    this.effects.push({ type: 'stop-run', run: current.id });
  }

  end(): void {
    this.s.phase = 'ended';
    this.effects.push({ type: 'done' });
  }
}
