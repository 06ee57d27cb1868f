import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exitCodeFor, type Outcome } from '../../src/run/exit-code.js';

const start = (over: Partial<Extract<Outcome, { command: 'start' }>>): Outcome => ({
  command: 'start',
  encoderFailed: false,
  nothingReceived: false,
  breaksRules: false,
  recordFailed: false,
  destinations: ['stopped'],
  ...over,
});

describe('exitCodeFor: 1 for rtmpush’s own side, 3 for the destinations’ side', () => {
  const cases: [string, Outcome, number][] = [
    ['every destination live to the end', start({ destinations: ['stopped', 'stopped'] }), 0],
    ['the encoder failed', start({ encoderFailed: true }), 1],
    ['the encoder failed, and a destination too', start({ encoderFailed: true, destinations: ['failed'] }), 1],
    ['nothing arrived at the embedded server', start({ nothingReceived: true }), 1],
    ['one destination rejected', start({ destinations: ['stopped', 'rejected'] }), 3],
    ['every destination rejected: never live, but their side', start({ destinations: ['rejected', 'rejected'] }), 3],
    ['never reached', start({ destinations: ['failed'] }), 3],
    ['the recording failed', start({ recordFailed: true }), 3],
    ['a rehearsal breaks a rule', start({ breaksRules: true }), 3],
    ['doctor: all reachable', { command: 'doctor', reachable: 2, total: 2 }, 0],
    ['doctor: one not', { command: 'doctor', reachable: 1, total: 2 }, 3],
    ['uplink measured', { command: 'uplink', measured: true }, 0],
    ['uplink: the target could not be measured', { command: 'uplink', measured: false }, 3],
  ];
  for (const [name, outcome, code] of cases) it(`${name} → ${code}`, () => assert.equal(exitCodeFor(outcome), code));
});
