import type { Platform } from '../platforms/table.js';
import { headerKind, mediaKind } from '../rtmp/flv.js';
import type { RtmpMessage } from '../rtmp/message.js';
import { CopyCheck, type CopiedStream } from './copy-check.js';
import type { CopyRun } from './copy-run.js';
import type { IngestPublisher } from './server.js';

/**
 * `--copy` for one publisher: its media is judged first (CopyCheck); a stream that breaks a platform's rule is
 * refused (a warning with the fixes, the publisher cut off); one that meets them is handed to the run `taken`
 * returns from its latest keyframe (the one that ended the judging), then everything that follows.
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
    for (const held of fromLatestKeyframe(verdict.held)) run.write(held);
  };
}

/**
 * What was held while judging, from its latest keyframe on (the headers kept): the first GOP is not written. Written
 * at once it would be a burst of up to 8 s of stream after the slate (OBS's default keyframe interval), which every
 * destination would have to take faster than live and none can; the slate covered that time, and goes on until
 * this keyframe, where the copy takes over live.
 */
export function fromLatestKeyframe(held: RtmpMessage[]): RtmpMessage[] {
  let last = -1;
  for (let i = held.length - 1; i >= 0 && last < 0; i--) if (mediaKind(held[i]!) === 'keyframe') last = i;
  if (last <= 0) return held;
  return [...held.slice(0, last).filter((m) => headerKind(m)), ...held.slice(last)];
}
