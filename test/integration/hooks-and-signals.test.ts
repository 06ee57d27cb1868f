import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { BIN, ISOLATED, runCli } from '../helpers/cli.js';
import { NginxRtmp } from '../helpers/nginx.js';
import { isRunning, startCli } from '../helpers/spawn.js';
import { tempDir } from '../helpers/tmp.js';

async function until(done: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** PIDs of processes whose command line is exactly `argv` (to check what a run left behind; never to kill by name). */
function processesRunning(argv: string[]): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (cmd.join(' ') === argv.join(' ') && isRunning(Number(entry))) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

describe('--on-state hooks that hang, flood or leave children', () => {
  it('a hanging hook does not hold up the end, its children are ended, and the summary is the last line', async () => {
    const started = Date.now();
    // each hook starts a child of its own and then hangs
    const r = await runCli([
      'start',
      '--to',
      'local',
      '--preset',
      '360p30',
      '--duration',
      '4s',
      '--json',
      '--on-state',
      'sleep 33.31 & sleep 33.32',
    ]);
    const took = Date.now() - started;
    assert.equal(r.exitCode, 0, r.stderr);
    // the stream itself takes ~6 s with start-up and stop; a hook may add its 2 s grace (it used to add 10–15 s)
    assert.ok(took < 9500, `took ${took} ms`);
    assert.equal(r.events.at(-1)!.type, 'summary', 'the summary is the last line');
    const warnings = r.events.filter((e) => e.type === 'warning').map((e) => e.message as string);
    assert.ok(
      warnings.some((m) => /--on-state: \d+ last state changes? (was|were) not passed on/.test(m)),
      JSON.stringify(warnings),
    );
    await new Promise((res) => setTimeout(res, 300));
    assert.deepEqual(processesRunning(['sleep', '33.31']), [], "a hook's background child outlived rtmpush");
    assert.deepEqual(processesRunning(['sleep', '33.32']), [], 'a hanging hook outlived rtmpush');
  });

  it(
    'a flood of state changes (SIGUSR1 ×200 on a refused destination) ' + 'runs one hook at a time, coalesced',
    async () => {
      const dir = tempDir('hook-flood');
      const log = path.join(dir, 'hooks.log');
      const hook = path.join(dir, 'hook.sh');
      writeFileSync(hook, `#!/bin/sh\necho start >> '${log}'\nsleep 0.2\necho end >> '${log}'\n`);
      chmodSync(hook, 0o755);
      const run = startCli([
        'start',
        '--to',
        'local,bad=rtmp://127.0.0.1:1/live/floodKey1234',
        '--preset',
        '360p30',
        '--duration',
        '8s',
        '--json',
        '--on-state',
        hook,
      ]);
      await run.waitFor((e) => e.type === 'state' && e.destination === 'bad' && e.state === 'reconnecting');
      for (let i = 0; i < 200; i++) {
        run.proc.kill('SIGUSR1');
        await new Promise((res) => setTimeout(res, 10));
      }
      await run.proc;
      const lines = readFileSync(log, 'utf8').trim().split('\n');
      let running = 0;
      for (const line of lines) {
        running += line === 'start' ? 1 : -1;
        assert.ok(running <= 1, 'two hooks ran at once');
      }
      const changes = run.events.filter((e) => e.type === 'state').length;
      const hooks = lines.filter((l) => l === 'start').length;
      assert.ok(changes > 50, `${changes} state changes`);
      assert.ok(hooks < changes / 2, `${hooks} hooks for ${changes} changes`);
      assert.equal(run.events.at(-1)!.type, 'summary');
    },
  );
});

describe('a stop signal in the first moments', () => {
  for (const delayMs of [150, 300, 500]) {
    it(`SIGTERM ${delayMs} ms after start (while the pipeline is being set up) still stops it`, async () => {
      const run = startCli(['start', '--to', 'local', '--preset', '360p30', '--json', '--uplink', 'off']);
      await new Promise((res) => setTimeout(res, delayMs));
      run.proc.kill('SIGTERM');
      const ended = await Promise.race([
        run.proc.then(() => true),
        new Promise<boolean>((res) => setTimeout(() => res(false), 10_000)),
      ]);
      if (!ended) run.proc.kill('SIGKILL');
      assert.ok(ended, 'still running 10 s after SIGTERM');
    });
  }
});

describe('signals and encoder wrappers', () => {
  const nginx = new NginxRtmp();
  before(() => nginx.start());
  after(() => nginx.dispose());

  it('a closed terminal (SIGHUP on a terminal) stops cleanly: unpublished, its socket gone, nothing left', async () => {
    const dir = tempDir('tty');
    const states = path.join(dir, 'states.ndjson');
    const runtime = path.join(dir, 'run');
    const args = ['start', '--to', `d=${nginx.url('live', 'hupKey12345')}`, '--preset', '360p30'];
    args.push('--duration', '120s', '--uplink', 'off', '--name', 'hup', '--on-state', `cat >> '${states}'`);
    const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    // `script` gives rtmpush a terminal of its own (stderr a TTY: the spinner), with rtmpush leading its session
    const terminal = execa('script', ['-qfec', `exec node '${BIN}' ${quoted}`, '/dev/null'], {
      env: { ...ISOLATED, RTMPUSH_RUNTIME_DIR: runtime },
      stdin: 'pipe',
      stdout: 'ignore',
      reject: false,
    });
    const said = () => (existsSync(states) ? readFileSync(states, 'utf8') : '');
    try {
      await until(() => said().includes('"state":"live"'), 20_000, 'live');
      const status = await runCli(['status', '--name', 'hup', '--json'], { RTMPUSH_RUNTIME_DIR: runtime });
      const pid = JSON.parse(status.stdout).pid as number;
      // the terminal goes away: the kernel hangs up the session it controlled
      terminal.kill('SIGKILL');
      // a clean stop takes a few seconds (ffmpeg's last frames, an unpublish, the hook): not the 120 s
      await until(() => !isRunning(pid), 8000, 'rtmpush ended');
      assert.match(said(), /"destination":"d","state":"stopped"/);
      assert.ok(!existsSync(path.join(runtime, 'hup.sock')), 'the control socket was removed');
    } finally {
      terminal.kill('SIGKILL');
      await terminal;
    }
  });

  it(
    'an --ffmpeg wrapper that does not exec: ' + 'stopping ends the wrapper and its ffmpeg, and rtmpush at once',
    async () => {
      const dir = tempDir('wrapper');
      const pidFile = path.join(dir, 'ffmpeg.pid');
      const wrapper = path.join(dir, 'ffmpeg-wrapper.sh');
      // ffmpeg in the background (its stdin is then /dev/null, so `q` never reaches it), the wrapper waits
      writeFileSync(wrapper, `#!/bin/sh\nffmpeg "$@" &\necho $! > '${pidFile}'\nwait\n`);
      chmodSync(wrapper, 0o755);
      const run = startCli([
        'start',
        '--to',
        `w=${nginx.url('live', 'wrapKey12345')}`,
        '--ffmpeg',
        wrapper,
        '--preset',
        '360p30',
        '--duration',
        '60s',
        '--json',
        '--uplink',
        'off',
      ]);
      await run.waitFor((e) => e.type === 'state' && e.state === 'live');
      const ffmpeg = Number(readFileSync(pidFile, 'utf8'));
      const stopped = Date.now();
      run.proc.kill('SIGTERM');
      const r = await run.proc;
      assert.ok(Date.now() - stopped < 12_000, `rtmpush ended ${Date.now() - stopped} ms after SIGTERM`);
      assert.equal(r.exitCode, 0);
      assert.equal(isRunning(ffmpeg), false, "the wrapper's ffmpeg is gone");
    },
  );
});
