#!/usr/bin/env python3
"""Score the kiosk's detectors and an OpenCV baseline on the labelled set.

Usage: evaluate.py EVAL_DIR --kiosk target/release/kyc-kiosk --yunet PATH.onnx [--split test]

The kiosk runs as `kyc-kiosk detect --json --only document|faces` (its
analysis_ms is the detection time on the decoded frame); the baseline runs in
this process on one thread (cv2.setNumThreads(1)), timed the same way:
  documents  grey, Gaussian 5x5, Canny(75, 200), dilate, external contours,
             the largest with a 4-point approxPolyDP (2 % of the perimeter)
             and area >= 3 % of the frame (the usual "document scanner")
  faces      YuNet (cv2.FaceDetectorYN, score 0.6) and the Haar cascade
             haarcascade_frontalface_default (scale 1.1, 5 neighbours)
Metrics: document recall at mean corner error <= 2 % of the diagonal (best
cyclic order of the corners), false documents on frames without one, fill
error of the correct ones; face recall at IoU >= 0.5, false faces per frame on
frames without a face, exact face counts; median and p95 times.
"""
import argparse
import json
import math
import os
import subprocess
import time

import cv2
import numpy as np

cv2.setNumThreads(1)


def kiosk(binary, root, files, only):
    out = {}
    for i in range(0, len(files), 100):
        chunk = files[i:i + 100]
        res = subprocess.run([binary, "detect", "--json", "--only", only] + chunk, cwd=root,
                             capture_output=True, text=True, check=False)
        for line in res.stdout.splitlines():
            o = json.loads(line)
            out[o["file"]] = o
    return out


def cv_document(img):
    h, w = img.shape[:2]
    s = 640 / w
    small = cv2.resize(img, (640, int(h * s)), interpolation=cv2.INTER_AREA)
    g = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (5, 5), 0)
    e = cv2.dilate(cv2.Canny(g, 75, 200), None)
    contours, _ = cv2.findContours(e, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    for c in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
        approx = cv2.approxPolyDP(c, 0.02 * cv2.arcLength(c, True), True)
        if len(approx) == 4 and cv2.contourArea(approx) >= 0.03 * small.shape[0] * small.shape[1]:
            q = approx.reshape(4, 2).astype(np.float64) / s
            return {"corners": q.tolist(), "fill": float(cv2.contourArea(np.float32(q)) / (w * h))}
    return None


class CvFaces:
    def __init__(self, yunet):
        self.yunet = cv2.FaceDetectorYN.create(yunet, "", (640, 360), 0.6, 0.3, 5000)
        self.haar = cv2.CascadeClassifier(os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml"))

    def yunet_faces(self, img):
        h, w = img.shape[:2]
        s = 640 / w
        small = cv2.resize(img, (640, int(h * s)), interpolation=cv2.INTER_AREA)
        self.yunet.setInputSize((small.shape[1], small.shape[0]))
        _, f = self.yunet.detect(small)
        return [[v / s for v in r[:4]] for r in (f if f is not None else [])]

    def haar_faces(self, img):
        h, w = img.shape[:2]
        s = 640 / w
        g = cv2.cvtColor(cv2.resize(img, (640, int(h * s)), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
        found = self.haar.detectMultiScale(g, 1.1, 5, minSize=(24, 24))
        return [[v / s for v in r] for r in found]


def corner_error(pred, truth, diag):
    p, t = np.array(pred), np.array(truth)
    best = math.inf
    for order in (p, p[::-1]):
        for k in range(4):
            best = min(best, np.linalg.norm(np.roll(order, k, 0) - t, axis=1).mean())
    return best / diag


def iou(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    i = max(0, x1 - x0) * max(0, y1 - y0)
    u = a[2] * a[3] + b[2] * b[3] - i
    return i / u if u > 0 else 0


def matched(pred, truth):
    used, hits = set(), 0
    for t in truth:
        best = max(((iou(p, t), j) for j, p in enumerate(pred) if j not in used), default=(0, None))
        if best[0] >= 0.5:
            used.add(best[1])
            hits += 1
    return hits


def pct(values, q):
    return float(np.percentile(values, q)) if values else float("nan")


def doc_scores(labels, found):
    pos = [l for l in labels if l["set"] == "doc" and not l["cut"]]
    neg = [l for l in labels if l["set"] in ("neg", "face", "group")]
    hits, fills = 0, []
    for l in pos:
        d = found[l["file"]]
        if d and corner_error(d["corners"], l["corners"], math.hypot(1280, 720)) <= 0.02:
            hits += 1
            fills.append(abs(d["fill"] - l["fill"]))
    false = sum(1 for l in neg if found[l["file"]])
    by_what = {}
    for l in neg:
        w = l.get("what", l["set"])
        by_what.setdefault(w, [0, 0])
        by_what[w][0] += bool(found[l["file"]])
        by_what[w][1] += 1
    return {"recall": hits / len(pos), "n_pos": len(pos), "false": false / len(neg), "n_neg": len(neg),
            "fill_err": float(np.mean(fills)) if fills else float("nan"),
            "false_by": {k: f"{a}/{b}" for k, (a, b) in by_what.items()}}


def face_scores(labels, found):
    frames = [l for l in labels if l["set"] in ("face", "group")]
    empty = [l for l in labels if l["set"] in ("doc", "neg") or (l["set"] == "face" and not l["boxes"])]
    empty = [l for l in empty if l["set"] != "doc"]  # printed portraits are faces
    total = sum(len(l["boxes"]) for l in frames)
    hits = sum(matched(found[l["file"]], l["boxes"]) for l in frames)
    exact = sum(1 for l in frames if len(found[l["file"]]) == len(l["boxes"]))
    false = sum(len(found[l["file"]]) for l in empty)
    return {"recall": hits / total, "n_faces": total, "false_per_frame": false / len(empty), "n_empty": len(empty),
            "exact": exact / len(frames), "n_frames": len(frames)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--kiosk", required=True)
    ap.add_argument("--yunet", required=True)
    ap.add_argument("--split", default="test")
    args = ap.parse_args()
    labels = [l for l in json.load(open(os.path.join(args.root, "labels.json"))) if l["split"] == args.split]
    files = [l["file"] for l in labels]
    kiosk_bin = os.path.abspath(args.kiosk)
    kd = kiosk(kiosk_bin, args.root, files, "document")
    kf = kiosk(kiosk_bin, args.root, files, "faces")
    cvf = CvFaces(args.yunet)
    cd, cy, ch = {}, {}, {}
    t_doc, t_yu, t_haar = [], [], []
    for f in files:
        img = cv2.imread(os.path.join(args.root, f))
        t = time.perf_counter(); cd[f] = cv_document(img); t_doc.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter(); cy[f] = cvf.yunet_faces(img); t_yu.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter(); ch[f] = cvf.haar_faces(img); t_haar.append((time.perf_counter() - t) * 1000)
    k_doc = {f: kd[f]["document"] for f in files}
    k_face = {f: [x["box"] for x in kf[f]["faces"]] for f in files}
    kt_doc = [kd[f]["analysis_ms"] for f in files]
    kt_face = [kf[f]["analysis_ms"] for f in files]
    report = {
        "split": args.split, "frames": len(files),
        "document": {"kiosk": doc_scores(labels, k_doc), "opencv": doc_scores(labels, cd)},
        "faces": {"kiosk": face_scores(labels, k_face), "opencv_yunet": face_scores(labels, cy),
                  "opencv_haar": face_scores(labels, ch)},
        "ms_median_p95": {"kiosk_document": [pct(kt_doc, 50), pct(kt_doc, 95)],
                          "opencv_document": [pct(t_doc, 50), pct(t_doc, 95)],
                          "kiosk_faces": [pct(kt_face, 50), pct(kt_face, 95)],
                          "opencv_yunet": [pct(t_yu, 50), pct(t_yu, 95)],
                          "opencv_haar": [pct(t_haar, 50), pct(t_haar, 95)]},
    }
    cut = [l for l in labels if l["set"] == "doc" and l["cut"]]
    report["document"]["kiosk"]["cut_flagged"] = f"{sum(1 for l in cut if kd[l['file']]['document'])}/{len(cut)} found"
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
