import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Controller, route } from '../../src/control/api.js';

/** A controller that notes what it was asked (the routes are pure; the real one is tested over its socket). */
function noting(): Controller & { asked: string[] } {
  const asked: string[] = [];
  const note = <T>(what: string, answer: T): T => {
    asked.push(what);
    return answer;
  };
  const status = (label: string) => ({ label }) as never;
  return {
    asked,
    status: () => ({ name: 'n' }) as never,
    add: (to) => note(`add ${to}`, status('x')),
    remove: async (l) => note(`remove ${l}`, undefined),
    pause: async (l) => note(`pause ${l}`, status(l)),
    resume: (l) => note(`resume ${l}`, status(l)),
    retry: (l) => note(`retry ${l ?? '*'}`, []),
    stop: () => note('stop', undefined),
    reload: async () => note('reload', { added: [], removed: [], replaced: [] }),
    bitrate: (k) => note(`bitrate ${k ?? 'auto'}`, { kbps: k ?? 0, previousKbps: 0, ceilingKbps: k ?? null }),
    onEvent: () => () => {},
  };
}

describe('the control API’s routes', () => {
  it('each route reaches the controller once, with the label decoded', async () => {
    const c = noting();
    assert.equal((await route(c, 'POST', '/v1/destinations', '{"to":" twitch "}')).status, 201);
    assert.equal((await route(c, 'DELETE', '/v1/destinations/a%20b', '')).status, 200);
    assert.equal((await route(c, 'POST', '/v1/destinations/yt/pause', '')).status, 200);
    assert.equal((await route(c, 'POST', '/v1/destinations/yt/resume', '')).status, 200);
    assert.equal((await route(c, 'POST', '/v1/destinations/yt/retry', '')).status, 200);
    assert.equal((await route(c, 'POST', '/v1/retry', '')).status, 200);
    assert.equal((await route(c, 'POST', '/v1/reload', '')).status, 200);
    assert.equal((await route(c, 'POST', '/v1/stop', '')).status, 202);
    assert.equal((await route(c, 'POST', '/v1/bitrate', '{"kbps": 1500}')).status, 200);
    assert.equal((await route(c, 'POST', '/v1/bitrate', '{"kbps": "auto"}')).status, 200);
    assert.deepEqual(c.asked, [
      ...['add twitch', 'remove a b', 'pause yt', 'resume yt', 'retry yt', 'retry *', 'reload', 'stop'],
      ...['bitrate 1500', 'bitrate auto'],
    ]);
  });

  it('bad requests are 4xx with an error saying what to send, and reach nothing', async () => {
    const c = noting();
    const cases: [string, string, string, number, RegExp][] = [
      ['POST', '/v1/destinations', 'not json', 400, /not JSON/],
      ['POST', '/v1/destinations', '{"to": 5}', 400, /send \{"to"/],
      ['POST', '/v1/destinations', 'null', 400, /send \{"to"/],
      ['POST', '/v1/destinations', '{"to": "a,b"}', 400, /one destination at a time/],
      ['DELETE', '/v1/destinations/%E0%A4%A', '', 400, /malformed/],
      ['GET', '/v1/destinations/yt/pause', '', 405, /takes POST/],
      ['POST', '/v1/destinations/yt/explode', '', 404, /pause, resume or retry/],
      ['POST', '/v1/destinations/yt/pause/now', '', 404, /no such path/],
      ['GET', '/status', '', 404, /under \/v1/],
      ['PUT', '/v1/status', '', 405, /takes GET/],
      ['GET', '/v1/reload', '', 405, /takes POST/],
      ['GET', '/v1/bitrate', '', 405, /takes POST/],
      ['POST', '/v1/bitrate', '1500', 400, /send \{"kbps": N\}/],
      ['POST', '/v1/bitrate', '{"kbps": 99}', 400, /from 100 to 1000000/],
      ['POST', '/v1/bitrate', '{"kbps": 1500.5}', 400, /whole number/],
      ['POST', '/v1/bitrate', '{"kbps": "1500k"}', 400, /or \{"kbps": "auto"\}/],
      ['POST', '/v1/bitrate', '{"kbps": 1e9}', 400, /from 100/],
      ['POST', '/v1/bitrate', 'nope', 400, /not JSON/],
    ];
    for (const [method, url, body, status, error] of cases) {
      const a = await route(c, method, url, body);
      assert.equal(a.status, status, `${method} ${url}`);
      assert.match((a.body as { error: string }).error, error, `${method} ${url}`);
    }
    assert.deepEqual(c.asked, []);
  });
});
