// Schemas use zod/mini (tree-shaken: ~40 KB in the bundle) rather than zod's classic API (~730 KB, which was most
// of rtmpush's start-up parse time). Each schema module imports `zod/mini` itself, so the bundler keeps only what
// is used, and imports this module first for the English messages classic zod carries by default.
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

/** Every problem in one line each, with where it is: `destinations.yt.keyEnv: ...`. */
export function describeIssues(error: {
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>;
}): string[] {
  return error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
    return `${where}: ${issue.message}`;
  });
}
