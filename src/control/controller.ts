import type { Destination } from '../platforms/destinations.js';
import { RequestRefused, UsageError } from '../errors.js';
import type { ReloadOutcome } from '../run/reload.js';
import type { LiveSession } from '../run/session.js';
import type { Controller, StatusBody } from './api.js';

export interface ControllerOptions {
  name: string;
  startedAt: Date;
  /** The running session, once its destinations exist. */
  live: () => LiveSession | undefined;
  /** What `--to` does with one item, against the environment and config the run started with. */
  resolve: (to: string) => Destination;
  stop: () => void;
  /** Reads the config file again and applies its destinations (as SIGHUP). */
  reload: () => Promise<ReloadOutcome>;
  onEvent: Controller['onEvent'];
}

/** The control API's view of one running stream. */
export function makeController(o: ControllerOptions): Controller {
  const board = () => {
    const live = o.live();
    if (!live) throw new RequestRefused(409, 'the stream is still starting; try again in a moment');
    return live.board;
  };
  const one = (label: string) => {
    const found = board()
      .status()
      .find((d) => d.label === label);
    if (!found) throw new RequestRefused(404, `no destination ${label} (it was removed meanwhile)`);
    return found;
  };
  return {
    status(): StatusBody {
      const live = o.live();
      const figures = live?.encoder();
      return {
        name: o.name,
        pid: process.pid,
        startedAt: o.startedAt.toISOString(),
        encoder: {
          fps: figures?.fps ?? null,
          speed: figures?.speed ?? null,
          bitrateKbps: figures?.bitrateKbps ?? null,
          droppedFrames: figures?.droppedFrames ?? 0,
          frame: figures?.frame ?? 0,
          outTimeMs: figures?.outTimeMs ?? 0,
          restarts: live?.counts().restarts ?? 0,
          slates: live?.counts().slates ?? 0,
          swaps: live?.counts().swaps ?? 0,
          realtime: live?.pace().realtime ?? null,
          slow: live?.pace().slow ?? false,
        },
        source: live?.source() ?? { state: 'live', reason: null, since: o.startedAt.toISOString() },
        destinations: live ? live.board.status() : [],
      };
    },
    add(to) {
      if (/^(?:[^=]+=)?local$/.test(to))
        throw new UsageError('local cannot be added to a running stream: start one with --to local');
      return board().add(o.resolve(to));
    },
    async remove(label) {
      await board().remove(label);
    },
    async pause(label) {
      await board().pause(label);
      return one(label);
    },
    resume(label) {
      board().resume(label);
      return one(label);
    },
    retry: (label) => board().retryNow(label),
    bitrate(kbps) {
      const live = o.live();
      if (!live) throw new RequestRefused(409, 'the stream is still starting; try again in a moment');
      return live.bitrate(kbps);
    },
    async reload() {
      const r = await o.reload();
      if (r.ok) return { added: r.added, removed: r.removed, replaced: r.replaced };
      if (r.status === 400) throw new UsageError(r.error);
      throw new RequestRefused(409, r.error);
    },
    stop: o.stop,
    onEvent: o.onEvent,
  };
}
