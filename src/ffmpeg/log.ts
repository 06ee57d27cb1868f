/** What one line of ffmpeg's log says about a tee leg. */
export type LogEvent =
  | { kind: 'leg-error'; label: string; reason: string }
  | { kind: 'leg-recovered'; label: string }
  | { kind: 'error'; text: string }
  | { kind: 'warning'; text: string }
  | { kind: 'info'; text: string };

const LINE = /^(?:\[(\w+) @ (0x[0-9a-f]+)\] )?\[(\w+)\] (.*)$/;

/**
 * Classifies ffmpeg log lines (printed with -loglevel level+info). ffmpeg names a leg only when opening it
 * fails ("Error opening URL"); from then on its fifo's address identifies the leg, so this keeps that map.
 */
export class LogClassifier {
  #fifoToLabel = new Map<string, string>();

  constructor(private readonly urls: { label: string; url: string }[]) {}

  classify(line: string): LogEvent {
    const m = LINE.exec(line);
    if (!m) return { kind: 'info', text: line };
    const [, component, address, level, message = ''] = m;
    if (component === 'fifo' && address) {
      const opening = /^Error opening (.+?): (.*)$/.exec(message);
      if (opening) {
        const leg = this.urls.find((u) => u.url === opening[1]);
        if (leg) {
          this.#fifoToLabel.set(address, leg.label);
          return { kind: 'leg-error', label: leg.label, reason: opening[2] ?? 'error' };
        }
      }
      const label = this.#fifoToLabel.get(address);
      if (label) {
        if (message.startsWith('Recovery successful')) return { kind: 'leg-recovered', label };
        const failed = /^Recovery failed: (.*)$/.exec(message);
        if (failed) return { kind: 'leg-error', label, reason: failed[1] ?? 'error' };
      }
    }
    if (level === 'error' || level === 'fatal' || level === 'panic') return { kind: 'error', text: line };
    if (level === 'warning') return { kind: 'warning', text: line };
    return { kind: 'info', text: line };
  }
}
