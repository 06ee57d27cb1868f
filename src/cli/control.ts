import type { StatusBody } from '../control/api.js';
import { type Reply, request } from '../control/client.js';
import { checkName, runtimeDir, socketPath, trustedSocket } from '../control/paths.js';
import { RunError, UsageError } from '../errors.js';
import { formatClock, formatReload } from '../report/format.js';
import type { DestinationStatus } from '../run/events.js';
import { redact } from '../secret.js';
import { parseKbps, VIDEO_KBPS } from '../util/duration.js';
import type { CliIo } from './io.js';

export interface ControlFlags {
  name?: string;
  json?: boolean;
}

/** What a client command asks of the running stream `--name`. */
type Ask = { method: string; path: string; body?: unknown };

const enc = encodeURIComponent;

/** The client commands: each one request to the running stream's socket. */
export const CONTROL_ACTIONS = {
  add: (to: string): Ask => ({ method: 'POST', path: '/v1/destinations', body: { to } }),
  remove: (label: string): Ask => ({ method: 'DELETE', path: `/v1/destinations/${enc(label)}` }),
  pause: (label: string): Ask => ({ method: 'POST', path: `/v1/destinations/${enc(label)}/pause` }),
  resume: (label: string): Ask => ({ method: 'POST', path: `/v1/destinations/${enc(label)}/resume` }),
  retry: (label?: string): Ask => ({
    method: 'POST',
    path: label === undefined ? '/v1/retry' : `/v1/destinations/${enc(label)}/retry`,
  }),
  stop: (): Ask => ({ method: 'POST', path: '/v1/stop' }),
  reload: (): Ask => ({ method: 'POST', path: '/v1/reload' }),
  bitrate: (rate: string): Ask => ({
    method: 'POST',
    path: '/v1/bitrate',
    body: { kbps: /^auto$/i.test(rate.trim()) ? 'auto' : parseKbps(rate, 'rtmpush bitrate (or auto)', VIDEO_KBPS) },
  }),
} as const;

async function ask(flags: ControlFlags, io: CliIo, what: Ask): Promise<Reply> {
  const name = checkName(flags.name ?? 'default');
  const dir = runtimeDir(io.env);
  const path = trustedSocket(dir, name);
  if (!path) throw new UsageError(`no rtmpush named ${name} is running (no socket at ${socketPath(dir, name)})`);
  const reply = await request(path, name, what.method, what.path, what.body);
  const message = typeof reply.body.error === 'string' ? reply.body.error : `answered ${reply.status}`;
  if (reply.status >= 500) throw new RunError('control', message);
  if (reply.status >= 400) throw new UsageError(message);
  return reply;
}

/** `rtmpush add|remove|pause|resume|retry|stop`: one line saying what was done (or the answer, with --json). */
export async function controlCommand(
  action: keyof typeof CONTROL_ACTIONS,
  arg: string | undefined,
  flags: ControlFlags,
  io: CliIo,
): Promise<number> {
  let value = arg;
  if (action === 'add' && arg === '-') value = await readStdin();
  else if (action === 'add' && arg?.includes('://'))
    io.stderr.write(
      'rtmpush: warning: a key typed in a command line is visible to other local users (ps); ' +
        'pass the destination on stdin instead: echo "$DEST" | rtmpush add -\n',
    );
  const reply = await ask(flags, io, CONTROL_ACTIONS[action](value as string));
  if (flags.json) {
    io.stdout.write(`${redact(JSON.stringify(reply.body))}\n`);
    return 0;
  }
  const b = reply.body;
  const line =
    action === 'add'
      ? `added ${String(b.label)}: ${String(b.state)}`
      : action === 'remove'
        ? `removed ${String(b.removed)}`
        : action === 'retry'
          ? `retrying now: ${(b.retried as string[]).join(', ') || 'none was waiting'}`
          : action === 'stop'
            ? 'stopping'
            : action === 'reload'
              ? formatReload({ type: 'reload', ...(b as { added: string[]; removed: string[]; replaced: string[] }) })
              : action === 'bitrate'
                ? bitrateLine(b as { kbps: number; previousKbps: number; ceilingKbps: number | null })
                : `${String(b.label)}: ${String(b.state)}`;
  io.stdout.write(`${redact(line)}\n`);
  return 0;
}

/** What `rtmpush bitrate` did, as a person reads it. */
function bitrateLine(b: { kbps: number; previousKbps: number; ceilingKbps: number | null }): string {
  const was = b.kbps === b.previousKbps ? '' : ` (was ${b.previousKbps})`;
  return b.ceilingKbps === null
    ? `video bitrate ${b.kbps} kbps${was}: it follows the uplink again, up to the plan's`
    : `video bitrate ${b.kbps} kbps${was}: at most ${b.ceilingKbps} kbps until \`rtmpush bitrate auto\``;
}

/** `rtmpush add -`: one destination from stdin (first line, at most 16 KiB), so no key is in a command line. */
async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.length > 16 * 1024) throw new UsageError('rtmpush add -: stdin holds more than one destination');
  }
  const line = text.split('\n')[0]!.trim();
  if (!line) throw new UsageError('rtmpush add -: give the destination on stdin, e.g. echo "$DEST" | rtmpush add -');
  return line;
}

/** `rtmpush status`: a table a person reads (or the status as JSON); exit 3 when a destination is not live. */
export async function statusCommand(flags: ControlFlags, io: CliIo): Promise<number> {
  const reply = await ask(flags, io, { method: 'GET', path: '/v1/status' });
  const s = reply.body as unknown as StatusBody;
  io.stdout.write(redact(flags.json ? `${JSON.stringify(s)}\n` : statusText(s, Date.now())));
  // paused is an operator's choice, as in start's exit code
  const fine = (d: DestinationStatus) => d.state === 'live' || d.state === 'paused';
  return s.destinations.length > 0 && s.destinations.every(fine) ? 0 : 3;
}

export function statusText(s: StatusBody, now: number): string {
  const e = s.encoder;
  const since = formatClock(now - Date.parse(s.startedAt));
  const fps = e.fps === null ? '-' : e.fps.toFixed(1);
  const speed = e.speed === null ? '-' : `${e.speed.toFixed(2)}x`;
  const rate = e.bitrateKbps === null ? '-' : `${e.bitrateKbps} kbps`;
  const rows = [['DESTINATION', 'PLATFORM', 'STATE', 'LIVE', 'DELIVERED', 'RECONNECTS', 'NOTE']];
  for (const d of s.destinations) rows.push(row(d, now));
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  const src = s.source;
  const source =
    src.state === 'live'
      ? ''
      : `source: ${src.state === 'slate' ? 'the slate is on' : 'waiting for an encoder'} for ` +
        `${formatClock(now - Date.parse(src.since))}${src.reason ? ` (${src.reason})` : ''}\n`;
  return (
    `rtmpush \`${s.name}\` (pid ${s.pid}), streaming for ${since}\n` +
    source +
    `encoder: ${fps} fps, speed ${speed}, ${rate}, ${e.droppedFrames} dropped, ${e.restarts} restarts, ` +
    `${e.slates} slates, ${e.swaps} swaps` +
    (e.slow ? ` — TOO SLOW: ${e.realtime?.toFixed(2)} s of stream per second, the platforms buffer\n` : '\n') +
    `${table.join('\n')}\n`
  );
}

function row(d: DestinationStatus, now: number): string[] {
  const next = d.nextRetryAt
    ? `next try in ${Math.max(0, Math.round((Date.parse(d.nextRetryAt) - now) / 1000))} s`
    : '';
  const note = [d.congested ? 'congested' : '', next, d.reason ?? ''].filter(Boolean).join('; ');
  return [
    d.label,
    d.platform ?? '-',
    d.state,
    formatClock(d.liveMs),
    `${d.deliveredKbps} kbps`,
    String(d.reconnects),
    note,
  ];
}
