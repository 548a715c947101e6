#!/usr/bin/env python3
"""Build the larger evaluation set, split by source image into TUNE and TEST.

Sources (no download; everything ships inside the Python wheels installed by
requirements.txt, or is drawn here):
  photographs  every photograph bundled in scikit-image's `data` directory
               (astronaut, camera, coffee, chelsea, rocket, coins, gravel,
               brick, grass, moon, hubble_deep_field, retina, ihc,
               motorcycle_left, page, text), scikit-learn's sample images
               (china, flower), matplotlib's sample_data (grace_hopper,
               Minduka_Present_Blue_Pack);
  faces        astronaut and grace_hopper (selfie crops);
  documents    drawn with the DejaVu fonts: printed pages (serif), typewriter
               pages (mono), ID-card-like layouts (portrait from a face of the
               same split), chalk on a board, scene text (a sign on a photo of
               the same split); four of each, each with its own body-text
               x-height (6-28 px at 1080p, scaled with the frame);
  blank        plain white paper (on a desk photo or filling the frame, with
               soft illumination falloff), a white wall: glare hard negatives.

Every whole source goes to TUNE or TEST (about 60/40, drawn once with a fixed
seed, per kind of source), never both: a document's background photo and an
ID card's portrait come from its own split.

Frames: 1280x720, 1920x1080, 3840x2160 (each variant at one of them, in turn).

Blur labelling rule. sigma_eq is the blur's standard deviation in image
pixels: Gaussian sigma; defocus disk radius r -> r/2; motion length L ->
L/sqrt(12) (along the motion). One work px = long side / 640 (the kiosk's
working grid).
  documents (text of body x-height xh, image px):
      blurred (1)  sigma_eq >= 0.12 xh  and  sigma_eq >= 0.45 work px
      sharp   (0)  sigma_eq <= 0.06 xh  or   sigma_eq <= 0.20 work px
      otherwise borderline (b, left out of the score).
    0.12 xh is where small print stops being readable for a reader and
    Tesseract-style OCR (strokes are ~0.25 xh wide; sigma_eq of half a stroke
    merges the counters of e, a, s); 0.06 xh is still clean. Below 0.2 work px
    the blur is under a fifth of a grid cell: the kiosk does not claim to see it.
    The photographed texts use their body x-height measured on the source:
    page 7 px of its 191 rows, text 12 px of its 172 rows, scaled with the
    frame. (Before 2026-12-02 page used 7/576, as if the scan were 576 px
    high: its labels and blur severities were three times too strict.)
  photographs and faces (no text): sharp <= 0.25 work px, blurred >= 0.6
    work px, borderline between.
  blank sources: blur is always b (there is nothing to be sharp).
Glare: a specular highlight (clipped core, Gaussian falloff, round or
elongated) of 0.6 %, 1.5 % or 4 % of the frame on the document / face = 1;
0.1 % = 0; 0.25 % = b. Hard negatives (glare 0): plain white paper, a white
wall, a page lit bright but diffuse (paper at 240-250, no clipped core), a
face under bright light (skin lifted, no clipped core).

Usage: build_split_set.py OUT_DIR [--jobs 2]
Writes OUT_DIR/*.jpg and OUT_DIR/labels.csv
(file,source,kind_of_source,split,size,kind,level,blur,glare).
"""
import argparse
import csv
import math
import os
import sys
from multiprocessing import Pool

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from build_eval_set import add_glare, cover, disk_kernel, motion_kernel, rgb  # noqa: E402

SIZES = [(1280, 720), (1920, 1080), (3840, 2160)]
FONT_DIR = "/usr/share/fonts/truetype/dejavu"
WORDS = ("the of and to in is that for it as was with be by on not he this are or his from at which "
         "but have an they you were her she there been one all we their has would when if so no what "
         "name date birth nationality surname given names expiry document number issue authority "
         "address signature holder valid until republic identity card passport licence permit").split()


def load_photos():
    import matplotlib
    import skimage
    import sklearn
    sk = os.path.join(os.path.dirname(skimage.__file__), "data")
    photos = {}
    for name in ["astronaut.png", "camera.png", "coffee.png", "chelsea.png", "rocket.jpg", "coins.png",
                 "gravel.png", "brick.png", "grass.png", "moon.png", "hubble_deep_field.jpg", "retina.jpg",
                 "ihc.png", "motorcycle_left.png", "page.png", "text.png"]:
        photos[name.split(".")[0]] = os.path.join(sk, name)
    skl = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "images")
    photos["china"] = os.path.join(skl, "china.jpg")
    photos["flower"] = os.path.join(skl, "flower.jpg")
    mpl = os.path.join(matplotlib.get_data_path(), "sample_data")
    photos["grace_hopper"] = os.path.join(mpl, "grace_hopper.jpg")
    photos["blue_pack"] = os.path.join(mpl, "Minduka_Present_Blue_Pack.png")
    return photos


def read(path):
    im = cv2.imread(path, cv2.IMREAD_COLOR)
    return rgb(im[..., ::-1].copy())


FACES = {"astronaut": (0, 380, 60, 400), "grace_hopper": (0, 460, 40, 512)}
DOC_TEXT = {"page", "text"}          # real photographs of text
BACKGROUNDS = ["coffee", "brick", "grass", "gravel", "chelsea", "rocket", "china", "flower",
               "motorcycle_left", "coins", "blue_pack", "camera", "moon", "retina", "ihc",
               "hubble_deep_field"]


def split_sources(seed=20261202):
    """Whole sources to TUNE / TEST, about 60/40 per kind of source."""
    rng = np.random.default_rng(seed)
    photos = load_photos()
    srcs = []
    faces = ["astronaut", "grace_hopper"]
    srcs += [("face", "astronaut", "tune"), ("face", "grace_hopper", "test")]
    text_photos = ["page", "text"]
    srcs += [("textphoto", "page", "tune"), ("textphoto", "text", "test")]
    others = [p for p in photos if p not in faces and p not in text_photos]
    rng.shuffle(others)
    k = round(len(others) * 0.6)
    srcs += [("photo", p, "tune" if i < k else "test") for i, p in enumerate(others)]
    for kind in ["printed", "typewriter", "idcard", "chalk", "scene"]:
        order = rng.permutation(4)
        for i in range(4):
            srcs.append((kind, f"{kind}{i}", "tune" if order[i] < 2 or (order[i] == 2 and kind in ("printed", "idcard", "scene")) else "test"))
    for i, kind in enumerate(["paper_desk", "paper_full", "paper_desk", "paper_full", "wall", "wall"]):
        srcs.append(("blank", f"{kind}{i}", "tune" if i in (0, 1, 4) else "test"))
    return srcs, photos


# ---- drawing ---------------------------------------------------------------

def font(name, px):
    return ImageFont.truetype(os.path.join(FONT_DIR, name), max(4, int(round(px))))


def xh_font(name, xh):
    """A font whose x-height is xh pixels."""
    ratio = {"DejaVuSans.ttf": 0.55, "DejaVuSans-Bold.ttf": 0.55, "DejaVuSerif.ttf": 0.52,
             "DejaVuSansMono.ttf": 0.55, "DejaVuSerif-Bold.ttf": 0.52, "DejaVuSansMono-Bold.ttf": 0.55}[name]
    return font(name, xh / ratio)


def words(rng, n):
    return " ".join(rng.choice(WORDS, n))


def text_block(draw, rng, x0, y0, x1, y1, fnt, fill, line_h):
    y = y0
    while y + line_h <= y1:
        line = ""
        while True:
            cand = (line + " " + rng.choice(WORDS)).strip()
            if draw.textlength(cand, font=fnt) > x1 - x0:
                break
            line = cand
        draw.text((x0, y), line, font=fnt, fill=fill)
        y += line_h


def background(photos, name, w, h):
    return cover(read(photos[name]), w, h)


def paper_light(w, h, rng, peak, low):
    """Smooth illumination: brightest at a random point, falling off."""
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
    y, x = np.ogrid[:h, :w]
    d = np.sqrt(((x - cx) / w) ** 2 + ((y - cy) / h) ** 2)
    return (peak - (peak - low) * np.clip(d / 0.7, 0, 1) ** 1.5).astype(np.float32)


def draw_document(kind, idx, split, photos, split_of, w, h):
    """Return (image, content box, xh in image px, role)."""
    rng = np.random.default_rng(1000 + 17 * idx + 101 * ["printed", "typewriter", "idcard", "chalk", "scene"].index(kind))
    xh1080 = [6, 9, 13, 19, 28][(idx + ["printed", "typewriter", "idcard", "chalk", "scene"].index(kind)) % 5]
    if kind == "chalk":
        xh1080 = max(xh1080, 13)
    s = h / 1080
    xh = xh1080 * s
    same = [b for b in BACKGROUNDS if split_of.get(b) == split]
    bgname = same[int(rng.integers(len(same)))]
    if kind in ("printed", "typewriter"):
        img = background(photos, bgname, w, h).astype(np.float32)
        pw = int(w * rng.uniform(0.62, 0.9))
        ph = min(int(pw * 1.414), int(h * 0.96)) if rng.random() < 0.5 else int(h * 0.92)
        ph = min(ph, h - 4)
        x0, y0 = (w - pw) // 2 + int(rng.uniform(-0.05, 0.05) * w), (h - ph) // 2
        x0 = max(2, min(w - pw - 2, x0))
        paper = 238 if kind == "printed" else 228
        page = Image.new("L", (pw, ph), paper)
        d = ImageDraw.Draw(page)
        fname = "DejaVuSerif.ttf" if kind == "printed" else "DejaVuSansMono.ttf"
        f = xh_font(fname, xh)
        fh = xh_font(fname.replace(".ttf", "-Bold.ttf"), xh * 2)
        m = int(pw * 0.07)
        d.text((m, m), words(rng, 3).title(), font=fh, fill=20)
        ink = 25 if kind == "printed" else 60
        text_block(d, rng, m, m + xh * 5, pw - m, ph - m, f, ink, xh * 3.4)
        p = np.asarray(page, np.float32)
        if kind == "typewriter":
            p = p + rng.normal(0, 6, p.shape).astype(np.float32) * (p < 150)
        tint = np.array([1.0, 0.99, 0.95] if kind == "typewriter" else [1.0, 1.0, 1.0], np.float32)
        img[y0:y0 + ph, x0:x0 + pw] = p[..., None] * tint
        return np.clip(img, 0, 255).astype(np.uint8), (x0, y0, pw, ph), xh, "document"
    if kind == "idcard":
        img = background(photos, bgname, w, h).astype(np.float32)
        cw = int(w * rng.uniform(0.6, 0.8))
        ch = min(int(cw / 1.586), int(h * 0.9))
        x0, y0 = (w - cw) // 2, (h - ch) // 2
        col = tuple(int(v) for v in rng.integers(195, 235, 3))
        card = Image.new("RGB", (cw, ch), col)
        d = ImageDraw.Draw(card)
        face = "astronaut" if split == "tune" else "grace_hopper"
        t, b, l, r = FACES[face]
        pw, ph = int(cw * 0.28), int(ch * 0.62)
        por = cover(read(photos[face])[t:b, l:r], pw, ph)
        card.paste(Image.fromarray(por), (int(cw * 0.05), int(ch * 0.25)))
        fb = xh_font("DejaVuSans-Bold.ttf", xh * 1.8)
        d.rectangle([0, 0, cw, int(ch * 0.16)], fill=tuple(int(v * 0.55) for v in col))
        d.text((int(cw * 0.05), int(ch * 0.03)), "IDENTITY CARD", font=fb, fill=(250, 250, 250))
        f = xh_font("DejaVuSans.ttf", xh)
        fv = xh_font("DejaVuSans-Bold.ttf", xh * 1.2)
        y = ch * 0.25
        while y < ch * 0.9:
            d.text((int(cw * 0.38), y), rng.choice(WORDS).upper(), font=f, fill=(70, 70, 80))
            y += xh * 2.2
            d.text((int(cw * 0.38), y), words(rng, 2).upper(), font=fv, fill=(15, 15, 25))
            y += xh * 3.0
        img[y0:y0 + ch, x0:x0 + cw] = np.asarray(card, np.float32)
        return np.clip(img, 0, 255).astype(np.uint8), (x0, y0, cw, ch), xh, "document"
    if kind == "chalk":
        base = np.array(rng.choice([[38, 62, 48], [45, 48, 52]]), np.float32)
        img = np.ones((h, w, 3), np.float32) * base
        img += cv2.GaussianBlur(rng.normal(0, 12, (h, w)).astype(np.float32), (0, 0), 3 * s + 1)[..., None]
        board = Image.new("L", (w, h), 0)
        d = ImageDraw.Draw(board)
        f = xh_font("DejaVuSans.ttf", xh)
        text_block(d, rng, int(w * 0.06), int(h * 0.08), int(w * 0.94), int(h * 0.92), f, 255, xh * 3.2)
        m = np.asarray(board, np.float32) / 255
        grain = np.clip(rng.normal(0.8, 0.25, (h, w)), 0, 1).astype(np.float32)
        m = m * grain
        img = img * (1 - m[..., None]) + 225 * m[..., None]
        return np.clip(img, 0, 255).astype(np.uint8), (0, 0, w, h), xh, "document"
    if kind == "scene":
        img = background(photos, bgname, w, h).astype(np.float32)
        sw = int(w * rng.uniform(0.45, 0.7))
        sh = int(h * rng.uniform(0.35, 0.6))
        x0, y0 = (w - sw) // 2 + int(rng.uniform(-0.1, 0.1) * w), (h - sh) // 2
        col = tuple(int(v) for v in rng.choice([[20, 90, 40], [20, 50, 130], [230, 230, 225], [200, 40, 30]]))
        light = sum(col) > 500
        sign = Image.new("RGB", (sw, sh), col)
        d = ImageDraw.Draw(sign)
        fg = (20, 20, 20) if light else (245, 245, 240)
        d.rectangle([int(sw * 0.02), int(sh * 0.03), int(sw * 0.98), int(sh * 0.97)], outline=fg,
                    width=max(2, int(xh * 0.3)))
        fb = xh_font("DejaVuSans-Bold.ttf", xh * 2.2)
        d.text((int(sw * 0.07), int(sh * 0.12)), words(rng, 2).upper(), font=fb, fill=fg)
        f = xh_font("DejaVuSans.ttf", xh)
        text_block(d, rng, int(sw * 0.07), int(sh * 0.12 + xh * 5), int(sw * 0.93), int(sh * 0.9), f, fg, xh * 2.6)
        img[y0:y0 + sh, x0:x0 + sw] = np.asarray(sign, np.float32)
        return np.clip(img, 0, 255).astype(np.uint8), (x0, y0, sw, sh), xh, "document"
    raise ValueError(kind)


def draw_blank(name, idx, split, photos, split_of, w, h):
    rng = np.random.default_rng(500 + idx)
    if name.startswith("paper_desk"):
        same = [b for b in BACKGROUNDS if split_of.get(b) == split]
        img = background(photos, same[idx % len(same)], w, h).astype(np.float32)
        pw, ph = int(w * 0.7), int(h * 0.85)
        x0, y0 = (w - pw) // 2, (h - ph) // 2
        img[y0:y0 + ph, x0:x0 + pw] = paper_light(pw, ph, rng, 250, 232)[..., None]
        return np.clip(img, 0, 255).astype(np.uint8), (x0, y0, pw, ph)
    if name.startswith("paper_full"):
        img = paper_light(w, h, rng, 251, 226)[..., None] * np.array([1, 1, 0.985], np.float32)
        return np.clip(img, 0, 255).astype(np.uint8), (0, 0, w, h)
    # A white wall: light falling off from one side, a faint texture.
    y, x = np.mgrid[:h, :w].astype(np.float32)
    img = 249 - 22 * (x / w) ** 1.3 - 6 * (y / h)
    img = img + cv2.GaussianBlur(rng.normal(0, 3, (h, w)).astype(np.float32), (0, 0), 2)
    img = img[..., None] * np.array([1, 0.99, 0.97], np.float32)
    return np.clip(img, 0, 255).astype(np.uint8), (0, 0, w, h)


def noise(img, rng, sigma=2.5):
    return np.clip(img.astype(np.float32) + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


def add_specular(img, cx, cy, area, rng, elong):
    """A specular highlight: clipped core of `area` of the frame, Gaussian
    falloff, round or stretched along a random direction."""
    if elong <= 1.0:
        return add_glare(img, cx, cy, area)
    h, w = img.shape[:2]
    core_r = math.sqrt(area * w * h / math.pi)
    a_, b_ = core_r * math.sqrt(elong), core_r / math.sqrt(elong)
    th = rng.uniform(0, math.pi)
    y, x = np.ogrid[:h, :w]
    u = (x - cx) * math.cos(th) + (y - cy) * math.sin(th)
    v = -(x - cx) * math.sin(th) + (y - cy) * math.cos(th)
    d2 = ((u / a_) ** 2 + (v / b_) ** 2).astype(np.float32) * (1.177 ** 2)
    al = np.clip(2.0 * np.exp(-d2 / 2), 0, 1)[..., None]
    return (img.astype(np.float32) * (1 - al) + 255 * al).astype(np.uint8)


def blur_label(sig_eq, s, xh):
    """The labelling rule of the module docstring."""
    if xh is None:
        if sig_eq <= 0.25 * s:
            return 0
        return 1 if sig_eq >= 0.6 * s else "b"
    if sig_eq >= 0.12 * xh and sig_eq >= 0.45 * s:
        return 1
    if sig_eq <= 0.06 * xh or sig_eq <= 0.2 * s:
        return 0
    return "b"


def jobs_for(srcs):
    return [(i, src) for i, src in enumerate(srcs)]


def render_source(args):
    i, (skind, name, split), out, split_of = args
    photos = load_photos()
    rng = np.random.default_rng(7000 + i)
    rows = []
    cache = {}

    def base(w, h):
        if (w, h) in cache:
            return cache[(w, h)]
        if skind == "blank":
            img, box = draw_blank(name, i, split, photos, split_of, w, h)
            r = (img, box, None, "document")
        elif skind in ("printed", "typewriter", "idcard", "chalk", "scene"):
            r = draw_document(skind, int(name[-1]), split, photos, split_of, w, h)
        elif skind == "face":
            t, b, l, rr = FACES[name]
            img = cover(read(photos[name])[t:b, l:rr], w, h)
            r = (img, (int(w * 0.3), int(h * 0.12), int(w * 0.4), int(h * 0.5)), None, "selfie")
        elif skind == "textphoto":
            img = cover(read(photos[name]), w, h)
            # page: body x-height about 7 px in the 191-px-high scan (measured
            # on scikit-image's page.png, 384x191; an earlier version of this
            # script divided by 576, three times too small); text: the small
            # lettering about 10-12 px in its 172-px-high photo.
            xh = (7 / 191 if name == "page" else 12 / 172) * h
            r = (img, (0, 0, w, h), xh, "document")
        else:
            img = cover(read(photos[name]), w, h)
            r = (img, (int(w * 0.15), int(h * 0.15), int(w * 0.7), int(h * 0.7)), None, "document")
        cache.clear()
        cache[(w, h)] = r
        return r

    variants = []
    for si in range(3):
        variants.append(("sharp", 0.0, si))
    # Blur: severities as multiples of the legibility line (docs) or of a
    # work px (photos); each at one of the sizes in turn.
    ladder = [0.2, 0.4, 0.7, 1.0, 1.5, 2.5]
    k = 0
    for bk in ["gauss", "defocus", "motion"]:
        for lv in ladder:
            variants.append((bk, lv, (k + i) % 3))
            k += 1
    for area in [0.001, 0.0025, 0.006, 0.015, 0.04]:
        variants.append(("glare", area, (k + i) % 3))
        k += 1
    variants.append(("bright", 0.0, (k + i) % 3))
    k += 1
    for kind, lv, si in variants:
        w, h = SIZES[si]
        img, box, xh, role = base(w, h)
        s = max(w, h) / 640.0
        blur, glare, level = 0, 0, lv
        if skind == "blank":
            blur = "b"
        if kind in ("gauss", "defocus", "motion"):
            # The level is sigma_eq in units of the "blurred" line (0.12 xh,
            # at least 0.45 work px) for documents, or of 0.6 work px otherwise.
            line = max(0.12 * xh, 0.45 * s) if xh is not None else 0.6 * s
            sig = lv * line
            if kind == "gauss":
                im = cv2.GaussianBlur(img, (0, 0), sig)
                level = round(sig, 2)
            elif kind == "defocus":
                r = 2 * sig
                im = cv2.filter2D(img, -1, disk_kernel(r))
                level = round(r, 2)
            else:
                ln = max(2.0, sig * math.sqrt(12))
                sig = ln / math.sqrt(12)
                ang = float(rng.choice([0, 90, 45, 135, rng.uniform(0, 180)]))
                im = cv2.filter2D(img, -1, motion_kernel(ln, ang))
                kind = f"motion{int(ang)}"
                level = round(ln, 2)
            if skind != "blank":
                blur = blur_label(sig, s, xh)
        elif kind == "glare":
            bx, by, bw, bh = box
            cx, cy = bx + bw * rng.uniform(0.3, 0.7), by + bh * rng.uniform(0.3, 0.7)
            im = add_specular(img, cx, cy, lv, rng, float(rng.choice([1.0, 1.0, 2.5, 4.0])))
            glare = {0.001: 0, 0.0025: "b"}.get(lv, 1)
        elif kind == "bright":
            # Bright but diffuse light: lift so the brightest content sits at
            # 240-250, never clipped (a page under a strong lamp, light skin
            # under bright light).
            f = img.astype(np.float32)
            hi = np.percentile(f, 99.5)
            target = rng.uniform(240, 250)
            im = np.clip(f * (target / max(hi, 1)), 0, 250).astype(np.uint8)
        else:
            im = img
        im = noise(im, rng)
        q60 = rng.random() < 0.3
        if q60:
            ok, enc = cv2.imencode(".jpg", im[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 60])
            im = cv2.imdecode(enc, cv2.IMREAD_COLOR)[..., ::-1]
        fn = f"{split}_{name}_{w}x{h}_{kind}_{level}{'_q60' if q60 else ''}.jpg"
        cv2.imwrite(os.path.join(out, fn), im[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])
        rows.append(dict(file=fn, source=name, kind_of_source=skind, split=split, size=f"{w}x{h}",
                         kind=kind, level=level, blur=blur, glare=glare,
                         xh=round(xh, 1) if xh is not None else ""))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    srcs, _ = split_sources()
    split_of = {name: split for _, name, split in srcs}
    args = [(i, src, a.out, split_of) for i, src in enumerate(srcs)]
    rows = []
    with Pool(min(a.jobs, 2)) as p:
        for rs in p.imap(render_source, args):
            rows += rs
            print(rs[0]["source"], rs[0]["split"], len(rows), flush=True)
    with open(os.path.join(a.out, "labels.csv"), "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        wr.writeheader()
        wr.writerows(rows)
    with open(os.path.join(a.out, "split.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["kind_of_source", "source", "split"])
        wr.writerows(srcs)


if __name__ == "__main__":
    main()
