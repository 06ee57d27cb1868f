import chalk from 'chalk';
import ora, { type Ora } from 'ora';
import { redact } from '../secret.js';
import type { RunEvent } from '../run/events.js';
import type { DestinationStateName } from '../state/destination.js';
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

const COLOR: Record<DestinationStateName, (s: string) => string> = {
  connecting: chalk.yellow,
  live: chalk.green,
  reconnecting: chalk.yellow,
  rejected: chalk.red,
  failed: chalk.red,
  stopped: chalk.gray,
  paused: chalk.cyan,
};

/** A terminal: a spinner on stderr with one line per destination and the encoder's numbers. */
export function ttyReporter(stream: NodeJS.WriteStream): Reporter {
  const lines = new Map<string, string>();
  const last = new Map<string, Extract<RunEvent, { type: 'state' }>>();
  let stats = 'encoder starting';
  let spinner: Ora | undefined;
  const print = (text: string): void => {
    spinner?.clear();
    stream.write(`${redact(text)}\n`);
    spinner?.render();
  };
  const refresh = (): void => {
    if (spinner) spinner.text = redact([stats, ...lines.values()].join('\n  '));
  };
  return {
    handle(event: RunEvent) {
      switch (event.type) {
        case 'start':
          for (const l of formatStart(event)) print(chalk.dim(l));
          spinner = ora({ stream, text: stats }).start();
          return;
        case 'state':
          last.set(event.destination, event);
          lines.set(event.destination, COLOR[event.state](formatState(event)));
          return refresh();
        case 'stats':
          stats = formatStats(event);
          for (const [label, d] of Object.entries(event.destinations ?? {})) {
            const state = last.get(label);
            if (state) lines.set(label, COLOR[state.state](`${formatState(state)}${formatDelivery(d)}`));
          }
          return refresh();
        case 'warning':
          return print(chalk.yellow(`warning: ${event.message}`));
        case 'reload':
          return print(chalk.dim(formatReload(event)));
        case 'bitrate':
          return print(chalk.yellow(formatBitrate(event)));
        case 'speed':
          return print(chalk.yellow(formatSpeed(event)));
        case 'source':
          for (const l of formatSource(event)) print(event.state === 'slate' ? chalk.yellow(l) : chalk.cyan(l));
          return;
        case 'error':
          return print(chalk.red(`error: ${event.message}`));
        case 'log':
          return print(chalk.dim(event.line));
        case 'received':
          spinner?.stop();
          spinner = undefined;
          for (const l of formatReceived(event)) print(l.includes('FAIL') ? chalk.red(l) : l);
          return;
        case 'rehearsal':
          spinner?.stop();
          spinner = undefined;
          for (const l of formatRehearsal(event)) print(l.includes('FAIL') || l.includes('NOT') ? chalk.red(l) : l);
          return;
        case 'summary':
          spinner?.stop();
          spinner = undefined;
          for (const l of formatSummary(event)) print(event.exitCode === 0 ? chalk.green(l) : l);
          return;
      }
    },
    close() {
      spinner?.stop();
    },
  };
}
