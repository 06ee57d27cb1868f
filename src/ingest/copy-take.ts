import type { Platform } from '../platforms/table.js';
import { CopyCheck, type CopiedStream } from './copy-check.js';
import type { CopyRun } from './copy-run.js';
import type { IngestPublisher } from './server.js';

/**
 * `--copy` for one publisher: its media is judged first (CopyCheck); a stream that breaks a platform's rule is
 * refused (a warning with the fixes, the publisher cut off); one that meets them is handed to the run `taken`
 * returns, what was held first, then everything that follows.
 */
export function takeCopy(
  publisher: IngestPublisher,
  platforms: Platform[],
  hooks: { warn: (message: string) => void; taken: (stream: CopiedStream) => CopyRun },
): void {
  const check = new CopyCheck(platforms);
  let run: CopyRun | undefined;
  // its headers came once, maybe before anyone took it
  for (const msg of publisher.start.headers.values()) check.push(msg);
  publisher.onMedia = (msg) => {
    if (run) return run.write(msg);
    const verdict = check.push(msg);
    if (!verdict) return;
    if (!verdict.ok) {
      publisher.onMedia = () => {};
      hooks.warn(`--copy: the encoder at ${publisher.from} was refused: ${verdict.problems.join('; ')}`);
      return publisher.close();
    }
    run = hooks.taken(verdict.stream);
    for (const held of verdict.held) run.write(held);
  };
}
