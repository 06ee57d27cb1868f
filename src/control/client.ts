import http from 'node:http';
import { UsageError } from '../errors.js';

export interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** Answers are small; a socket that sends more is not a run of ours. */
const MAX_REPLY_BYTES = 4 * 1024 * 1024;

/** One request to a running stream's control socket. No run there: a UsageError naming it (exit 2). */
export function request(
  socketPath: string,
  name: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        socketPath,
        method,
        path,
        timeout: 15_000,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
          if (text.length > MAX_REPLY_BYTES) req.destroy(new Error('the answer is too large'));
        });
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
          } catch {
            reject(new UsageError(`${socketPath} did not answer as rtmpush does`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from rtmpush \`${name}\` within 15 s`)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED')
        reject(new UsageError(`no rtmpush named ${name} is running (no socket answers at ${socketPath})`));
      else if (error.code === 'EACCES')
        reject(new UsageError(`${socketPath} belongs to another user: set RTMPUSH_RUNTIME_DIR or --name`));
      else reject(new UsageError(`rtmpush \`${name}\`: ${error.message}`));
    });
    req.end(payload);
  });
}
