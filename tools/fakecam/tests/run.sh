#!/usr/bin/env bash
# Builds the fakecam shim and its test program, runs the test program under
# the shim, then (where v4l2-ctl is installed) checks the shim with v4l2-ctl:
# listing, device info, formats, and mmap streaming of MJPEG and YUYV.
# Closes with "N passed, M failed"; exits non-zero on any failure.
# Needs: cc, libturbojpeg0-dev. Optional: v4l-utils (v4l2-ctl).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
wrap="$repo/scripts/with-fake-camera"
demo="$repo/assets/demo"

target="${CARGO_TARGET_DIR:-$repo/target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
out="$target/fakecam"
mkdir -p "$out"

lib="$("$wrap" --lib)" || { echo "fakecam: building the shim failed"; echo "0 passed, 1 failed"; exit 1; }
test_bin="$out/fakecam_test"
if [ ! -x "$test_bin" ] || [ "$here/fakecam_test.c" -nt "$test_bin" ]; then
  cc -O2 -Wall -Wextra -o "$test_bin" "$here/fakecam_test.c" -lturbojpeg -lpthread ||
    { echo "fakecam: building the test program failed"; echo "0 passed, 1 failed"; exit 1; }
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/fakecam-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT
ctl="$work/control"
: >"$ctl"

passed=0
failed=0

# --- the C test program ------------------------------------------------------
echo "# fakecam_test (shim: $lib)"
FAKECAM_TEST_ALT_IMAGE="$demo/back.jpg" \
  "$wrap" --devices "Document Camera;Face Camera" --formats "MJPG,YUYV;MJPG" \
  --images "$demo/front.jpg;$demo/face.jpg" --control "$ctl" \
  "$test_bin" >"$work/c.out" 2>"$work/c.err"
rc=$?
grep -v -E '^[0-9]+ passed, [0-9]+ failed$' "$work/c.out"
summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$work/c.out" | tail -1)"
if [ -n "$summary" ]; then
  passed=$((passed + $(echo "$summary" | cut -d' ' -f1)))
  failed=$((failed + $(echo "$summary" | cut -d' ' -f3)))
fi
if [ "$rc" -ne 0 ] && { [ -z "$summary" ] || [ "$(echo "$summary" | cut -d' ' -f3)" = 0 ]; }; then
  echo "FAIL - fakecam_test exited $rc"
  sed 's/^/  /' "$work/c.err"
  failed=$((failed + 1))
fi

# --- v4l2-ctl ----------------------------------------------------------------
ok() { passed=$((passed + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; [ -n "${2:-}" ] && sed 's/^/  /' "$2" | head -20; }

cam() {
  "$wrap" --devices "Document Camera;Face Camera" --formats "MJPG,YUYV;MJPG" \
    --images "$demo/front.jpg;$demo/face.jpg" --control "$ctl" "$@"
}

# fps as v4l2-ctl reports it while streaming (the last figure it printed)
fps_of() { grep -o -E '[0-9]+\.[0-9]+ fps' "$1" | tail -1 | cut -d' ' -f1; }
within() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }

if command -v v4l2-ctl >/dev/null 2>&1; then
  echo "# v4l2-ctl $(v4l2-ctl --version 2>/dev/null | head -1)"
  : >"$ctl"

  if cam v4l2-ctl --list-devices >"$work/list" 2>&1 &&
    grep -q '^Document Camera (platform:fakecam-0):' "$work/list" &&
    grep -q '^Face Camera (platform:fakecam-1):' "$work/list" &&
    grep -q '/dev/video0' "$work/list" && grep -q '/dev/video1' "$work/list"; then
    ok "v4l2-ctl --list-devices"
  else bad "v4l2-ctl --list-devices" "$work/list"; fi

  if cam v4l2-ctl -d /dev/video0 --all >"$work/all" 2>&1 &&
    grep -q 'Driver name *: fakecam' "$work/all" && grep -q 'Card type *: Document Camera' "$work/all" &&
    grep -q 'Frames per second: 30.000' "$work/all"; then
    ok "v4l2-ctl --all"
  else bad "v4l2-ctl --all" "$work/all"; fi

  if cam v4l2-ctl -d /dev/video0 --list-formats-ext >"$work/fmts" 2>&1 &&
    grep -q "'MJPG'" "$work/fmts" && grep -q "'YUYV'" "$work/fmts" &&
    [ "$(grep -c 'Size: Discrete' "$work/fmts")" = 8 ] &&
    cam v4l2-ctl -d /dev/video1 --list-formats-ext >"$work/fmts1" 2>&1 &&
    grep -q "'MJPG'" "$work/fmts1" && ! grep -q "'YUYV'" "$work/fmts1"; then
    ok "v4l2-ctl --list-formats-ext (MJPG+YUYV; MJPG only)"
  else bad "v4l2-ctl --list-formats-ext" "$work/fmts"; fi

  # MJPEG 1080p: 60 frames at 30 fps, each decodes at 1920x1080
  if cam v4l2-ctl -d /dev/video0 --set-fmt-video=width=1920,height=1080,pixelformat=MJPG \
    --stream-mmap --stream-count=60 --stream-to="$work/mjpg.raw" >"$work/s1" 2>&1; then
    fps="$(fps_of "$work/s1")"
    frames="$("$test_bin" --check-mjpeg "$work/mjpg.raw" 1920 1080 2>"$work/s1.err")"
    if [ "$frames" = 60 ] && within "${fps:-0}" 27 33; then
      ok "v4l2-ctl MJPEG 1920x1080 stream: $frames frames decode, ${fps} fps"
    else bad "v4l2-ctl MJPEG 1920x1080 stream (frames ${frames:-?}, ${fps:-?} fps)" "$work/s1.err"; fi
  else bad "v4l2-ctl MJPEG 1920x1080 stream" "$work/s1"; fi

  # YUYV 720p: 45 frames of exactly 1280*720*2 bytes (v4l2-ctl reports fps after a second)
  if cam v4l2-ctl -d /dev/video0 --set-fmt-video=width=1280,height=720,pixelformat=YUYV \
    --stream-mmap --stream-count=45 --stream-to="$work/yuyv.raw" >"$work/s2" 2>&1; then
    size="$(stat -c %s "$work/yuyv.raw")"
    fps="$(fps_of "$work/s2")"
    if [ "$size" = $((1280 * 720 * 2 * 45)) ] && within "${fps:-0}" 27 33; then
      ok "v4l2-ctl YUYV 1280x720 stream: 45 frames of 1843200 bytes, ${fps} fps"
    else bad "v4l2-ctl YUYV 1280x720 stream (size $size, ${fps:-?} fps)" "$work/s2"; fi
  else bad "v4l2-ctl YUYV 1280x720 stream" "$work/s2"; fi

  # a face camera at 15 fps on its own format
  if cam v4l2-ctl -d /dev/video1 --set-fmt-video=width=640,height=480,pixelformat=MJPG --set-parm=15 \
    --stream-mmap --stream-count=20 --stream-to="$work/face.raw" >"$work/s3" 2>&1; then
    frames="$("$test_bin" --check-mjpeg "$work/face.raw" 640 480 2>"$work/s3.err")"
    fps="$(fps_of "$work/s3")"
    if [ "$frames" = 20 ] && within "${fps:-0}" 13.5 16.5; then
      ok "v4l2-ctl MJPEG 640x480 at 15 fps on the face camera: ${fps} fps"
    else bad "v4l2-ctl face camera at 15 fps (frames ${frames:-?}, ${fps:-?} fps)" "$work/s3.err"; fi
  else bad "v4l2-ctl face camera at 15 fps" "$work/s3"; fi

  # unplugged before start: the device is gone for v4l2-ctl too
  echo "unplug 1" >"$ctl"
  if cam v4l2-ctl --list-devices >"$work/list2" 2>&1; [ "$?" -le 1 ] &&
    grep -q 'Document Camera' "$work/list2" && ! grep -q 'Face Camera' "$work/list2" &&
    ! cam v4l2-ctl -d /dev/video1 --all >"$work/gone" 2>&1; then
    ok "v4l2-ctl: an unplugged camera is not listed and does not open"
  else bad "v4l2-ctl: unplugged camera" "$work/list2"; fi
  : >"$ctl"
else
  echo "# v4l2-ctl not installed (apt-get install v4l-utils): its checks skipped"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
