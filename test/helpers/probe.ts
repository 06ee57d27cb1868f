import { probeReceived } from '../../src/run/ffprobe.js';
import type { ReceivedSummary } from '../../src/probe/summary.js';

export const probe = (file: string): Promise<ReceivedSummary> => probeReceived('ffprobe', file);
