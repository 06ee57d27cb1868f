import { Step } from './step.js';
import {
  type RunRef,
  SLATE_MIN_RUN_MS,
  type SourceEffect,
  type SourceEvent,
  type SourceSetup,
  type SourceState,
} from './types.js';

export * from './types.js';

/**
 * The source side of a stream as one pure state machine: which encoder (a "run") feeds the destinations, which one
 * is starting to take over, what the destinations were told, and what happens when a run ends, stalls or goes
 * silent. Every swap is decided here: the slate in and out, a publisher back, a restart, a bitrate or x264 speed
 * step. `nextSource(state, event)` gives the next state and what to do (effects); the supervisor does it. Its
 * states, events and effects are in types.ts; what the handlers share (start a run, the slate on, stop) in step.ts.
 */
export function nextSource(
  setup: SourceSetup,
  state: SourceState,
  event: SourceEvent,
): { state: SourceState; effects: SourceEffect[] } {
  const m = new Step(setup, { ...state, counts: { ...state.counts } });
  on(m, event);
  return { state: m.s, effects: m.effects };
}

/** What each event does. */
function on(m: Step, e: SourceEvent): void {
  const s = m.s;
  if (s.phase === 'ended') return;
  switch (e.type) {
    case 'start':
      if (s.phase !== 'waiting' || m.setup.listen) return;
      m.begin(e.at);
      return void m.startRun('source', e.at);
    case 'publish':
      return publish(m, e.publisher, e.at);
    case 'ready':
      return ready(m, e.publisher, e.audio, e.at);
    case 'gone':
      return gone(m, e.publisher, e.reason, e.at);
    case 'taken':
      return taken(m, e.run, e.at);
    case 'exited':
      return exited(m, e);
    case 'tick':
      return tick(m, e);
    case 'fault':
      if (s.current && s.phase === 'streaming') m.kill(s.current, e.reason);
      return;
    case 'retry-due':
      s.retrying = false;
      // the source is back already (a run of it is the stream, still running)
      if (s.phase !== 'streaming' || (s.current?.kind === 'source' && s.running.includes(s.current.id))) return;
      // the slate is still starting (or a retry is under way): the source is tried once that is settled
      if (s.staged) return m.retryLater();
      return void m.startRun('source', e.at);
    case 'slate-timeout':
      s.sourceLost = true;
      return m.stop();
    case 'staged-timeout':
      // one that never shows a keyframe is given up (a retry comes later; a publisher's is cut off)
      if (s.staged?.id === e.run) m.effects.push({ type: 'kill-run', run: e.run });
      return;
    case 'stop':
      return m.stop();
    case 'bitrate':
      s.kbps = e.kbps;
      return reaim(m, e.at);
    case 'speed':
      s.steps = e.steps;
      return reaim(m, e.at);
  }
}

/**
 * The rate or speed wanted changed: a swap under way to another one is given up for one to this (a link that fell
 * further meanwhile is not made to wait for it); else the source's run is swapped if it is not at it.
 */
function reaim(m: Step, at: number): void {
  const staged = m.s.staged;
  if (staged?.swap && (staged.kbps !== m.s.kbps || staged.steps !== m.s.steps)) m.abandon(staged);
  m.swapIfNeeded(at);
}

function publish(m: Step, publisher: number, at: number): void {
  const s = m.s;
  if (s.phase === 'stopping') return void m.effects.push({ type: 'close-publisher', publisher });
  s.publisher = { id: publisher, ready: false, audio: true };
  // a source of the publisher before it that has not taken over yet never will
  if (s.staged?.kind === 'source') m.abandon(s.staged);
  // the destinations dial as soon as an encoder publishes; a copied stream only once it is accepted
  if (!s.published && !m.setup.copy) m.begin(at);
}

/** The publisher's first keyframe (or its stream accepted): its encoder starts, knowing whether audio comes. */
function ready(m: Step, publisher: number, audio: boolean, at: number): void {
  const s = m.s;
  if (s.publisher?.id !== publisher || s.phase === 'stopping') return;
  s.publisher = { id: publisher, ready: true, audio };
  if (!s.published) m.begin(at);
  m.startRun('source', at);
}

/** A publisher has gone: its run that never took over is given up; the slate goes on (if it was live). */
function gone(m: Step, publisher: number, reason: string, at: number): void {
  const s = m.s;
  if (s.publisher?.id !== publisher) return;
  s.publisher = undefined;
  if (s.staged?.publisher === publisher) m.abandon(s.staged);
  // (a --copy run ends with its publisher by itself: the publishers stop it)
  if (s.current?.publisher === publisher) m.lost(reason, at);
}

/** A staged run's first keyframe reached the feed: it is the stream now; the one before is stopped. */
function taken(m: Step, id: number, at: number): void {
  const s = m.s;
  const run = s.staged?.id === id ? s.staged : undefined;
  if (!run || s.phase !== 'streaming') return;
  const before = s.current;
  s.current = run;
  s.staged = undefined;
  m.effects.push({ type: 'clear-timer', timer: 'staged' }, { type: 'current', run: id });
  if (run.swap) s.counts.swaps++;
  // replaced, not failed: its end means nothing
  if (before) m.effects.push({ type: 'stop-run', run: before.id });
  m.announce(run);
  m.swapIfNeeded(at);
}

function exited(m: Step, e: Extract<SourceEvent, { type: 'exited' }>): void {
  const s = m.s;
  s.running = s.running.filter((id) => id !== e.run);
  const wasStaged = s.staged?.id === e.run;
  const run = wasStaged ? s.staged : s.current?.id === e.run ? s.current : undefined;
  if (wasStaged) {
    s.staged = undefined;
    m.effects.push({ type: 'clear-timer', timer: 'staged' });
  }
  if (s.phase === 'stopping') {
    if (s.running.length === 0) m.end();
    return;
  }
  // replaced or given up: its end means nothing
  if (!run) return;
  if (wasStaged && run.swap) {
    // a swap that failed: the rate stays
    s.kbps = s.current?.kbps ?? s.kbps;
    s.steps = s.current?.steps ?? s.steps;
    return m.emit({ type: 'warning', message: `could not switch the encoder (${e.reason}): staying as it is` });
  }
  if (!m.setup.slate) return endedUncovered(m, run, e);
  if (run.kind === 'slate') {
    if (!wasStaged && s.current?.id !== run.id) return;
    if (wasStaged && s.current?.kind === 'source') return;
    // a slate that cannot run fails the stream (a file ffmpeg cannot loop); one that ran is started again
    if (e.at - run.startedAt < SLATE_MIN_RUN_MS) return fail(m, e);
    if (s.current?.id === run.id && !s.staged) m.startRun('slate', e.at);
    return;
  }
  if (run.publisher !== undefined) {
    // an ingest's encoder ended (failed, stalled, never took over) with its publisher still there: the
    // publisher is cut off, saying why, and may publish again; the slate goes on meanwhile
    if (run.publisher === s.publisher?.id && (!wasStaged || s.current?.publisher === undefined))
      m.effects.push({ type: 'close-publisher', publisher: run.publisher, reason: e.reason });
    return;
  }
  // a retry that did not take over: another, later
  if (wasStaged) return m.retryLater();
  // a URL, camera or screen that never gave a frame is not lost but wrong (a typo, no such device): it fails
  // the stream rather than putting a slate on air for minutes
  if (!s.fed && !e.fed) return fail(m, e);
  // a stuck encoder: the slate covers, and the source is started again by the retry
  if (run.killedFor) s.counts.restarts++;
  m.lost(e.reason, e.at);
}

/** Where no slate covers: a stuck encoder is started again (as long as --duration leaves time); else the end. */
function endedUncovered(m: Step, run: RunRef, e: Extract<SourceEvent, { type: 'exited' }>): void {
  const s = m.s;
  if (s.current?.id !== run.id) return;
  if (e.lastError) s.lastError = e.lastError;
  const remaining = m.remainingForFfmpeg(e.at);
  const { durationMs } = m.setup;
  const timeLeft = durationMs === undefined || durationMs - (e.at - s.startedAt) >= 1000;
  if (run.killedFor && m.setup.restartable && timeLeft) {
    s.counts.restarts++;
    s.current = undefined;
    return void m.startRun('source', e.at, remaining !== undefined ? { durationMs: remaining } : {});
  }
  s.exit = e.exit;
  s.failed = e.exit.exitCode !== 0 || run.killedFor !== undefined;
  m.stop();
}

function fail(m: Step, e: Extract<SourceEvent, { type: 'exited' }>): void {
  const s = m.s;
  s.exit = e.exit;
  if (e.lastError) s.lastError = e.lastError;
  s.failed = true;
  m.stop();
}

function tick(m: Step, e: Extract<SourceEvent, { type: 'tick' }>): void {
  const s = m.s;
  const current = s.current;
  if (!current || s.phase !== 'streaming' || !s.running.includes(current.id)) return;
  if (current.kind === 'source' && e.fed) {
    s.fed = true;
    // while a swap is staged two encoders share the CPU and the current one may pause: not a lost source (the
    // watchdog still ends a real stall)
    const swapping = s.staged?.kind === 'source';
    if (e.silentS > 0 && !m.setup.listen && m.setup.slate && !swapping)
      return m.lost(`no frames from the source for ${e.silentS} s`, e.at);
  }
  if (e.stillMs <= m.setup.watchdogMs) return;
  m.kill(current, `the encoder made no progress for ${Math.round(m.setup.watchdogMs / 1000)} s`);
}
