/** One `-progress` block, as numbers. Null where ffmpeg said N/A. */
export interface Progress {
  frame: number;
  fps: number;
  bitrateKbps: number | null;
  totalSize: number | null;
  outTimeMs: number;
  dupFrames: number;
  droppedFrames: number;
  speed: number | null;
  done: boolean;
}

const num = (v: string | undefined): number | null => {
  if (v === undefined) return null;
  const n = Number.parseFloat(v);
  return Number.isFinite(n) ? n : null;
};

/** Parses ffmpeg's `-progress` key=value lines; a block ends with `progress=continue|end`. */
export class ProgressParser {
  #fields = new Map<string, string>();

  /** Feed one line; returns a Progress when the line closed a block. */
  push(line: string): Progress | undefined {
    const eq = line.indexOf('=');
    if (eq <= 0) return undefined;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key !== 'progress') {
      this.#fields.set(key, value);
      return undefined;
    }
    const f = this.#fields;
    this.#fields = new Map();
    const bitrate = f.get('bitrate');
    const outUs = num(f.get('out_time_us')) ?? num(f.get('out_time_ms'));
    return {
      frame: num(f.get('frame')) ?? 0,
      fps: num(f.get('fps')) ?? 0,
      bitrateKbps: bitrate?.endsWith('kbits/s') ? num(bitrate) : null,
      totalSize: num(f.get('total_size')),
      // out_time_ms is in microseconds too (a long-standing ffmpeg quirk).
      outTimeMs: outUs !== null ? Math.max(0, Math.round(outUs / 1000)) : 0,
      dupFrames: num(f.get('dup_frames')) ?? 0,
      droppedFrames: num(f.get('drop_frames')) ?? 0,
      speed: num(f.get('speed')?.replace(/x$/, '')),
      done: value === 'end',
    };
  }
}
