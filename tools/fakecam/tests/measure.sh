#!/usr/bin/env bash
# Frames per second the shim delivers, and the CPU it spends, streaming with
# v4l2-ctl (mmap, frames not saved) for about SECONDS seconds per case, for
# MJPEG and YUYV at 720p, 1080p and 4K. Prints a Markdown table.
# Usage: tools/fakecam/tests/measure.sh [SECONDS]   (needs v4l-utils, GNU time)
set -euo pipefail

secs="${1:-10}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
wrap="$repo/scripts/with-fake-camera"
"$wrap" --lib >/dev/null
command -v v4l2-ctl >/dev/null || { echo "measure: v4l2-ctl missing (apt-get install v4l-utils)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "measure: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "| format | size | rate asked | frames | fps delivered | CPU user+sys | CPU per frame | max RSS | prepare |"
echo "|---|---|---|---|---|---|---|---|---|"
for fmt in MJPG YUYV; do
  for size in 1280x720 1920x1080 3840x2160; do
    w="${size%x*}"
    h="${size#*x}"
    rate=30
    [ "$fmt" = YUYV ] && [ "$w" -gt 1920 ] && rate=15
    count=$((secs * rate))
    FAKECAM_DEBUG=1 /usr/bin/time -f '%U %S %M' -o "$work/time" \
      "$wrap" --devices "Document Camera" --images "$repo/assets/demo/front.jpg" \
      v4l2-ctl -d /dev/video0 --set-fmt-video=width="$w",height="$h",pixelformat="$fmt" \
      --set-parm="$rate" --stream-mmap=4 --stream-count="$count" >"$work/out" 2>"$work/err"
    fps="$(grep -o -E '[0-9]+\.[0-9]+ fps' "$work/out" "$work/err" | tail -1 | grep -o -E '[0-9]+\.[0-9]+')"
    read -r user sys rss <"$work/time"
    prep="$(grep -o -E 'in [0-9.]+ ms' "$work/err" | head -1 | grep -o -E '[0-9.]+')"
    awk -v f="$fmt" -v s="$size" -v r="$rate" -v c="$count" -v fps="$fps" -v u="$user" -v sy="$sys" \
      -v rss="$rss" -v p="$prep" 'BEGIN {
        cpu = u + sy
        printf "| %s | %s | %d | %d | %s | %.2f s (%.1f%% of a core) | %.2f ms | %d MiB | %s ms |\n",
          f, s, r, c, fps, cpu, 100 * cpu / (c / r), 1000 * cpu / c, rss / 1024, p
      }'
  done
done
