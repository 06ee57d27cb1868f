import { randomBytes } from 'node:crypto';
import { execa } from 'execa';

/**
 * A network namespace of the test's own, with only its loopback up (MTU 1500, so tbf behaves like a real link).
 * Traffic to one port can be shaped with tc (htb + a u32 filter on the destination port).
 */
export class NetNs {
  readonly name = `rtmpush-${randomBytes(3).toString('hex')}`;

  static async usable(): Promise<boolean> {
    if (process.getuid?.() !== 0) return false;
    const probe = `rtmpush-probe-${randomBytes(2).toString('hex')}`;
    const r = await execa('ip', ['netns', 'add', probe], { reject: false });
    if (r.exitCode !== 0) return false;
    await execa('ip', ['netns', 'del', probe], { reject: false });
    return true;
  }

  async create(): Promise<void> {
    await execa('ip', ['netns', 'add', this.name]);
    await this.exec(['ip', 'link', 'set', 'lo', 'up']);
    await this.exec(['ip', 'link', 'set', 'lo', 'mtu', '1500']);
  }

  exec(cmd: string[]) {
    return execa('ip', ['netns', 'exec', this.name, ...cmd]);
  }

  /** The shaped ports' own htb classes (after shapePorts), by port, with their weight. */
  readonly #classes = new Map<number, { id: string; weight: number }>();

  /**
   * Shapes traffic to `port` on this namespace's loopback to `rate` (e.g. "400kbit"); the rest is untouched.
   * htb, as this kernel has no prio qdisc (and no netem): an unshaped default class and a shaped one for the port.
   */
  async shapePort(port: number, rate: string): Promise<void> {
    await this.shapePorts([port], rate);
  }

  /**
   * Shapes traffic to all of `ports` as one link of `rate` (an htb class; under it a class per port, sharing it):
   * `reshape` makes the link sag or come back, `shapeOne` cuts one port's own path. `weights`: how many flows go to
   * each port (a port with two destinations gets twice the share of one with one, as one link shared by flows would).
   */
  async shapePorts(ports: number[], rate: string, weights: number[] = ports.map(() => 1)): Promise<void> {
    const tc = (...args: string[]) => this.exec(['tc', ...args]);
    await tc('qdisc', 'replace', 'dev', 'lo', 'root', 'handle', '1:', 'htb', 'default', '10', 'r2q', '100000');
    await tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:10', 'htb', 'rate', '10gbit');
    await tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:2', 'htb', 'rate', rate, 'ceil', rate);
    this.#classes.clear();
    for (const [i, port] of ports.entries()) {
      const id = `1:${20 + i}`;
      this.#classes.set(port, { id, weight: weights[i] ?? 1 });
    }
    for (const [port, { id }] of this.#classes) {
      await tc('class', 'add', 'dev', 'lo', 'parent', '1:2', 'classid', id, 'htb', ...this.#share(port, rate));
      await tc(
        ...['filter', 'add', 'dev', 'lo', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32'],
        ...['match', 'ip', 'dport', String(port), '0xffff', 'flowid', id],
      );
    }
  }

  /** A port's class under a link of `rate`: its share guaranteed (by weight), the whole link if the others leave it. */
  #share(port: number, rate: string): string[] {
    const kbit = Number.parseInt(rate, 10) * (/mbit$/.test(rate) ? 1000 : 1);
    const total = [...this.#classes.values()].reduce((sum, c) => sum + c.weight, 0);
    const share = Math.max(8, Math.floor((kbit * this.#classes.get(port)!.weight) / total));
    return ['rate', `${share}kbit`, 'ceil', rate, 'burst', '16k'];
  }

  /** The shaped link (after shapePorts) sags or comes back to `rate` ("800kbit", "30mbit"); the flows go on. */
  async reshape(rate: string): Promise<void> {
    const change = (parent: string, id: string, ...args: string[]) =>
      this.exec(['tc', 'class', 'change', 'dev', 'lo', 'parent', parent, 'classid', id, 'htb', ...args]);
    await change('1:', '1:2', 'rate', rate, 'ceil', rate);
    for (const [port, { id }] of this.#classes) await change('1:2', id, ...this.#share(port, rate));
  }

  /** One port's own path (after shapePorts) cut to `rate`, the others' untouched. */
  async shapeOne(port: number, rate: string): Promise<void> {
    const id = this.#classes.get(port)?.id;
    if (!id) throw new Error(`port ${port} is not shaped`);
    await this.exec([
      ...['tc', 'class', 'change', 'dev', 'lo', 'parent', '1:2', 'classid', id, 'htb'],
      ...['rate', rate, 'ceil', rate, 'burst', '16k'],
    ]);
  }

  /** Every shaping gone. */
  async unshape(): Promise<void> {
    await execa('ip', ['netns', 'exec', this.name, 'tc', 'qdisc', 'del', 'dev', 'lo', 'root'], { reject: false });
  }

  /** Shapes all of this namespace's loopback to `rate`, as one link (tbf). */
  async shapeAll(rate: string): Promise<void> {
    await this.exec([
      'tc',
      'qdisc',
      'replace',
      'dev',
      'lo',
      'root',
      'tbf',
      'rate',
      rate,
      'burst',
      '80kb',
      'latency',
      '100ms',
    ]);
  }

  async waitListening(port: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const r = await execa('ip', ['netns', 'exec', this.name, 'bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], {
        reject: false,
      });
      if (r.exitCode === 0) return;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`nothing listens on ${port} in ${this.name}`);
  }

  async dispose(): Promise<void> {
    await execa('ip', ['netns', 'del', this.name], { reject: false });
  }
}
