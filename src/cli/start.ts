import { statSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { locateFfmpeg, locateFfprobe } from '../ffmpeg/locate.js';
import { jsonReporter } from '../report/ndjson.js';
import { plainReporter } from '../report/plain.js';
import type { Reporter } from '../report/reporter.js';
import type { RunEvent } from '../run/events.js';
import { probeSourceFile } from '../probe/ffprobe.js';
import { withStateHook } from '../run/hooks.js';
import { readCachedUplink } from '../uplink/cache.js';
import { checkCachedUplink } from '../uplink/check.js';
import { uplinkCommand } from './uplink.js';
import { resolveEncoders } from './resolve-encoders.js';
import { resolveDestinations } from '../platforms/destinations.js';
import { hasTestMode } from '../platforms/table.js';
import type { Rehearsal } from '../run/local-report.js';
import { rehearsalPlan } from './rehearsal.js';
import { measureSpeed, speedText } from '../doctor/speed.js';
import { loadPresets } from '../presets/load.js';
import { Recorder } from '../run/recorder.js';
import { type LiveSession, runSession } from '../run/session.js';
import { makeController } from '../control/controller.js';
import { checkName, ensureRuntimeDir, runtimeDir, socketPath } from '../control/paths.js';
import { ControlServer } from '../control/server.js';
import { fullCollection, heapTrimEvery, trimHeap } from '../run/heap-trim.js';
import { metricsExposure, parseMetricsAddress } from '../control/address.js';
import { Reloader } from '../run/reload.js';
import { IngestServer } from '../ingest/server.js';
import { slateCovers } from '../plan/source.js';
import type { CliIo } from './io.js';
import { ConfigReader } from './reload.js';
import { underTerminal } from './terminal.js';
import { hostOs, type ResolvedStream, resolveStream, type RawStreamFlags } from './options.js';

/**
 * --uplink auto: with no measurement from today (or with --remeasure), measure now when a destination has a
 * test mode (twitch, restream, by platform or by config name), so the bitrate is capped from a real figure before
 * going live. Runs after the input was checked: bad input never costs a measurement. True if it measured.
 */
async function measureUplinkIfNeeded(resolved: ResolvedStream, flags: RawStreamFlags, io: CliIo): Promise<boolean> {
  if ((flags.uplink ?? 'auto') !== 'auto' || flags.rehearse) return false;
  if (readCachedUplink(io.env) && !flags.remeasure) return false;
  const capable = resolved.plan.destinations.find((d) => hasTestMode(d.platform))?.label;
  const configured = resolved.config.config.uplink?.target;
  if (!capable && !configured) {
    if (flags.remeasure)
      throw new UsageError(
        '--remeasure needs a twitch or restream destination (their test modes), or uplink.target in the config file',
      );
    return false;
  }
  // Human lines go to stderr during start; JSON stays on stdout with the rest of the events.
  const out = flags.json ? io : { ...io, stdout: io.stderr };
  const code = await uplinkCommand({ to: capable, config: flags.config, json: flags.json }, out);
  if (code !== 0)
    io.stderr.write('rtmpush: going on without an uplink figure: the bitrate is not capped by the uplink\n');
  return code === 0;
}

export async function chooseReporter(flags: { json?: boolean }, io: CliIo): Promise<Reporter> {
  if (flags.json) return jsonReporter((t) => io.stdout.write(t));
  // A terminal that reports no width (some bare ptys) would make the spinner redraw forever: use plain lines.
  if (io.stderr.isTTY && !io.env.CI && (io.stderr.columns ?? 0) > 0) {
    // ora and chalk are loaded only for a terminal: scripts and services do not pay for them.
    const { ttyReporter } = await import('../report/tty.js');
    return ttyReporter(io.stderr);
  }
  return plainReporter((t) => io.stderr.write(t));
}

/** `rtmpush start`: validate everything, then stream until the duration, Ctrl-C or SIGTERM. Returns the exit code. */
export async function startCommand(flags: RawStreamFlags, io: CliIo): Promise<number> {
  const context = { env: io.env, cwd: io.cwd, os: hostOs() };
  const first = resolveStream(flags, context);
  const trimEvery = heapTrimEvery(io.env.RTMPUSH_HEAP_TRIM);
  // The name is taken before anything starts: a second run of it is bad input, and nothing is measured or started.
  const name = checkName(flags.name ?? 'default');
  const dir = runtimeDir(io.env);
  ensureRuntimeDir(dir);
  const controller = new AbortController();
  const listeners = new Set<(json: string) => void>();
  let live: LiveSession | undefined;
  let emit: (e: RunEvent) => void = () => {};
  const reader = new ConfigReader(flags, context, first, (message) => emit({ type: 'warning', message }));
  const reloader = new Reloader({
    initial: first.plan.destinations,
    read: () => reader.read(),
    emit: (e) => emit(e),
    onApplied: () => reader.applied(),
  });
  // A closed terminal sends SIGHUP: under a terminal it stops the stream (from now on: a hang-up while measuring
  // or probing starts nothing); elsewhere (a service) it reloads the config. There the listener stays to the end:
  // a SIGHUP while stopping is a no-op, not Node's default (exit).
  const hangupStops = underTerminal(io);
  const onHup = hangupStops ? () => controller.abort() : () => void reloader.reload({ whileStarting: true });
  process.on('SIGHUP', onHup);
  controller.signal.addEventListener('abort', () => reloader.close(), { once: true });
  const control = new ControlServer(
    socketPath(dir, name),
    makeController({
      name,
      startedAt: new Date(),
      live: () => live,
      resolve: (to) => {
        if (flags.rehearse) throw new UsageError('a rehearsal streams to the embedded server only: nothing to add');
        return resolveDestinations([to], { env: io.env, config: reader.current.config.config })[0]!;
      },
      stop: () => controller.abort(),
      reload: () => reloader.reload(),
      onEvent: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    }),
  );
  const json = jsonReporter((t) => {
    for (const l of listeners) l(t.trimEnd());
  });
  const metricsAt = flags.metrics ? parseMetricsAddress(flags.metrics) : undefined;
  const exposed = metricsAt && metricsExposure(flags.metrics!, metricsAt.host);
  await control.listen(name);
  // --source listen: the port is taken now, so a port in use is bad input before anything starts
  const ingest = first.plan.ingest ? new IngestServer(first.plan.ingest) : undefined;
  // prom-client is loaded only when metrics are asked for: every other run starts without it.
  const metrics = metricsAt
    ? await import('../control/metrics.js').then((m) => new m.MetricsServer(m.streamRegistry(() => live)))
    : undefined;
  const trim = trimEvery > 0 ? trimHeap(fullCollection(), trimEvery) : undefined;
  try {
    if (metricsAt) await metrics!.listen(metricsAt.host, metricsAt.port);
    await ingest?.listen();
    return await stream(first, flags, io, context, {
      controller,
      ingest,
      warnings: exposed ? [exposed] : [],
      reader,
      onEmit: (e) => (emit = e),
      onLive: (s) => {
        live = s;
        reloader.attach(s.board);
      },
      toListeners: {
        // made into JSON (and redacted) only while someone follows
        handle: (e) => listeners.size > 0 && json.handle(e),
        close: () => {},
      },
    });
  } finally {
    trim?.stop();
    reloader.close();
    // under a terminal the hang-up stops; elsewhere a late SIGHUP stays a no-op (not Node's default: exit)
    if (hangupStops) process.off('SIGHUP', onHup);
    await ingest?.close();
    await metrics?.close();
    await control.close();
  }
}

/** What startCommand has set up around the stream before it runs: its stop, ingest, reloads and followers. */
interface AroundStream {
  controller: AbortController;
  ingest?: IngestServer;
  /** Said before the stream starts, besides the config's warnings. */
  warnings: string[];
  /** Reads the config again on SIGHUP: told which resolution the stream runs with. */
  reader: ConfigReader;
  /** Where the reload's events go, once the stream has its reporters. */
  onEmit: (emit: (e: RunEvent) => void) => void;
  onLive: (live: LiveSession) => void;
  /** Every event, as --json prints it, to the control API's followers. */
  toListeners: Reporter;
}

async function stream(
  first: ResolvedStream,
  flags: RawStreamFlags,
  io: CliIo,
  context: Parameters<typeof resolveStream>[1],
  ctl: AroundStream,
): Promise<number> {
  let resolved = first;
  // a hardware encoder named that does not work here is bad input: said before anything is measured or started
  const located = locateFfmpeg({ env: io.env, platform: process.platform, flag: flags.ffmpeg });
  await resolveEncoders(resolved.plan, located, io.env);
  await measureUplinkIfNeeded(resolved, flags, io);
  // The cached uplink figure (or the new one) applies only on the network it was measured on: the plan is made
  // again with it, or with why not. Reloads read the same (the context is theirs too).
  context.cachedUplink = await checkCachedUplink(flags.uplink, io.env);
  if (context.cachedUplink.measurement || context.cachedUplink.notice) resolved = resolveStream(flags, context);
  ctl.reader.started(resolved);
  const { config, retry, tls, watchdogMs } = resolved;
  let plan = resolved.plan;
  let rehearse: Rehearsal | undefined;
  if (flags.rehearse) ({ plan, rehearse } = rehearsalPlan(plan, flags, io.env));
  const locate = { env: io.env, platform: process.platform };
  const ffmpeg = locateFfmpeg({ ...locate, flag: flags.ffmpeg });
  const ffprobe = locateFfprobe({ ...locate, flag: flags.ffprobe }, ffmpeg);
  plan = await resolveEncoders(plan, ffmpeg, io.env);
  // a rehearsal also measures whether this machine can carry the encodes in real time, and what would fit
  if (rehearse) {
    const speed = await measureSpeed(
      ffmpeg,
      plan.encodes,
      loadPresets(config.file).map((e) => e.preset),
    );
    if (speed.planned.fits) plan = { ...plan, notes: [...plan.notes, speedText(speed)] };
    else ctl.warnings.push(speedText(speed));
  }
  if (plan.source.kind === 'file') {
    const probe = await probeSourceFile(ffprobe, plan.source.path);
    if (!probe.ok || !probe.hasVideo) {
      throw new UsageError(
        `--source ${plan.source.path}: ffmpeg cannot read video from it${probe.error ? ` (${probe.error})` : ''}`,
      );
    }
    // a variant of the plan (the one the config reader keeps is never changed)
    // a regular file can be opened again at a position: a bitrate step's encoder goes on from where it was
    const seekable = isRegularFile(plan.source.path);
    const { hasAudio, durationS } = probe;
    plan = { ...plan, source: { ...plan.source, hasAudio, seekable, ...(durationS ? { durationS } : {}) } };
  }
  // a slate ffmpeg cannot read would only show when the source is lost: found now
  if (plan.slate?.path && slateCovers(plan.source)) {
    const probe = await probeSourceFile(ffprobe, plan.slate.path);
    if (!probe.ok || !probe.hasVideo)
      throw new UsageError(
        `--slate ${plan.slate.path}: ffmpeg cannot read a picture from it${probe.error ? ` (${probe.error})` : ''}: ` +
          'give an image (PNG, JPEG) or a video',
      );
  }
  // the terminal was closed while measuring or probing: nothing was started, and nobody is there to watch
  if (ctl.controller.signal.aborted) return 0;
  const reporter = await chooseReporter(flags, io);
  const hook = withStateHook((e) => {
    reporter.handle(e);
    ctl.toListeners.handle(e);
  }, flags.onState);
  const emit = hook.emit;
  ctl.onEmit(emit);
  // The file is created now, before anything starts: one that cannot be is bad input.
  const recorder = plan.record
    ? new Recorder(plan.record, {
        onFailed: (file, reason) =>
          emit({
            type: 'error',
            code: 'record-failed',
            message: `recording to ${file} failed: ${reason}; the stream goes on`,
          }),
        onNextFile: (file) =>
          emit({ type: 'warning', message: `the encoder was restarted: the recording goes on in ${file}` }),
      })
    : undefined;
  for (const w of [...config.warnings, ...ctl.warnings]) reporter.handle({ type: 'warning', message: w });

  const { controller } = ctl;
  const onSignal = (): void => controller.abort();
  let retryNow = (): void => {};
  const onUsr1 = (): void => retryNow();
  // (SIGHUP: see startCommand)
  const stopSignals = ['SIGINT', 'SIGTERM'] as const;
  for (const sig of stopSignals) process.on(sig, onSignal);
  process.on('SIGUSR1', onUsr1);
  try {
    const summary = await runSession({
      plan,
      ffmpeg,
      ffprobe,
      retry,
      tls,
      watchdogMs,
      rehearse,
      recorder,
      verbose: Boolean(flags.verbose),
      emit,
      signal: controller.signal,
      onRetryNow: (handler) => (retryNow = handler),
      ingest: ctl.ingest,
      onLive: ctl.onLive,
    });
    // The hooks' last changes and warnings come before the summary, which is always the last line.
    await hook.close();
    reporter.handle({ type: 'summary', ...summary });
    ctl.toListeners.handle({ type: 'summary', ...summary });
    return summary.exitCode;
  } finally {
    await hook.close();
    await recorder?.close();
    for (const sig of stopSignals) process.off(sig, onSignal);
    process.off('SIGUSR1', onUsr1);
    reporter.close();
  }
}

/** A regular file (not a FIFO, a device or a socket, which can be read only once). */
function isRegularFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
