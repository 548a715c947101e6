#!/usr/bin/env python3
"""Offline study of scale-aware blur features on the split set (not used by
the kiosk; BENCHMARKS.md, "Accuracy on a held-out part", reports its figures).

Usage: blur_study.py SPLIT_DIR DUMP_JSON [--subset tests/data/quality]

SPLIT_DIR is a set built by build_split_set.py; DUMP_JSON is what
`evaluate.py SPLIT_DIR --dump DUMP_JSON` wrote (the kiosk's own sharpness
score of every file). Every frame is box-averaged to the kiosk's working grid
(long side <= 640 cells, luma x 8) and, along every row and every column,
cut into edges: maximal runs of 1-cell differences of one sign, each at least
max(16, 10 % of the 99th percentile of |difference|). Per edge: its step A
(sum of the run), its peak difference, the second moment of the run
(width sigma), and the distance to the neighbouring edge of opposite sign in
the same row (the stroke or gap it bounds). Edges whose step reaches 30 % of
the frame's 98th percentile step are the frame's strong edges. Features, the
worse of rows and columns:

  W      A^2-weighted mean of A / peak over the strong edges (effective edge
         width in cells; a step is 1, a Gaussian edge 2.5 sigma);
  sig/d  median of sigma / opposite-edge distance (edge width against the
         stroke or gap it bounds);
  Q      median step over the edges reaching 15 % of the 98th percentile
         step, divided by that percentile (thin strokes lose contrast to blur
         in proportion to their width: a relative, scale-free figure).

Each feature's threshold is the best one on TUNE (F1), then applied to TEST.
The rule `kiosk < a and Q < b, or kiosk < c` (absolute steepness and relative
stroke contrast, like the label rule's two lines) is fitted on TUNE documents
and applied to TEST documents and to the regression subset.

With --intrinsic, the kiosk's figures are also given under a label rule that
counts the blur a source carries from being enlarged: sigma_eq =
sqrt(added^2 + (0.29 source px)^2), 0.29 px being the standard deviation of
one source pixel's footprint (1/sqrt(12)), the least blur an enlarged
photograph can carry. One process, numpy only.
"""
import argparse
import csv
import json
import os

import cv2
import numpy as np


def grid(path):
    im = cv2.imread(path, cv2.IMREAD_COLOR).astype(np.float32)
    h, w = im.shape[:2]
    f = -(-max(w, h) // 640)
    gh, gw = h // f, w // f
    im = im[:gh * f, :gw * f]
    luma = (29 * im[..., 0] + 150 * im[..., 1] + 77 * im[..., 2]) / 256 * 8
    return luma.reshape(gh, f, gw, f).mean(axis=(1, 3))


def edges(lines):
    """Per edge (run of same-sign differences): step, peak, variance,
    centroid, sign, line index."""
    g = np.diff(lines, axis=1)
    n, m = g.shape
    small = max(16.0, 0.1 * np.percentile(np.abs(g), 99))
    s = np.sign(g) * (np.abs(g) >= small)
    s = np.concatenate([s, np.zeros((n, 1))], axis=1).ravel()
    gg = np.abs(np.concatenate([g, np.zeros((n, 1))], axis=1).ravel())
    x = np.tile(np.arange(m + 1, dtype=np.float64), n)
    line = np.repeat(np.arange(n), m + 1)
    run = np.cumsum(np.r_[True, s[1:] != s[:-1]]) - 1
    keep = s != 0
    _, inv = np.unique(run[keep], return_inverse=True)
    a, xs = gg[keep], x[keep]
    step = np.bincount(inv, a)
    mu = np.bincount(inv, a * xs) / step
    var = np.maximum(np.bincount(inv, a * xs * xs) / step - mu * mu, 0)
    peak = np.zeros(len(step))
    np.maximum.at(peak, inv, a)
    sign = np.zeros(len(step))
    sign[inv] = s[keep]
    li = np.zeros(len(step), int)
    li[inv] = line[keep]
    return step, peak, var, mu, sign, li


def direction_features(lines):
    step, peak, var, mu, sign, li = edges(lines)
    if len(step) < 10:
        return 1.0, 0.0, 1.0
    same_prev = np.r_[False, li[1:] == li[:-1]] & (np.r_[0, sign[:-1]] != sign)
    same_next = np.r_[li[:-1] == li[1:], False] & (np.r_[sign[1:], 0] != sign)
    d = np.minimum(np.where(same_prev, mu - np.r_[0, mu[:-1]], np.inf),
                   np.where(same_next, np.r_[mu[1:], 0] - mu, np.inf))
    p98 = np.percentile(step, 98)
    strong = step >= 0.3 * p98
    a = step[strong]
    w = np.sum(a * a * a / peak[strong]) / np.sum(a * a)
    ratio = np.median(np.sqrt(var[strong] + 1 / 12) / np.minimum(d[strong], 50))
    q = np.median(step[step >= 0.15 * p98]) / p98
    return w, ratio, q


def features(path):
    l = grid(path)
    h, v = direction_features(l), direction_features(l.T)
    return dict(W=max(h[0], v[0]), ratio=max(h[1], v[1]), Q=min(h[2], v[2]))


def prf(truth, pred):
    t, p = np.asarray(truth, bool), np.asarray(pred, bool)
    tp, fp, fn = (t & p).sum(), (~t & p).sum(), (t & ~p).sum()
    pr = tp / (tp + fp) if tp + fp else 1.0
    rc = tp / (tp + fn) if tp + fn else 1.0
    return 2 * pr * rc / (pr + rc) if pr + rc else 0.0


def best(values, truth):
    return max((prf(truth, values >= c), c) for c in np.unique(values))


GROUPS = {
    "all": lambda k: k != "blank",
    "documents + faces": lambda k: k not in ("photo", "blank"),
    "documents": lambda k: k not in ("photo", "blank", "face"),
    "natural scenes": lambda k: k == "photo",
}


def intrinsic_report(d, dump):
    import math
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from build_split_set import FACES, load_photos, blur_label
    shape = {n: cv2.imread(p).shape[:2] for n, p in load_photos().items()}
    shape.update({n: (b - t, r - l) for n, (t, b, l, r) in FACES.items()})
    rows = list(csv.DictReader(open(os.path.join(d, "labels.csv"))))
    for r in rows:
        r["new"] = r["blur"]
        if r["kind_of_source"] not in ("photo", "face", "textphoto"):
            continue
        w, h = map(int, r["size"].split("x"))
        ih, iw = shape[r["source"]]
        lv, k = float(r["level"]), r["kind"]
        added = (lv if k == "gauss" else lv / 2 if k == "defocus" else
                 lv / math.sqrt(12) if k.startswith("motion") else 0.0)
        sig = math.hypot(added, 0.29 * max(w / iw, h / ih))
        r["new"] = str(blur_label(sig, max(w, h) / 640, float(r["xh"]) if r["xh"] else None))
    print("| labels | group | TUNE n (blurred) F1 | TEST n (blurred) F1 |")
    print("|---|---|---|---|")
    for lab in ("blur", "new"):
        for gname, g in GROUPS.items():
            out = []
            for part in ("tune", "test"):
                sel = [r for r in rows if r["split"] == part and r[lab] in ("0", "1") and g(r["kind_of_source"])]
                t = [r[lab] == "1" for r in sel]
                p = ["blurry" in dump[r["file"]]["ours"]["issues"] for r in sel]
                out.append(f"{len(sel)} ({sum(t)}) {prf(t, p):.3f}")
            print(f"| {'as built' if lab == 'blur' else 'intrinsic'} | {gname} | {out[0]} | {out[1]} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("dump")
    ap.add_argument("--subset", help="regression subset dir (labels.csv) to check the rule on")
    ap.add_argument("--kiosk", help="kyc-kiosk binary, for the subset's scores")
    ap.add_argument("--intrinsic", action="store_true", help="also score under the intrinsic-blur rule")
    a = ap.parse_args()
    dump = json.load(open(a.dump))
    if a.intrinsic:
        intrinsic_report(a.dir, dump)
    rows = [r for r in csv.DictReader(open(os.path.join(a.dir, "labels.csv"))) if r["blur"] in ("0", "1")]
    for r in rows:
        r.update(features(os.path.join(a.dir, r["file"])))
        r["kiosk"] = dump[r["file"]]["ours"]["scores"]["sharpness"]
    print("| feature | group | TUNE best F1 (threshold) | TEST F1 at that threshold |")
    print("|---|---|---|---|")
    for name, sign in (("kiosk", -1), ("W", 1), ("ratio", 1), ("Q", -1)):
        for gname, g in GROUPS.items():
            part = {p: [r for r in rows if r["split"] == p and g(r["kind_of_source"])] for p in ("tune", "test")}
            tv = sign * np.array([r[name] for r in part["tune"]])
            f1, c = best(tv, [r["blur"] == "1" for r in part["tune"]])
            sv = sign * np.array([r[name] for r in part["test"]])
            f_test = prf([r["blur"] == "1" for r in part["test"]], sv >= c)
            print(f"| {name} | {gname} | {f1:.3f} ({sign * c:.3f}) | {f_test:.3f} |")
    docs = {p: [r for r in rows if r["split"] == p and GROUPS["documents"](r["kind_of_source"])]
            for p in ("tune", "test")}

    def rule(r, a_, b_, c_):
        return (r["kiosk"] < a_ and r["Q"] < b_) or r["kiosk"] < c_

    fit = (0.0,)
    for a_ in np.linspace(0.4, 0.8, 41):
        for b_ in np.linspace(0.2, 1.0, 81):
            for c_ in (0.0, 0.3, 0.35, 0.4, 0.45):
                f = prf([r["blur"] == "1" for r in docs["tune"]], [rule(r, a_, b_, c_) for r in docs["tune"]])
                if f > fit[0]:
                    fit = (f, a_, b_, c_)
    f, a_, b_, c_ = fit
    f_test = prf([r["blur"] == "1" for r in docs["test"]], [rule(r, a_, b_, c_) for r in docs["test"]])
    print(f"rule kiosk < {a_:.2f} and Q < {b_:.2f}, or kiosk < {c_:.2f}: "
          f"documents TUNE {f:.3f}, TEST {f_test:.3f}")
    if a.subset and a.kiosk:
        import subprocess
        sub = list(csv.DictReader(open(os.path.join(a.subset, "labels.csv"))))
        files = [os.path.join(a.subset, r["file"]) for r in sub]
        out = subprocess.run([a.kiosk, "precheck", "--json", *files], capture_output=True, text=True).stdout
        ours = {json.loads(x)["file"]: json.loads(x) for x in out.splitlines()}
        for r, p in zip(sub, files):
            if r["blur"] != "0" or r["base"] == "selfie":
                continue
            r.update(features(p))
            r["kiosk"] = ours[p]["scores"]["sharpness"]
            if rule(r, a_, b_, c_):
                print(f"  subset: sharp {r['file']} would read blurry (kiosk {r['kiosk']:.3f}, Q {r['Q']:.3f})")


if __name__ == "__main__":
    main()
