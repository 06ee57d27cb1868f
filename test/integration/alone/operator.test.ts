import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { BIN, runCli } from '../../helpers/cli.js';
import { NginxRtmp } from '../../helpers/nginx.js';
import { freePort } from '../../helpers/ports.js';
import { startCli } from '../../helpers/spawn.js';
import { tempDir } from '../../helpers/tmp.js';

describe('operator hooks', () => {
  it('--on-state runs the command on every state change with the event as JSON on stdin', async () => {
    const dir = tempDir('hook');
    const log = path.join(dir, 'states.ndjson');
    const r = await runCli([
      'start',
      '--to',
      'local,bad=rtmp://127.0.0.1:1/live/hookKey8080',
      '--preset',
      '360p30',
      '--duration',
      '4s',
      '--json',
      '--on-state',
      `cat >> ${log}`,
    ]);
    assert.equal(r.exitCode, 3, r.stderr);
    await new Promise((res) => setTimeout(res, 300));
    const hooked = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    const emitted = r.events.filter((e) => e.type === 'state');
    assert.equal(hooked.length, emitted.length);
    assert.deepEqual(
      hooked.map((e) => `${e.destination}:${e.state}`).sort(),
      emitted.map((e) => `${e.destination}:${e.state}`).sort(),
    );
    assert.ok(hooked.every((e) => e.type === 'state' && typeof e.time === 'string'));
    // (a key in a hook's input is checked where a server quotes it back: hostile-servers.test.ts)
  });

  it('rtmpush uplink takes uplink.target from the config file, and says plainly when it cannot measure', async () => {
    const dir = tempDir('uplink-cfg');
    writeFileSync(
      path.join(dir, 'rtmpush.config.json'),
      JSON.stringify({ uplink: { target: 'rtmp://127.0.0.1:1/live/cfgUplinkKey55' } }),
    );
    const r = await runCli(['uplink'], {}, { cwd: dir });
    assert.equal(r.exitCode, 3);
    assert.match(r.stderr, /^rtmpush: uplink to target could not be measured: 127\.0\.0\.1:1 connection refused$/m);
    assert.ok(!r.stderr.includes('cfgUplinkKey55'));
  });

  describe('SIGUSR1 makes a waiting destination retry now', () => {
    const nginx = new NginxRtmp();
    let port = 0;
    before(async () => {
      port = await freePort();
    });
    after(() => nginx.dispose());

    it('live well before the scheduled retry', async () => {
      const run = startCli([
        'start',
        '--to',
        `late=rtmp://127.0.0.1:${port}/live/usr1Key7070`,
        '--preset',
        '360p30',
        '--duration',
        '25s',
        '--json',
      ]);
      const waiting = await run.waitFor(
        (e) => e.type === 'state' && e.state === 'reconnecting' && e.attempt >= 4,
        20_000,
      );
      await nginx.start(port);
      const signalled = Date.now();
      run.proc.kill('SIGUSR1');
      const live = await run.waitFor((e) => e.type === 'state' && e.state === 'live', 10_000);
      const nextRetryAt = Date.parse(waiting.nextRetryAt);
      // the 4th retry waits ~3.4 s: the signal comes well before it, so only a retry-now can go live this soon
      assert.ok(nextRetryAt - signalled > 1500, `the scheduled retry was only ${nextRetryAt - signalled} ms away`);
      assert.ok(
        Date.parse(live.time) < nextRetryAt - 500,
        `live at ${live.time}, next retry was ${waiting.nextRetryAt}`,
      );
      assert.ok(Date.parse(live.time) - signalled < 2500, `live ${Date.parse(live.time) - signalled} ms after SIGUSR1`);
      run.proc.kill('SIGTERM');
      assert.equal((await run.proc).exitCode, 0);
    });
  });

  it('a terminal that reports no width gets plain lines, not an endless redraw', async () => {
    const env: Record<string, string | undefined> = { ...process.env, TERM: 'xterm-256color' };
    delete env.CI;
    const cmd = `stty cols 0 rows 0; node ${BIN} start --to local --preset 360p30 --duration 3s`;
    const r = await execa('script', ['-qec', cmd, '/dev/null'], {
      reject: false,
      env,
      extendEnv: false,
      stdin: 'ignore',
      timeout: 60_000,
    });
    assert.equal(r.exitCode, 0, String(r.stdout).slice(-500));
    assert.match(String(r.stdout), /Z local: live/);
  });

  it('on a terminal: a spinner and one line per destination with kbps and time live', async () => {
    // util-linux `script` gives rtmpush a real pseudo-terminal
    const env: Record<string, string | undefined> = { ...process.env, TERM: 'xterm-256color', FORCE_COLOR: undefined };
    delete env.CI; // CI runs set it; a terminal user's shell does not
    const cmd = `stty cols 120 rows 30; node ${BIN} start --to local --preset 360p30 --duration 6s`;
    const r = await execa('script', ['-qec', cmd, '/dev/null'], {
      reject: false,
      env,
      extendEnv: false,
      stdin: 'ignore',
      timeout: 60_000,
    });
    const out = String(r.stdout);
    assert.equal(r.exitCode, 0, out);
    assert.match(out, /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/, 'spinner frames');
    assert.match(out, /local: live · \d+ kbps · live 00:00:0\d/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: an ANSI colour code is what is looked for
    assert.match(out, /\x1b\[3\dm/, 'colour');
  });

  it(
    'on a terminal: a destination that drops shows reconnecting with its attempt, ' +
      'then live with its reconnect counted',
    async () => {
      const nginx = new NginxRtmp();
      await nginx.start();
      try {
        const env: Record<string, string | undefined> = {
          ...process.env,
          TERM: 'xterm-256color',
          FORCE_COLOR: undefined,
        };
        delete env.CI;
        const cmd =
          `stty cols 120 rows 30; node ${BIN} ` +
          `start --to d=${nginx.url('live', 'ttyKey4242')} --preset 360p30 --duration 14s`;
        const proc = execa('script', ['-qec', cmd, '/dev/null'], {
          reject: false,
          env,
          extendEnv: false,
          stdin: 'ignore',
          timeout: 60_000,
        });
        await new Promise((res) => setTimeout(res, 5000));
        const port = nginx.port;
        await nginx.stop();
        await new Promise((res) => setTimeout(res, 1500));
        await nginx.start(port);
        const r = await proc;
        const out = String(r.stdout);
        assert.equal(r.exitCode, 0, out.slice(-1500));
        assert.match(out, /d: reconnecting \(attempt 1\) — /);
        assert.match(out, /d: live · \d+ kbps · live 00:00:\d\d · 1 reconnect/);
        assert.match(out, /d: stopped, live 00:00:\d\d, 1 reconnect/);
        assert.ok(!out.includes('ttyKey4242'));
      } finally {
        await nginx.dispose();
      }
    },
  );
});
