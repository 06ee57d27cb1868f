import os from 'node:os';
import { encoderOf } from '../ffmpeg/argv.js';
import type { Plan } from '../plan/plan.js';
import type { RunEvent } from '../run/events.js';
import { type SpeedLevel, SpeedStepper, SpeedWatch } from './speed-watch.js';

/**
 * Whether the encoder keeps up with real time (SpeedWatch), said once when it falls behind; where the encoder can be
 * swapped under the held sessions and every encode is x264, it is stepped one x264 speed faster each time, and back
 * after a calm (SpeedStepper).
 */
/** The machine's CPU time so far, all cores together (ms): how much of it was idle. */
export type CpuTimes = () => { idle: number; total: number };

const machineCpu: CpuTimes = () => {
  let idle = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total };
};

/** Idle over this share of the CPU while the encoder falls behind: the source is slow, not the machine. */
const IDLE_SOURCE = 0.3;

export class EncoderPace {
  readonly #watch = new SpeedWatch();
  readonly #stepper: SpeedStepper | undefined;
  #cpu: { at: number; idle: number; total: number }[] = [];

  constructor(
    private readonly plan: Plan,
    canSwap: boolean,
    now: number,
    private readonly cpu: CpuTimes = machineCpu,
  ) {
    const x264 = plan.encodes.every((e) => encoderOf(e.video) === 'x264');
    this.#stepper = canSwap && x264 ? new SpeedStepper(plan.video.x264Preset, now) : undefined;
  }

  /** What the status shows: stream made per second over the last 10 s, and whether that is too slow. */
  get status(): { realtime: number | null; slow: boolean } {
    return { realtime: this.#watch.speed, slow: this.#watch.slow };
  }

  /**
   * A progress report: the events to tell, after asking `swap` for x264 `steps` speeds faster than planned (each
   * encode from its own planned speed; 0: as planned).
   */
  sample(now: number, outMs: number, swap: (steps: number) => void): RunEvent[] {
    const events: RunEvent[] = [];
    const stepper = this.#stepper;
    const step = (to: SpeedLevel, previous: SpeedLevel, reason: string): void => {
      swap(stepper!.steps);
      const { x264Preset, size } = to;
      events.push({
        type: 'speed',
        x264Preset,
        size,
        previous: previous.x264Preset,
        previousSize: previous.size,
        reason,
      });
    };
    this.#cpu.push({ at: now, ...this.cpu() });
    while (this.#cpu.length > 2 && now - this.#cpu[1]!.at >= 10_000) this.#cpu.shift();
    if (this.#watch.sample(now, outMs) === 'slow') {
      const speed = this.#watch.speed!;
      const [first, last] = [this.#cpu[0]!, this.#cpu.at(-1)!];
      const idle = last.total > first.total ? (last.idle - first.idle) / (last.total - first.total) : 0;
      // the CPU has room: what is slow is the source (a URL, a publisher), and a faster x264 would not help
      if (idle > IDLE_SOURCE) {
        events.push(sourceWarning(speed, idle));
        return events;
      }
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
function sourceWarning(speed: number, idle: number): RunEvent {
  return {
    type: 'warning',
    message:
      `the encoder makes ${speed.toFixed(2)} s of stream per second (the last 10 s) while the CPU is ` +
      `${Math.round(idle * 100)} % idle: the source gives frames slower than real time and the platforms will buffer`,
  };
}

/** The encoder has made less than 0.97 s of stream per second for 10 s: what it cannot carry, and what to do. */
export function slowWarning(plan: Plan, speed: number): RunEvent {
  const what = plan.encodes
    .map((e) => {
      const encoder = encoderOf(e.video);
      const how = encoder === 'x264' ? `x264 ${e.video.x264Preset}` : encoder;
      return `${e.video.width}x${e.video.height}@${e.video.fps} (${how})`;
    })
    .join(' + ');
  return {
    type: 'warning',
    message:
      `the encoder makes ${speed.toFixed(2)} s of stream per second (the last 10 s): this machine cannot carry ` +
      `${what} in real time and the platforms will buffer — rtmpush doctor measures which preset fits here`,
  };
}
