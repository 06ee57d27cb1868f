#!/usr/bin/env node
// First, before anything else runs: with no SIGUSR1 listener, Node opens its inspector (127.0.0.1:9229, no
// authentication) on that signal, and any local user who can signal rtmpush could then read its keys. Node 20 has
// no flag to turn that off. `start` adds its own listener (retry now); until then the signal does nothing.
process.on('SIGUSR1', () => {});
// A stream's SIGHUP (a reload, or its terminal closed) is `start`'s to handle; until its listener is there the
// signal must not end the process (Node's default), so a `systemctl reload` during start-up costs nothing.
if (process.argv[2] === 'start') process.on('SIGHUP', () => {});
const { main } = await import('../dist/bundle/rtmpush.mjs');

process.exitCode = await main(process.argv.slice(2));
