import { diagnose } from '../doctor/doctor.js';
import { encoderReport, encoderReportText } from '../doctor/encoders.js';
import type { StepResult } from '../doctor/steps.js';
import { loadConfig } from '../config/load.js';
import { measureSpeed, speedText } from '../doctor/speed.js';
import { buildPlan } from '../plan/plan.js';
import { findPreset, loadPresets } from '../presets/load.js';
import { ownPresets } from './plan-checks.js';
import { resolveDestinations } from '../platforms/destinations.js';
import { printJson } from '../report/ndjson.js';
import { redact } from '../secret.js';
import { tlsPolicy } from '../net/tls-policy.js';
import { exitCodeFor } from '../run/exit-code.js';
import type { CliIo } from './io.js';

const ORDER: StepResult['step'][] = ['key', 'dns', 'tcp', 'tls', 'rtmp', 'rtt'];

/**
 * `rtmpush doctor`: can each destination be reached, and which H.264 encoders work here? Nothing goes on air.
 * Exit 0 all reachable (or none asked for), 3 some not; the encoders do not change it (x264 is always there).
 */
export interface DoctorFlags {
  to: string[];
  json?: boolean;
  config?: string;
  insecureTls?: boolean;
  preset?: string;
  /** commander's --no-speed: false when given. */
  speed?: boolean;
}

export async function doctorCommand(flags: DoctorFlags, io: CliIo): Promise<number> {
  const config = loadConfig({ explicit: flags.config, cwd: io.cwd, env: io.env });
  const destinations =
    flags.to.length === 0
      ? []
      : resolveDestinations(flags.to, { env: io.env, config: config.config, lenientKeys: true });
  // the stream's encodes, as start would make them (bad presets are exit 2 before anything is checked)
  const entries = loadPresets(config.file);
  const preset = findPreset(
    entries,
    flags.preset ?? io.env.RTMPUSH_PRESET ?? config.config.defaults?.preset ?? '720p30',
  );
  const encodes = buildPlan({
    preset,
    presets: ownPresets(destinations, entries),
    source: { kind: 'testsrc' },
    destinations: destinations.length ? destinations : resolveDestinations(['local'], { env: io.env, config: {} }),
  }).encodes;
  const tls = tlsPolicy(io.env, io.cwd, Boolean(flags.insecureTls));
  // probed (or read from the cache) while the destinations are checked
  const encoders = encoderReport(io.env);
  let reachable = 0;
  for (const dest of destinations) {
    const ok = await diagnose(dest, { tls }, (r) => {
      if (flags.json) return printJson((t) => io.stdout.write(t), 'doctor', { destination: dest.label, ...r });
      const n = ORDER.indexOf(r.step) + 1;
      const line =
        `${dest.label}  ${n}/6 ${r.step.padEnd(4)} ${r.status.padEnd(4)} ${r.detail}` +
        `${r.ms ? ` (${r.ms} ms)` : ''}${r.fix ? `\n           → ${r.fix}` : ''}`;
      io.stdout.write(`${redact(line)}\n`);
    });
    if (ok) reachable++;
  }
  const report = await encoders;
  // what `auto` takes here, for the speed measured (the encoder report has probed it)
  const speed =
    flags.speed === false || !report.ffmpeg
      ? undefined
      : await measureSpeed(
          report.ffmpeg,
          encodes.map((e) => ({
            ...e,
            video: { ...e.video, encoder: e.video.encoder === 'auto' ? report.auto : e.video.encoder },
          })),
          entries.map((e) => e.preset),
        );
  if (flags.json) {
    printJson((t) => io.stdout.write(t), 'encoders', report);
    if (speed) printJson((t) => io.stdout.write(t), 'speed', { ...speed });
    printJson((t) => io.stdout.write(t), 'summary', { reachable, total: destinations.length });
  } else {
    const total = destinations.length;
    io.stdout.write(`${total > 0 ? '\n' : ''}${redact(encoderReportText(report))}`);
    if (speed) io.stdout.write(`${speedText(speed)}\n`);
    io.stdout.write(
      total === 0
        ? '\nno destination checked: add --to, e.g. rtmpush doctor --to youtube,twitch\n'
        : `\n${reachable} of ${total} destination${total === 1 ? '' : 's'} can be reached\n`,
    );
  }
  return exitCodeFor({ command: 'doctor', reachable, total: destinations.length });
}
