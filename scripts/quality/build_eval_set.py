#!/usr/bin/env python3
"""Build the labelled evaluation set for the quality prechecks.

Bases are real photographs shipped inside the scikit-image wheel (no download):
  astronaut  (NASA, public domain)          -> selfies (face), card portrait
  page       (scanned page, public domain)  -> printed text, white paper
  text       (photo of text, public domain) -> printed text on a card
  camera     (CC0)                          -> document-role natural scene
  coffee     (Rachel Michetti, CC0)         -> desk / background
  brick      (CC0)                          -> wall / background
Cards are composites of those photographs (print + portrait on a light card,
laid on a real desk or wall photo); nothing is drawn.

Every base is scaled to 1280x720, 1920x1080, 3840x2160 and 2592x1944
(4:3 document camera), then degraded at labelled severities:
  blur   gaussian / defocus disk / motion (4 angles); severity in "work px"
         (1 work px = long side / 640), so labels mean the same at every size;
  glare  a white specular blob (clipped core of a given area) where content is;
  exposure gain (dark) and lift (bright);
  JPEG recompression of some variants; sensor noise on all.
Hard negatives (labelled no glare): white paper correctly exposed, a card on
a clipped white background, a lamp at the edge of a selfie, a tiny specular
dot. Borderline levels get label "borderline" and are left out of the score.

Usage: build_eval_set.py OUT_DIR [--subset TESTDATA_DIR]
Writes OUT_DIR/*.jpg and OUT_DIR/labels.csv
(file,base,size,kind,level,blur,glare,exposure): blur/glare are 1, 0 or "b".
"""
import argparse
import csv
import math
import os

import cv2
import numpy as np
import skimage.data as skd

SIZES = [(1280, 720), (1920, 1080), (3840, 2160), (2592, 1944)]
RNG = np.random.default_rng(20261122)


def rgb(img):
    if img.ndim == 2:
        img = np.stack([img] * 3, -1)
    return img[..., :3].astype(np.uint8)


def cover(img, w, h):
    """Scale and centre-crop `img` to exactly w x h."""
    ih, iw = img.shape[:2]
    s = max(w / iw, h / ih)
    r = cv2.resize(img, (math.ceil(iw * s), math.ceil(ih * s)), interpolation=cv2.INTER_CUBIC)
    y0 = (r.shape[0] - h) // 2
    x0 = (r.shape[1] - w) // 2
    return r[y0:y0 + h, x0:x0 + w]


def card(background, w, h, white_bg=False):
    """An ID-card-like composite: light card with print and a portrait."""
    bg = np.full((h, w, 3), 252, np.uint8) if white_bg else cover(rgb(background), w, h)
    cw, ch = int(w * (0.62 if white_bg else 0.8)), int(w * (0.62 if white_bg else 0.8) / 1.586)
    ch = min(ch, int(h * 0.9))
    c = np.empty((ch, cw, 3), np.uint8)
    c[:] = (214, 222, 226)
    pw, ph = int(cw * 0.3), int(ch * 0.72)
    face = rgb(skd.astronaut())[20:300, 120:330]
    c[int(ch * 0.14):int(ch * 0.14) + ph, int(cw * 0.05):int(cw * 0.05) + pw] = cover(face, pw, ph)
    tw, th = int(cw * 0.58), int(ch * 0.72)
    text = cover(rgb(skd.text()), tw, th).astype(np.float32) / 255
    region = c[int(ch * 0.14):int(ch * 0.14) + th, int(cw * 0.38):int(cw * 0.38) + tw].astype(np.float32)
    c[int(ch * 0.14):int(ch * 0.14) + th, int(cw * 0.38):int(cw * 0.38) + tw] = (region * text).astype(np.uint8)
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    bg[y0:y0 + ch, x0:x0 + cw] = c
    return bg, (x0, y0, cw, ch)


def base_image(name, w, h):
    """Return (image, content box (x,y,w,h) where glare matters, role)."""
    if name == "page":
        img = cover(rgb(skd.page()), w, h)
        return img, (0, 0, w, h), "document"
    if name == "white_paper":
        # Correctly exposed white paper: background about 238, never clipped.
        p = rgb(skd.page()).astype(np.float32)
        p = np.clip((p - p.min()) / (np.percentile(p, 50) - p.min()) * 238, 0, 245)
        return cover(p.astype(np.uint8), w, h), (0, 0, w, h), "document"
    if name == "card_desk":
        img, box = card(skd.coffee(), w, h)
        return img, box, "document"
    if name == "card_wall":
        img, box = card(skd.brick(), w, h)
        return img, box, "document"
    if name == "card_whitebg":
        img, box = card(None, w, h, white_bg=True)
        return img, box, "document"
    if name == "camera":
        return cover(rgb(skd.camera()), w, h), (0, 0, w, h), "document"
    if name == "selfie":
        a = rgb(skd.astronaut())[0:380, 60:400]
        img = cover(a, w, h)
        return img, (int(w * 0.3), int(h * 0.1), int(w * 0.4), int(h * 0.5)), "selfie"
    raise ValueError(name)


BASES = ["page", "white_paper", "card_desk", "card_wall", "card_whitebg", "camera", "selfie"]


def disk_kernel(r):
    n = int(math.ceil(r)) * 2 + 1
    y, x = np.mgrid[:n, :n] - n // 2
    k = ((x * x + y * y) <= r * r + 1e-6).astype(np.float32)
    return k / k.sum()


def motion_kernel(length, angle):
    n = int(math.ceil(length)) | 1
    k = np.zeros((n, n), np.float32)
    k[n // 2, :] = 1
    m = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), angle, 1)
    k = cv2.warpAffine(k, m, (n, n))
    return k / k.sum()


def noise(img, sigma=2.5):
    return np.clip(img.astype(np.float32) + RNG.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


def add_glare(img, cx, cy, area_frac):
    """White specular blob whose fully clipped core covers area_frac of the frame."""
    h, w = img.shape[:2]
    core_r = math.sqrt(area_frac * w * h / math.pi)
    sigma = core_r / 1.177
    y, x = np.ogrid[:h, :w]
    d2 = ((x - cx) ** 2 + (y - cy) ** 2).astype(np.float32)
    a = np.clip(2.0 * np.exp(-d2 / (2 * sigma * sigma)), 0, 1)[..., None]
    return (img.astype(np.float32) * (1 - a) + 255 * a).astype(np.uint8)


def variants(name, w, h):
    """Yield (kind, level, blur, glare, exposure, image)."""
    img, box, role = base_image(name, w, h)
    s = max(w, h) / 640.0  # one work pixel, in image pixels
    yield "sharp", 0, 0, 0, "ok", img
    for sig, lab in [(0.5, 0), (1.0, "b"), (1.6, 1), (2.5, 1), (4.0, 1)]:
        yield "gauss", sig, lab, 0, "ok", cv2.GaussianBlur(img, (0, 0), sig * s)
    for r, lab in [(1.0, 0), (2.0, "b"), (3.0, 1), (5.0, 1)]:
        yield "defocus", r, lab, 0, "ok", cv2.filter2D(img, -1, disk_kernel(r * s))
    for ln, lab in [(1.5, 0), (4.0, "b"), (6.0, 1), (10.0, 1)]:
        ang = float(RNG.choice([0, 90, 45, 135, RNG.uniform(0, 180)]))
        yield f"motion{int(ang)}", ln, lab, 0, "ok", cv2.filter2D(img, -1, motion_kernel(ln * s, ang))
    bx, by, bw, bh = box
    for area, lab in [(0.001, 0), (0.003, "b"), (0.008, 1), (0.02, 1), (0.05, 1)]:
        cx = bx + bw * RNG.uniform(0.3, 0.7)
        cy = by + bh * RNG.uniform(0.3, 0.7)
        yield "glare", area, 0, lab, "ok", add_glare(img, cx, cy, area)
    # Hard negatives for glare.
    if role == "selfie":
        # A lamp at the edge of the frame, partly outside it.
        yield "lamp_edge", 0.03, 0, 0, "ok", add_glare(img, w * 0.97, h * RNG.uniform(0.1, 0.6), 0.03)
    # Exposure: dim but readable (sharp: dark frames must not read as blurry),
    # far too dark, too bright.
    f = img.astype(np.float32)
    yield "dim", 0.45, 0, 0, "ok", (f * 0.45).astype(np.uint8)
    yield "dark", 0.12, "b", 0, "too_dark", (f * 0.12).astype(np.uint8)
    yield "bright", 1.9, "b", "b", "too_bright", np.clip(f * 1.9 + 30, 0, 255).astype(np.uint8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--subset", help="also write a small regression subset here")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rows = []
    sub_rows = []
    for name in BASES:
        for (w, h) in SIZES:
            for i, (kind, level, blur, glare, expo, img) in enumerate(variants(name, w, h)):
                img = noise(img)
                q = 92
                recompressed = (i % 3 == 1)
                if recompressed:
                    ok, enc = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 60])
                    img = cv2.imdecode(enc, cv2.IMREAD_COLOR)[..., ::-1]
                fn = f"{name}_{w}x{h}_{kind}_{level}{'_q60' if recompressed else ''}.jpg"
                cv2.imwrite(os.path.join(a.out, fn), img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
                row = dict(file=fn, base=name, size=f"{w}x{h}", kind=kind, level=level,
                           blur=blur, glare=glare, exposure=expo)
                rows.append(row)
                # Regression subset: 1280x720 only, no borderline, a few per base.
                if a.subset and w == 1280 and "b" not in (blur, glare) and kind in (
                        "sharp", "gauss", "motion0", "motion90", "motion45", "motion135",
                        "glare", "lamp_edge", "dim") and level in (0, 2.5, 10.0, 0.02, 0.03, 0.45):
                    os.makedirs(a.subset, exist_ok=True)
                    cv2.imwrite(os.path.join(a.subset, fn), img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 80])
                    sub_rows.append(row)
        print(name, len(rows), flush=True)
    for path, rs in [(os.path.join(a.out, "labels.csv"), rows)] + (
            [(os.path.join(a.subset, "labels.csv"), sub_rows)] if a.subset else []):
        with open(path, "w", newline="") as f:
            wr = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            wr.writeheader()
            wr.writerows(rs)


if __name__ == "__main__":
    main()
