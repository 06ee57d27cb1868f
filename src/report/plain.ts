import { redact } from '../secret.js';
import type { RunEvent } from '../run/events.js';
import {
  formatBitrate,
  formatSpeed,
  formatDelivery,
  formatReceived,
  formatRehearsal,
  formatReload,
  formatSource,
  formatStart,
  formatState,
  formatStats,
  formatSummary,
} from './format.js';
import type { Reporter } from './reporter.js';

const STATS_EVERY_MS = 5000;

/** For logs (CI, systemd): no spinner, no colour, one timestamped line per change, stats every few seconds. */
export function plainReporter(write: (text: string) => void, now: () => Date = () => new Date()): Reporter {
  let lastStats = 0;
  const line = (text: string): void => write(`${now().toISOString()} ${redact(text)}\n`);
  return {
    handle(event: RunEvent) {
      switch (event.type) {
        case 'start':
          return formatStart(event).forEach(line);
        case 'state':
          return line(formatState(event));
        case 'stats': {
          const t = now().getTime();
          if (t - lastStats >= STATS_EVERY_MS) {
            lastStats = t;
            line(formatStats(event));
            for (const [label, d] of Object.entries(event.destinations ?? {}))
              line(`  ${label}: ${d.state}${formatDelivery(d)}`);
          }
          return;
        }
        case 'warning':
          return line(`warning: ${event.message}`);
        case 'reload':
          return line(formatReload(event));
        case 'source':
          return formatSource(event).forEach(line);
        case 'bitrate':
          return line(formatBitrate(event));
        case 'speed':
          return line(formatSpeed(event));
        case 'error':
          return line(`error: ${event.message}`);
        case 'log':
          return line(`ffmpeg: ${event.line}`);
        case 'received':
          return formatReceived(event).forEach(line);
        case 'rehearsal':
          return formatRehearsal(event).forEach(line);
        case 'summary':
          return formatSummary(event).forEach(line);
      }
    },
    close() {},
  };
}
