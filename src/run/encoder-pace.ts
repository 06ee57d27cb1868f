import { encoderOf } from '../ffmpeg/argv.js';
import type { Plan } from '../plan/plan.js';
import type { RunEvent } from './events.js';
import { SpeedStepper, SpeedWatch } from './speed-watch.js';

/**
 * Whether the encoder keeps up with real time (SpeedWatch), said once when it falls behind; where the encoder can be
 * swapped under the held sessions and every encode is x264, it is stepped one x264 speed faster each time, and back
 * after a calm (SpeedStepper).
 */
export class EncoderPace {
  readonly #watch = new SpeedWatch();
  readonly #stepper: SpeedStepper | undefined;

  constructor(
    private readonly plan: Plan,
    canSwap: boolean,
    now: number,
  ) {
    const x264 = plan.encodes.every((e) => encoderOf(e.video) === 'x264');
    this.#stepper = canSwap && x264 ? new SpeedStepper(plan.video.x264Preset, now) : undefined;
  }

  /** What the status shows: stream made per second over the last 10 s, and whether that is too slow. */
  get status(): { realtime: number | null; slow: boolean } {
    return { realtime: this.#watch.speed, slow: this.#watch.slow };
  }

  /** A progress report: the events to tell, after asking `swap` for another x264 speed (undefined: the plan's). */
  sample(now: number, outMs: number, swap: (x264Preset: string | undefined) => void): RunEvent[] {
    const events: RunEvent[] = [];
    const stepper = this.#stepper;
    const step = (to: string, previous: string, reason: string): void => {
      swap(to === this.plan.video.x264Preset ? undefined : to);
      events.push({ type: 'speed', x264Preset: to, previous, reason });
    };
    if (this.#watch.sample(now, outMs) === 'slow') {
      const speed = this.#watch.speed!;
      events.push(slowWarning(this.plan, speed));
      const previous = stepper?.current;
      const next = stepper?.faster(now);
      if (next) step(next, previous!, `the encoder made ${speed.toFixed(2)} s of stream per second`);
    }
    const previous = stepper?.current;
    const back = stepper?.calm(now, this.#watch.slow);
    if (back) step(back, previous!, 'it kept up for a while: one step back');
    return events;
  }
}
/** The encoder has made less than 0.97 s of stream per second for 10 s: what it cannot carry, and what to do. */
export function slowWarning(plan: Plan, speed: number): RunEvent {
  const what = plan.encodes
    .map((e) => `${e.video.width}x${e.video.height}@${e.video.fps} (${encoderOf(e.video)} ${e.video.x264Preset})`)
    .join(' + ');
  return {
    type: 'warning',
    message:
      `the encoder makes ${speed.toFixed(2)} s of stream per second (the last 10 s): this machine cannot carry ` +
      `${what} in real time and the platforms will buffer — rtmpush doctor measures which preset fits here`,
  };
}
