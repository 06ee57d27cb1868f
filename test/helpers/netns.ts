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

  /**
   * Shapes traffic to `port` on this namespace's loopback to `rate` (e.g. "400kbit"); the rest is untouched.
   * htb, as this kernel has no prio qdisc (and no netem): an unshaped default class and a shaped one for the port.
   */
  async shapePort(port: number, rate: string): Promise<void> {
    await this.exec([
      'tc',
      'qdisc',
      'replace',
      'dev',
      'lo',
      'root',
      'handle',
      '1:',
      'htb',
      'default',
      '10',
      'r2q',
      '100000',
    ]);
    await this.exec(['tc', 'class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:10', 'htb', 'rate', '10gbit']);
    await this.exec([
      'tc',
      'class',
      'add',
      'dev',
      'lo',
      'parent',
      '1:',
      'classid',
      '1:30',
      'htb',
      'rate',
      rate,
      'ceil',
      rate,
      'burst',
      '16k',
    ]);
    await this.exec([
      'tc',
      'filter',
      'add',
      'dev',
      'lo',
      'parent',
      '1:',
      'protocol',
      'ip',
      'prio',
      '1',
      'u32',
      'match',
      'ip',
      'dport',
      String(port),
      '0xffff',
      'flowid',
      '1:30',
    ]);
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
