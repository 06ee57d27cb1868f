#!/usr/bin/env bash
# Benchmarks only: runs ffmpeg as rtmpush would, then appends the CPU seconds it used ("encode|other user sys")
# to $RTMPUSH_BENCH_FFMPEG_CPU, so a run's CPU splits into the encoder's and rtmpush's own.
ffmpeg "$@"
rc=$?
case " $* " in *" tee "*) what=encode ;; *) what=other ;; esac
if [ -n "${RTMPUSH_BENCH_FFMPEG_CPU:-}" ]; then
  # `times` must run in this shell (not a pipeline's subshell) to see the finished ffmpeg
  times > "$RTMPUSH_BENCH_FFMPEG_CPU.t"
  echo "$what $(tail -1 "$RTMPUSH_BENCH_FFMPEG_CPU.t")" >> "$RTMPUSH_BENCH_FFMPEG_CPU"
  rm -f "$RTMPUSH_BENCH_FFMPEG_CPU.t"
fi
exit $rc
