/** How a picture of another shape fills the frame: cut to it (around the centre), bars, or a blurred copy behind. */
export const FITS = ['crop', 'pad', 'blur'] as const;
export type Fit = (typeof FITS)[number];

/** `--encoder`: `auto` tries the hardware encoders this ffmpeg lists (best first) and falls back to x264. */
export const ENCODER_CHOICES = ['auto', 'x264', 'nvenc', 'qsv', 'vaapi', 'videotoolbox', 'v4l2m2m'] as const;
export type EncoderChoice = (typeof ENCODER_CHOICES)[number];
