#!/usr/bin/env python3
"""Single-threaded time per frame: kyc-kiosk quality checks vs OpenCV, in one run.

Usage: bench.py [--bench PATH_TO_quality_bench_binary] [--reps N]

Builds 1080p and 4K RGB frames from real photographs (the card composite and
the selfie of build_eval_set.py), times OpenCV on them (cv2.setNumThreads(1);
grayscale + variance of the Laplacian + HSV near-white fraction, i.e. the
baseline's whole blur + glare check), then runs the Rust example
`quality_bench` on the very same raw frames and prints a table of medians.
Frames go to a temporary directory, removed afterwards.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import build_eval_set as ev  # noqa: E402


def opencv_check(rgb):
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    lap = cv2.Laplacian(gray, cv2.CV_64F).var()
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    white = cv2.inRange(hsv, (0, 0, 240), (180, 30, 255))
    return lap, cv2.countNonZero(white) / white.size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default="target/release/examples/quality_bench")
    ap.add_argument("--reps", type=int, default=30)
    a = ap.parse_args()
    cv2.setNumThreads(1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        args = []
        for base in ("card_desk", "selfie"):
            for (w, h) in ((1920, 1080), (3840, 2160)):
                img, _, _ = ev.base_image(base, w, h)
                img = np.ascontiguousarray(ev.noise(img))
                path = os.path.join(tmp, f"{base}_{w}x{h}.rgb")
                img.tofile(path)
                args.append(f"{path}:{w}x{h}")
                opencv_check(img)
                ts = []
                for _ in range(a.reps):
                    t = time.perf_counter()
                    opencv_check(img)
                    ts.append((time.perf_counter() - t) * 1e3)
                rows.append(dict(base=base, size=f"{w}x{h}", opencv_ms=float(np.median(ts))))
        env = dict(os.environ, BENCH_REPS=str(a.reps))
        out = subprocess.run([a.bench, *args], capture_output=True, text=True, env=env, check=True)
        for r, line in zip(rows, out.stdout.splitlines()):
            r.update(json.loads(line))
    print(f"cv2 {cv2.__version__}, numpy {np.__version__}, 1 thread, median of {a.reps}")
    print("| frame | OpenCV ms | assess ms | ratio | assess_live ms | ratio |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['base']} {r['size']} | {r['opencv_ms']:.2f} | {r['assess_ms']:.2f} | "
              f"{r['assess_ms'] / r['opencv_ms']:.2f}x | {r['assess_live_ms']:.2f} | "
              f"{r['assess_live_ms'] / r['opencv_ms']:.2f}x |")


if __name__ == "__main__":
    main()
