import type { DestinationStats, RunEvent } from '../run/events.js';

type Of<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

export function formatStart(e: Of<'start'>): string[] {
  const many = e.encodes.length > 1;
  return [
    `rtmpush: ${e.source} → ${e.destinations.join(', ')}`,
    many
      ? `  ${e.encodes.length} settings in one ffmpeg process:`
      : `  preset ${e.preset}: ${e.video} (set by ${e.bitrate}); ${e.audio}`,
    ...(many
      ? e.encodes.map(
          (c) =>
            `    ${c.id} ${c.preset}: ${c.width}x${c.height}@${c.fps} ${c.kbps} kbps (${c.encoder}) ` +
            `+ AAC ${c.audioKbps} kbps` +
            ` → ${c.destinations.join(', ')}`,
        )
      : []),
    `  ffmpeg ${e.ffmpeg}`,
    ...e.notes.map((n) => `  note: ${n}`),
  ];
}

export function formatState(e: Of<'state'>): string {
  const attempt = e.attempt ? ` (attempt ${e.attempt})` : '';
  return `${e.destination}: ${e.state}${attempt}${e.reason ? ` — ${e.reason}` : ''}`;
}

export function formatStats(e: Of<'stats'>): string {
  const speed = e.speed === null ? '?' : `${e.speed.toFixed(2)}x`;
  const rate = e.bitrateKbps === null ? '' : ` ${Math.round(e.bitrateKbps)} kbps`;
  return `encoder ${formatClock(e.outTimeMs)} ${e.fps.toFixed(1)} fps speed ${speed}${rate} dropped ${e.droppedFrames}`;
}

/** ` · 812 kbps · live 00:01:23 · 1 reconnect · congested` for one destination. */
export function formatDelivery(d: DestinationStats): string {
  const parts = [
    d.deliveredKbps === null ? null : `${d.deliveredKbps} kbps`,
    `live ${formatClock(d.liveMs)}`,
    d.reconnects ? `${d.reconnects} reconnect${d.reconnects === 1 ? '' : 's'}` : null,
    d.congested ? 'congested' : null,
  ].filter(Boolean);
  return ` · ${parts.join(' · ')}`;
}

export function formatReload(e: Of<'reload'>): string {
  const parts = [
    e.added.length ? `added ${e.added.join(', ')}` : '',
    e.removed.length ? `removed ${e.removed.join(', ')}` : '',
    e.replaced.length ? `replaced ${e.replaced.join(', ')} (new URL or key)` : '',
  ].filter(Boolean);
  return `config reloaded: ${parts.length ? parts.join('; ') : 'no destination changed'}`;
}

/** A `source` event: what an OBS user types, while waiting; the slate and why; the source back. */
export function formatSource(e: Of<'source'>): string[] {
  if (e.state === 'waiting')
    return [
      `waiting for an encoder to publish: in OBS, Settings → Stream → Service "Custom…", Server ${e.server}, ` +
        `Stream Key ${e.key}`,
    ];
  if (e.state === 'slate') return [`source lost (${e.reason ?? 'gone'}): the destinations get the slate`];
  return ['source live'];
}

export function formatBitrate(e: Of<'bitrate'>): string {
  return `video bitrate ${e.previousKbps} → ${e.kbps} kbps: ${e.reason}`;
}

export function formatSpeed(e: Of<'speed'>): string {
  const at = (preset: string, size: number): string =>
    size < 1 ? `${preset} at ${Math.round(size * 100)} % size` : preset;
  return `x264 ${at(e.previous, e.previousSize)} → ${at(e.x264Preset, e.size)}: ${e.reason}`;
}

export function formatClock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

export function formatReceived(e: Of<'received'>): string[] {
  const s = e.summary;
  const ki = s.keyframeIntervalS
    ? `${s.keyframeIntervalS.avg} s (${s.keyframeIntervalS.min}–${s.keyframeIntervalS.max})`
    : 'n/a';
  return [
    `${e.destination} received ${s.durationS} s` +
      (e.recordedFirstS === undefined ? ': ' : ` (the first ${e.recordedFirstS} s; no more is recorded): `) +
      `${s.videoCodec ?? 'no video'} ${s.videoProfile ?? ''} ${s.width ?? '?'}x${s.height ?? '?'} ${s.fps} fps, ` +
      `keyframe every ${ki}, ${s.videoKbps} kbps; ` +
      `${s.audioCodec ?? 'no audio'} ${s.audioSampleRate ?? '?'} Hz ${s.audioChannels ?? '?'} ch`,
    ...e.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.rule}: ${c.actual} (expected ${c.expected})`),
    `  ${e.meetsPreset ? 'meets the preset' : 'does NOT meet the preset'}`,
  ];
}

export function formatRehearsal(e: Of<'rehearsal'>): string[] {
  return [
    `${e.name}: ${e.ok ? 'would accept this stream' : 'would NOT accept this stream'}`,
    ...e.checks.map(
      (c) => `  ${c.ok ? 'pass' : 'FAIL'} ${c.rule}: ${c.actual} (${c.expected})${c.fix ? `\n       → ${c.fix}` : ''}`,
    ),
  ];
}

export function formatSummary(e: Of<'summary'>): string[] {
  return [
    ...Object.entries(e.destinations).map(
      ([label, d]) =>
        `${label}: ${d.finalState}, live ${formatClock(d.liveMs)}, ` +
        `${d.reconnects} reconnect${d.reconnects === 1 ? '' : 's'}${d.reason ? ` — ${d.reason}` : ''}`,
    ),
    `exit code ${e.exitCode}`,
  ];
}
