#!/usr/bin/env python3
"""Fit the document detector's content model (`ID_WEIGHTS` in
src/detect/document.rs) on the tuning part of one or more detection sets.

Usage:
  fit_content_model.py --features BIN SET_DIR [SET_DIR ...] [--l2 L] [--split tune]

BIN is the `doc_features` example (cargo build --release --example
doc_features): for every frame it lists the quads the detector weighs in `Id`
mode, in the order it weighs them, with their content features. A quad is a
positive when its frame holds a whole document and its corners are within the
evaluation's criterion (mean corner error <= 2 % of the diagonal), a negative
otherwise (frames without a document, and the wrong quads of frames with one).
Frames whose document is cut by the frame edge are left out.

The detector keeps the first quad of a frame whose log-odds is positive, so
the script scores that rule (and checks that the listed log-odds are those of
the weights in the source): per set, the recall and the false documents with
the model fitted on the other sets (leave one set out), then with the weights
now in the source, then the weights fitted on all the sets, printed as Rust.

Sets: scripts/detect/build_eval_set.py OUT --faces-from DIR --seed N; only
their tuning part (`--split tune`, the default) is read.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from evaluate import corner_error  # noqa: E402

DIAG = math.hypot(1280, 720)
FEATURES = 13
SOURCE = os.path.join(os.path.dirname(__file__), "..", "..", "src", "detect", "document.rs")


def load_set(binary, root, split):
    labels = [l for l in json.load(open(os.path.join(root, "labels.json"))) if l["split"] == split]
    labels = [l for l in labels if not (l["set"] == "doc" and l["cut"])]
    frames = []
    # The example takes many files per run.
    for k in range(0, len(labels), 200):
        chunk = labels[k:k + 200]
        out = subprocess.run([binary, *[os.path.join(root, l["file"]) for l in chunk]],
                             capture_output=True, text=True, check=True).stdout.splitlines()
        assert len(out) == len(chunk), f"{binary}: {len(out)} lines for {len(chunk)} frames"
        for l, line in zip(chunk, out):
            pool = json.loads(line)["pool"]
            doc = l["set"] == "doc"
            X = np.array([q["features"] for q in pool], dtype=np.float64).reshape(len(pool), FEATURES)
            y = np.array([doc and corner_error(q["corners"], l["corners"], DIAG) <= 0.02 for q in pool], dtype=float)
            frames.append(dict(doc=doc, X=X, y=y, log_odds=np.array([q["log_odds"] for q in pool])))
    return frames


def fit(frames, l2):
    X = np.vstack([f["X"] for f in frames])
    y = np.concatenate([f["y"] for f in frames])
    w = np.zeros(X.shape[1])
    reg = np.full(X.shape[1], l2)
    reg[-1] = 0.0  # the last feature is the constant 1: no penalty on the bias
    for _ in range(100):  # Newton's method (IRLS)
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        g = X.T @ (p - y) + reg * w
        H = (X * (p * (1 - p))[:, None]).T @ X + np.diag(reg) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(H, g)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return w


def score(frames, w):
    """Recall and false documents of the rule: the first quad with positive log-odds."""
    hits = pos = false = neg = 0
    for f in frames:
        pick = next((k for k in range(len(f["X"])) if f["X"][k] @ w > 0), None)
        if f["doc"]:
            pos += 1
            hits += pick is not None and f["y"][pick] == 1
        else:
            neg += 1
            false += pick is not None
    return hits / max(pos, 1), pos, false, neg


def current_weights():
    text = open(SOURCE).read()
    body = re.search(r"const ID_WEIGHTS: \[f32; FEATURES\] = \[(.*?)\];", text, re.S).group(1)
    return np.array([float(v) for v in body.replace("\n", " ").split(",") if v.strip()])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--features", required=True, help="the doc_features example binary")
    ap.add_argument("sets", nargs="+")
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--split", default="tune")
    a = ap.parse_args()
    sets = {os.path.basename(os.path.normpath(s)): load_set(a.features, s, a.split) for s in a.sets}
    now = current_weights()
    for frames in sets.values():
        for f in frames:
            assert np.allclose(f["X"] @ now, f["log_odds"], atol=1e-3), "the binary's weights differ from the source's"
    print("| set | frames | recall, left out | false, left out | recall, source weights | false, source weights |")
    print("|---|---|---|---|---|---|")
    for name, frames in sets.items():
        rest = [f for n, fs in sets.items() if n != name for f in fs]
        r1, pos, f1, neg = score(frames, fit(rest, a.l2)) if rest else (float("nan"), 0, 0, 0)
        r0, pos, f0, neg = score(frames, now)
        print(f"| {name} | {pos} + {neg} | {r1:.3f} | {f1} | {r0:.3f} | {f0} |")
    w = fit([f for fs in sets.values() for f in fs], a.l2)
    print("fitted on all sets:")
    print("const ID_WEIGHTS: [f32; FEATURES] = [" + ", ".join(f"{v:.3f}" for v in w) + "];")


if __name__ == "__main__":
    main()
