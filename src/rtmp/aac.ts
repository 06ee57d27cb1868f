/**
 * One AAC-LC frame of silence for each channel layout, as raw data blocks: a mono single channel element and a
 * stereo channel pair element, each with every spectral value zero. They decode to silence at any sample rate
 * (the rate is in the stream's AudioSpecificConfig, not in the frame). Checked with ffmpeg's decoder.
 */
const SILENT_FRAME: Record<number, Buffer> = {
  1: Buffer.from([0x01, 0x40, 0x20, 0x07]),
  2: Buffer.from([0x21, 0x00, 0x49, 0x90, 0x02, 0x19, 0x00, 0x23, 0x80]),
};

/** AAC's object type for Low Complexity, the profile every RTMP encoder sends. */
const AAC_LC = 2;

/**
 * An FLV audio payload of one frame of silence for the stream whose AAC sequence header (an FLV audio payload:
 * sound format byte, packet type 0, AudioSpecificConfig) is `header`; undefined for what it cannot make (another
 * profile, more than two channels, a header too short to read).
 */
export function aacSilence(header: Buffer): Buffer | undefined {
  if (header.length < 4 || header[1] !== 0) return undefined;
  // AudioSpecificConfig: object type (5 bits), sampling-frequency index (4), channel configuration (4)
  const objectType = header[2]! >> 3;
  const frequencyIndex = ((header[2]! & 0x07) << 1) | (header[3]! >> 7);
  const frame = SILENT_FRAME[(header[3]! >> 3) & 0x0f];
  // index 15 puts an explicit 24-bit rate before the channels: not what an encoder sends
  if (objectType !== AAC_LC || frequencyIndex === 15 || !frame) return undefined;
  return Buffer.concat([Buffer.from([header[0]!, 1]), frame]);
}
