import { probeReceived } from '../../src/probe/ffprobe.js';
import type { ReceivedSummary } from '../../src/probe/summary.js';

export const probe = (file: string): Promise<ReceivedSummary> => probeReceived('ffprobe', file);
