import type { VideoSetting } from '../plan/setting.js';

/**
 * Every picture is made BT.709, limited range, whatever the source says of itself (OBS tags BT.709, a camera may
 * be full range, an image or the slate card nothing), and the encoder is told so (videoEncoderArgs): every encoder
 * of a stream writes the same parameter sets, and a swap changes nothing but the picture.
 */
const TO_BT709 = 'out_color_matrix=bt709:out_range=tv';

/**
 * The picture for one encode, from the decoded source: fitted to its frame (`crop` keeps the centre and fills it,
 * `pad` shows it whole with bars, `blur` shows it whole over a blurred copy of itself), square pixels, its frame
 * rate, 4:2:0. One chain (one input, one output): a `-vf`, or a branch of the split in a `-filter_complex`.
 */
export function fitChain(v: Pick<VideoSetting, 'width' | 'height' | 'fps' | 'fit'>, tail = 'format=yuv420p'): string {
  const { width: w, height: h } = v;
  const cover = `scale=${w}:${h}:force_original_aspect_ratio=increase:${TO_BT709},crop=${w}:${h}`;
  const inside = `scale=${w}:${h}:force_original_aspect_ratio=decrease:${TO_BT709}`;
  const fitted =
    v.fit === 'crop'
      ? cover
      : v.fit === 'blur'
        ? // the blur in proportion to the frame (a fixed radius is too big for a small one)
          `split=2[bg][fg];[bg]${cover},boxblur=lr=min(w\\,h)/20:lp=2:cr=min(cw\\,ch)/20:cp=2[blurred];` +
          `[fg]${inside}[sharp];` +
          '[blurred][sharp]overlay=(W-w)/2:(H-h)/2'
        : `${inside},pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2`;
  return [fitted, 'setsar=1', `fps=${v.fps}`, tail].join(',');
}

/**
 * Several encodes: the source's video decoded once and split, one fitted branch per encode, labelled `[v0]`,
 * `[v1]`, …; each chain's inner labels are made its own.
 */
export function splitGraph(
  input: string,
  videos: Pick<VideoSetting, 'width' | 'height' | 'fps' | 'fit'>[],
  tails: string[] = [],
): string {
  const branches = videos.map((_, i) => `[s${i}]`).join('');
  const chains = videos.map((v, i) => {
    const chain = fitChain(v).replace(/\[(bg|fg|blurred|sharp)\]/g, `[$1${i}]`) + (tails[i] ?? '');
    return `[s${i}]${chain}[v${i}]`;
  });
  return [`[${input}]split=${videos.length}${branches}`, ...chains].join(';');
}
