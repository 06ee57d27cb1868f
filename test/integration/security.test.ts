import assert from 'node:assert/strict';
import { chmodSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { BIN, ROOT } from '../helpers/cli.js';
import { NginxRtmp } from '../helpers/nginx.js';
import { FakeServer } from '../helpers/fake-server.js';
import { childPids, commandOf, startCli } from '../helpers/spawn.js';
import { MARK } from '../helpers/stranger.js';
import { tempDir } from '../helpers/tmp.js';

const STRANGER = path.join(ROOT, 'dist', 'test', 'helpers', 'stranger.js');

/** A process and all its descendants. */
function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      out.push(...childPids(out[i]!));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Loopback TCP ports some process of `pids` listens on (from /proc/net/tcp{,6} and each process's fds). */
function listeningPorts(pids: number[]): number[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      }
    } catch {
      // gone meanwhile
    }
  }
  const ports: number[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** Runs a command as uid/gid nobody (65534), as another local user would. */
const asNobody = (cmd: string, args: string[]) =>
  execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', cmd, ...args], {
    reject: false,
    timeout: 20_000,
    stdin: 'ignore',
  });

describe('another local user cannot feed a destination', () => {
  const nginx = new NginxRtmp();
  let run: ReturnType<typeof startCli>;
  let pids: number[] = [];
  const attacks: { target: string; exitCode: number | undefined }[] = [];

  before(async () => {
    await nginx.start();
    // The key as a user should keep it: in the environment, named by the config file (not typed in --to).
    const config = path.join(tempDir('stranger'), 'rtmpush.config.json');
    writeFileSync(
      config,
      JSON.stringify({ destinations: { dest: { url: `rtmp://127.0.0.1:${nginx.port}/live`, keyEnv: 'DEST_KEY' } } }),
    );
    run = startCli(
      [
        'start',
        '--to',
        'dest',
        '--config',
        config,
        '--preset',
        '360p30',
        '--duration',
        '14s',
        '--json',
        '--uplink',
        'off',
      ],
      { DEST_KEY: 'strangerKey4711' },
    );
    await run.waitFor((e) => e.type === 'state' && e.state === 'live');
    pids = tree(run.proc.pid!);
    // What a stranger can see: every command line (ps), every listening socket (ss). Try each way in.
    const urls = new Set<string>();
    for (const pid of pids)
      for (const arg of commandOf(pid)) for (const m of arg.matchAll(/rtmps?:\/\/[^\s|\]]+/g)) urls.add(m[0]);
    for (const port of listeningPorts(pids)) urls.add(`rtmp://127.0.0.1:${port}/live/x`);
    for (const target of urls) {
      // publishes frames marked STRANGER for 4 s, dialling again whenever it is dropped
      const r = await asNobody('node', [STRANGER, target, '4']);
      attacks.push({ target, exitCode: r.exitCode });
    }
    await run.proc;
  });
  after(() => nginx.dispose());

  it('rtmpush and its ffmpeg listen on no port, and no command line names an RTMP URL', () => {
    assert.ok(pids.length >= 2, `rtmpush and its encoder: ${pids.join(',')}`);
    assert.deepEqual(listeningPorts(pids), [], 'no listening socket');
    assert.deepEqual(
      attacks.map((a) => a.target),
      [],
      'nothing for a stranger to publish to',
    );
  });

  it('what arrived is rtmpush’s own stream, whole: 640x360 throughout, no reconnect', async () => {
    // (were there a way in, the stranger's frames, marked STRANGER, would be here: the old relay port let them through)
    assert.ok(
      !readFileSync(nginx.recording('strangerKey4711')).includes(MARK),
      "a stranger's frames reached the destination",
    );
    const { stdout } = await execa('ffprobe', [
      '-v',
      'error',
      '-select_streams',
      'v',
      '-show_entries',
      'frame=width,height',
      '-of',
      'csv=p=0',
      nginx.recording('strangerKey4711'),
    ]);
    const frames = stdout
      .split('\n')
      .map((l) => l.split(',').slice(0, 2).join('x'))
      .filter((l) => l !== '');
    assert.deepEqual([...new Set(frames)], ['640x360']);
    assert.ok(frames.length >= 10 * 30, `${frames.length} frames`);
    const summary = run.events.at(-1)!;
    assert.equal(summary.type, 'summary');
    assert.equal(summary.destinations.dest.reconnects, 0);
  });
});

describe('an early SIGUSR1 does not open the inspector', () => {
  const silent = new FakeServer({ silent: true });
  before(() => silent.start());
  after(() => silent.stop());

  it(
    'sent while start is still measuring the uplink ' + '(before any of its own handlers exist): no debugger on 9229',
    async () => {
      const env = {
        RTMPUSH_TWITCH_URL: `rtmp://127.0.0.1:${silent.port}/app`,
        RTMPUSH_TWITCH_KEY: 'live_inspectorKey99',
      };
      const proc = execa('node', [BIN, 'start', '--to', 'twitch', '--duration', '5s', '--json'], {
        env: {
          ...env,
          XDG_CACHE_HOME: tempDir('usr1-cache'),
          XDG_CONFIG_HOME: tempDir('usr1-config'),
          RTMPUSH_RUNTIME_DIR: tempDir('usr1-run'),
        },
        reject: false,
        stdin: 'ignore',
      });
      // the measurement waits on a server that never answers; the signal comes meanwhile
      for (let waited = 0; silent.connections.length === 0 && waited < 10_000; waited += 50)
        await new Promise((r) => setTimeout(r, 50));
      assert.equal(silent.connections.length, 1, 'start is measuring the uplink');
      proc.kill('SIGUSR1');
      await new Promise((r) => setTimeout(r, 700));
      const open = await new Promise<boolean>((resolve) => {
        const s = net.connect(9229, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      proc.kill('SIGKILL');
      const r = await proc;
      assert.equal(open, false, 'nothing listens on 127.0.0.1:9229');
      assert.ok(!String(r.stderr).includes('Debugger listening'), String(r.stderr));
    },
  );
});

describe('no child process holds a key in its environment', () => {
  const nginx = new NginxRtmp();
  before(() => nginx.start());
  after(() => nginx.dispose());

  it("ffmpeg's, ffprobe's and the --on-state hook's environments hold no key, by name or by value", async () => {
    const dir = tempDir('env');
    const config = path.join(dir, 'rtmpush.config.json');
    const url = `rtmp://127.0.0.1:${nginx.port}/live`;
    // a long key and a short one (5 characters: a whole variable's value, not a word in others)
    const destinations = { studio: { url, keyEnv: 'STUDIO_STREAM' }, show: { url, keyEnv: 'SHOW_KEY' } };
    writeFileSync(config, JSON.stringify({ destinations }));
    // a file source, so ffprobe runs too (through a wrapper that keeps its environment)
    const clip = path.join(dir, 'clip.mp4');
    await execa('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-t', '2', clip]);
    const probeEnv = path.join(dir, 'ffprobe.env');
    const ffprobe = path.join(dir, 'ffprobe-wrapper.sh');
    writeFileSync(ffprobe, `#!/bin/sh\nenv >> '${probeEnv}'\nexec ffprobe "$@"\n`);
    chmodSync(ffprobe, 0o755);
    const hookEnv = path.join(dir, 'hook.env');
    const env = {
      STUDIO_STREAM: 'studioEnvKey7788',
      SHOW_KEY: 'show1',
      RTMPUSH_TWITCH_KEY: 'live_unusedTwitchKey55',
      OTHER: 'kept',
    };
    const args = ['start', '--to', 'studio,show', '--config', config, '--source', clip, '--loop', '--preset', '360p30'];
    const more = [
      '--duration',
      '6s',
      '--json',
      '--uplink',
      'off',
      '--ffprobe',
      ffprobe,
      '--on-state',
      `env > ${hookEnv}`,
    ];
    const run = startCli([...args, ...more], env);
    await run.waitFor((e) => e.type === 'state' && e.state === 'live');
    // a child caught between fork and exec (a hook being started) still shows rtmpush's own command line and
    // environment, which exec then replaces: only children that have exec'd are what the test is about
    const own = commandOf(run.proc.pid!).join(' ');
    const ffmpeg = tree(run.proc.pid!)
      .slice(1)
      .filter((p) => commandOf(p).join(' ') !== own);
    assert.ok(ffmpeg.length >= 1);
    // a child that has ended meanwhile (a hook) has no environment left to read
    const environOf = (p: number) => {
      try {
        return readFileSync(`/proc/${p}/environ`, 'latin1').replaceAll('\0', '\n');
      } catch {
        return '';
      }
    };
    const environ = ffmpeg.map(environOf).join('\n');
    await run.proc;
    const children = { ffmpeg: environ, ffprobe: readFileSync(probeEnv, 'utf8'), hook: readFileSync(hookEnv, 'utf8') };
    for (const [who, text] of Object.entries(children)) {
      assert.ok(text.includes('OTHER=kept'), `${who}: the rest of the environment is passed on`);
      for (const secret of ['studioEnvKey7788', 'STUDIO_STREAM', '=show1', 'SHOW_KEY', 'live_unusedTwitchKey55']) {
        assert.ok(!text.includes(secret), `${who}'s environment holds ${secret}`);
      }
    }
  });
});
