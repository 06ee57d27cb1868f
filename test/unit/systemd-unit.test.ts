import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const UNIT = path.join(ROOT, 'contrib', 'systemd', 'rtmpush@.service');

/** `systemd-analyze verify` on one instance of a unit file: what it complains about (empty when clean). */
async function verify(file: string): Promise<string | undefined> {
  const r = await execa('systemd-analyze', ['verify', file], { reject: false, env: { SYSTEMD_LOG_COLOR: '0' } });
  if (r.failed && r.exitCode === undefined) return undefined;
  return `${r.stdout}${r.stderr}`.trim();
}

describe('the systemd template unit (contrib/systemd/rtmpush@.service)', () => {
  it('one stream per instance: its config and keys by instance name, restarted on failure but not on bad input', () => {
    const text = readFileSync(UNIT, 'utf8');
    assert.match(text, /^ExecStart=\/usr\/bin\/env rtmpush start --config \/etc\/rtmpush\/%i\.json --name %i$/m);
    assert.match(text, /^EnvironmentFile=\/etc\/rtmpush\/%i\.env$/m);
    assert.match(text, /^Restart=on-failure$/m);
    assert.match(text, /^RestartPreventExitStatus=2$/m);
    // `systemctl reload`: SIGHUP, which reads the config again (no terminal here, so it does not stop)
    assert.match(text, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    // a folder per instance: stopping one never removes another's socket
    assert.match(text, /^RuntimeDirectory=rtmpush\/%i$/m);
    assert.match(text, /^Environment=RTMPUSH_RUNTIME_DIR=%t\/rtmpush\/%i$/m);
    assert.ok(!/KEY=/.test(text.replace(/^#.*$/gm, '')), 'no key in the unit itself');
    // two malloc arenas (bench/soak.js runs rtmpush with this line, so the soak's figures are the unit's)
    assert.match(text, /^Environment=MALLOC_ARENA_MAX=2$/m);
  });

  it('systemd-analyze verify finds nothing to say of it (and does of a broken copy)', async (t) => {
    const dir = tempDir('unit');
    const good = path.join(dir, 'rtmpush@church.service');
    copyFileSync(UNIT, good);
    const said = await verify(good);
    if (said === undefined) return t.skip('systemd-analyze is not installed here');
    assert.equal(said, '');
    const bad = path.join(dir, 'rtmpush@broken.service');
    writeFileSync(bad, readFileSync(UNIT, 'utf8').replace('Restart=on-failure', 'Restart=sometimes'));
    assert.match((await verify(bad)) ?? '', /restart specifier/);
  });
});
