#!/usr/bin/env python3
"""Build the labelled evaluation set for the document and face detectors.

Everything comes from photos shipped in packages (nothing is downloaded at
run time):
  backgrounds  scikit-image data: coffee, brick, grass, chelsea (tune);
               gravel, rocket, hubble_deep_field, coins (test)
  faces        scikit-image astronaut; the six demo photos of the npm package
               @vladmandic/face-api (MIT), boxes in faces.json
               tune: sample1-3; test: astronaut, sample4-6
Documents are drawn flat (ID-1 card 85.60 x 53.98 mm or passport data page
125 x 88 mm: tinted guilloche, portrait from the split's face photos, text
lines, rounded corners r = 3.18 mm) and warped onto a background with a known
homography: corners are known by construction. Poses: rotation up to +-35
degrees, perspective tilt, fill 0.10-0.75; half get shadow, glare, or a light
card on a light desk; all get sensor noise and JPEG.
Negatives (no identity document): the bare background, an A4 sheet of text,
a book (cover + page block), a phone, a parcel (three faces of a box).
Faces: head-and-shoulders cut-outs (feathered ellipse) of the split's photos
pasted on a background, 0, 1 or 2 per frame, face height 8-50 % of the frame;
plus the group photos themselves at 1280 px. Boxes are the source boxes
moved with the cut-out.

Usage: build_eval_set.py OUT_DIR --faces-from FACE_API_DEMO_DIR
Writes OUT_DIR/{tune,test}/*.jpg and OUT_DIR/labels.json.
"""
import argparse
import json
import math
import os

import cv2
import numpy as np
import skimage.data as skd

W, H = 1280, 720
BG = {"tune": ["coffee", "brick", "grass", "chelsea"], "test": ["gravel", "rocket", "hubble_deep_field", "coins"]}
FACES = {"tune": ["sample1", "sample2", "sample3"], "test": ["astronaut", "sample4", "sample5", "sample6"]}
HERE = os.path.dirname(os.path.abspath(__file__))


def bgr(img):
    if img.ndim == 2:
        img = np.stack([img] * 3, -1)
    return cv2.cvtColor(img[..., :3], cv2.COLOR_RGB2BGR)


def background(rng, name):
    img = bgr(getattr(skd, name)())
    h, w = img.shape[:2]
    # A random crop of 16:9, scaled to the frame; sometimes mirrored.
    cw = int(w * rng.uniform(0.6, 1.0))
    ch = min(h, int(cw * 9 / 16))
    cw = int(ch * 16 / 9)
    x, y = rng.integers(0, w - cw + 1), rng.integers(0, h - ch + 1)
    out = cv2.resize(img[y:y + ch, x:x + cw], (W, H), interpolation=cv2.INTER_CUBIC)
    if rng.random() < 0.5:
        out = out[:, ::-1].copy()
    return out


def load_faces(demo_dir):
    boxes = json.load(open(os.path.join(HERE, "faces.json")))
    photos = {"astronaut": bgr(skd.astronaut())}
    for i in range(1, 7):
        photos[f"sample{i}"] = cv2.imread(os.path.join(demo_dir, f"sample{i}.jpg"))
    return photos, {k: v for k, v in boxes.items() if not k.startswith("_")}


def rounded_mask(w, h, r):
    m = np.zeros((h, w), np.uint8)
    cv2.rectangle(m, (r, 0), (w - r - 1, h - 1), 255, -1)
    cv2.rectangle(m, (0, r), (w - 1, h - r - 1), 255, -1)
    for cx, cy in [(r, r), (w - r - 1, r), (r, h - r - 1), (w - r - 1, h - r - 1)]:
        cv2.circle(m, (cx, cy), r, 255, -1, cv2.LINE_AA)
    return m


def text_lines(img, rng, x0, y0, x1, y1, colour, size):
    y = y0
    while y < y1:
        words = "".join(rng.choice(list("ABCDEFGHIJKLMNOPRSTUVZ0123456789 <"), int(rng.integers(6, 22))))
        cv2.putText(img, words, (x0, int(y)), cv2.FONT_HERSHEY_SIMPLEX, size, colour, 1 if size < 0.8 else 2, cv2.LINE_AA)
        y += 34 * size + rng.uniform(4, 14)


def draw_document(rng, face, passport, light):
    mm = 7.0  # px per mm when drawn flat
    wmm, hmm = (125.0, 88.0) if passport else (85.6, 53.98)
    w, h = int(wmm * mm), int(hmm * mm)
    if light:
        base = np.array([rng.uniform(225, 250)] * 3) + rng.uniform(-6, 6, 3)
    else:
        base = rng.uniform(120, 235, 3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    f1, f2 = rng.uniform(0.02, 0.06, 2)
    pattern = np.sin(xx * f1 + np.sin(yy * f2) * 3) * 0.5 + 0.5
    card = np.clip(base[None, None] * (0.92 + 0.08 * pattern[..., None]), 0, 255).astype(np.uint8)
    # Portrait on the left, text on the right, MRZ lines for passports.
    ph = int(h * (0.55 if passport else 0.62))
    pw = int(ph * 0.78)
    px, py = int(w * 0.05), int(h * 0.2)
    card[py:py + ph, px:px + pw] = cv2.resize(face, (pw, ph), interpolation=cv2.INTER_AREA)
    ink = tuple(int(v) for v in rng.uniform(10, 80, 3))
    text_lines(card, rng, px + pw + 20, py + 20, w - 20, py + ph, ink, 0.7 if passport else 0.6)
    cv2.putText(card, "PASSPORT" if passport else "IDENTITY CARD", (px, int(h * 0.13)), cv2.FONT_HERSHEY_SIMPLEX, 1.0, ink, 2, cv2.LINE_AA)
    if passport:
        text_lines(card, rng, 20, int(h * 0.84), w - 20, h - 10, (20, 20, 20), 0.9)
    r = int(3.18 * mm)
    return card, rounded_mask(w, h, r), (w, h)


def portrait_from(rng, photos, boxes, names):
    name = names[rng.integers(len(names))]
    x, y, w, h = boxes[name][rng.integers(len(boxes[name]))]
    img = photos[name]
    x0, y0 = max(0, x - w // 4), max(0, y - h // 4)
    return img[y0:y + h + h // 3, x0:x + w + w // 4]


def pose(rng, size, fill, inside=True):
    w, h = size
    scale = math.sqrt(fill * W * H / (w * h))
    ang = math.radians(rng.uniform(-35, 35))
    if rng.random() < 0.15:
        ang += math.pi / 2
    pts = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]]) * scale
    pts += rng.uniform(-0.07, 0.07, (4, 2)) * np.array([w, h]) * scale  # tilt
    c, s = math.cos(ang), math.sin(ang)
    pts = pts @ np.array([[c, s], [-s, c]])
    lo, hi = pts.min(0), pts.max(0)
    if inside:
        m = 0.02 * W
        if (hi - lo)[0] > W - 2 * m or (hi - lo)[1] > H - 2 * m:
            return None
        cx = rng.uniform(m - lo[0], W - m - hi[0])
        cy = rng.uniform(m - lo[1], H - m - hi[1])
    else:
        # Cut: the centre near an edge, part of the document out of view.
        cx = rng.choice([rng.uniform(-0.05, 0.1) * W, rng.uniform(0.9, 1.05) * W])
        cy = rng.uniform(0.3, 0.7) * H
    return pts + np.array([cx, cy])


def paste(frame, img, mask, size, corners, shadow=0.0):
    w, h = size
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    M = cv2.getPerspectiveTransform(src, np.float32(corners))
    warped = cv2.warpPerspective(img, M, (W, H), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpPerspective(mask, M, (W, H), flags=cv2.INTER_LINEAR).astype(np.float32)[..., None] / 255
    if shadow > 0:
        # A soft drop shadow under the object.
        sh = cv2.GaussianBlur(alpha, (0, 0), 8)[..., None]
        sh = np.roll(sh, (6, 6), (0, 1))
        frame[:] = (frame * (1 - shadow * sh)).astype(np.uint8)
    frame[:] = (frame * (1 - alpha) + warped * alpha).astype(np.uint8)


def lighting(rng, frame, glare):
    f = frame.astype(np.float32)
    if rng.random() < 0.4:
        # A shadow across part of the scene.
        a = rng.uniform(0, math.pi)
        yy, xx = np.mgrid[0:H, 0:W]
        d = (xx - W / 2) * math.cos(a) + (yy - H / 2) * math.sin(a)
        f *= (1 - 0.35 * (1 / (1 + np.exp(-d / 40))))[..., None]
    if glare is not None:
        gx, gy = glare
        yy, xx = np.mgrid[0:H, 0:W]
        blob = np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * rng.uniform(25, 60) ** 2))
        f = f + 255 * 1.3 * blob[..., None]
    f *= rng.uniform(0.8, 1.15)
    f += rng.normal(0, 3, f.shape)
    return np.clip(f, 0, 255).astype(np.uint8)


def negative(rng, frame, what):
    if what == "desk":
        return
    if what == "a4":
        w, h = 595, 842
        sheet = np.full((h, w, 3), rng.uniform(228, 250), np.uint8)
        text_lines(sheet, rng, 50, 80, w - 50, h - 80, (30, 30, 30), 0.5)
        img, mask, size = sheet, np.full((h, w), 255, np.uint8), (w, h)
        fill = rng.uniform(0.15, 0.6)
    elif what == "book":
        w = 400
        h = int(w * rng.uniform(1.3, 1.6))
        cover = np.zeros((h, w, 3), np.uint8)
        cover[:] = rng.uniform(30, 220, 3)
        cv2.putText(cover, "A NOVEL", (40, h // 3), cv2.FONT_HERSHEY_DUPLEX, 1.6, tuple(int(v) for v in rng.uniform(0, 255, 3)), 3)
        # The page block shows along two edges (the book has a thickness).
        t = 14
        book = np.full((h + t, w + t, 3), 235, np.uint8)
        book[:h, :w] = cover
        for k in range(0, t, 3):
            book[h + k, :] = 200
            book[:, w + k] = 200
        img, mask, size = book, np.full((h + t, w + t), 255, np.uint8), (w + t, h + t)
        fill = rng.uniform(0.15, 0.5)
    elif what == "phone":
        w, h = 300, 620
        phone = np.full((h, w, 3), 15, np.uint8)
        screen = phone[30:h - 30, 15:w - 15]
        screen[:] = rng.uniform(0, 255, 3) if rng.random() < 0.5 else 5
        img, mask, size = phone, rounded_mask(w, h, 40), (w, h)
        fill = rng.uniform(0.08, 0.3)
    else:  # parcel: three faces of a box
        s = rng.uniform(160, 260)
        brown = np.array([60, 110, 160]) * rng.uniform(0.8, 1.2)
        cx, cy = rng.uniform(0.35, 0.65) * W, rng.uniform(0.4, 0.6) * H
        top = np.array([[0, -0.5], [1, -0.8], [0.2, -1.2], [-0.8, -0.9]]) * s + [cx, cy]
        front = np.array([[-0.8, -0.9], [0, -0.5], [0, 0.8], [-0.8, 0.4]]) * s + [cx, cy]
        side = np.array([[0, -0.5], [1, -0.8], [1, 0.5], [0, 0.8]]) * s + [cx, cy]
        for poly, shade in [(top, 1.15), (front, 0.85), (side, 0.7)]:
            cv2.fillPoly(frame, [np.int32(poly)], tuple(float(v) for v in np.clip(brown * shade, 0, 255)), cv2.LINE_AA)
        cv2.line(frame, tuple(np.int32((top[0] + top[3]) / 2)), tuple(np.int32((top[1] + top[2]) / 2)), (170, 190, 200), 12)
        return
    corners = None
    while corners is None:
        corners = pose(rng, size, fill)
        fill *= 0.9
    paste(frame, img, mask, size, corners, shadow=0.5)


def face_frame(rng, frame, photos, boxes, names, count):
    truth = []
    for _ in range(count):
        name = names[rng.integers(len(names))]
        x, y, w, h = boxes[name][rng.integers(len(boxes[name]))]
        img = photos[name]
        # Head and shoulders around the face.
        x0, y0 = int(max(0, x - 0.45 * w)), int(max(0, y - 0.45 * h))
        x1, y1 = int(min(img.shape[1], x + 1.45 * w)), int(min(img.shape[0], y + 1.8 * h))
        cut = img[y0:y1, x0:x1]
        target_h = rng.uniform(0.18, 0.5) if count == 1 or not truth else rng.uniform(0.08, 0.3)
        s = target_h * H / h
        cw, ch = int(cut.shape[1] * s), int(cut.shape[0] * s)
        if cw >= W or ch >= H:
            s *= 0.6
            cw, ch = int(cut.shape[1] * s), int(cut.shape[0] * s)
        cut = cv2.resize(cut, (cw, ch), interpolation=cv2.INTER_AREA)
        fx, fy, fw, fh = (x - x0) * s, (y - y0) * s, w * s, h * s
        for _ in range(50):
            ox, oy = rng.uniform(0, W - cw), rng.uniform(0, H - ch)
            b = [ox + fx, oy + fy, fw, fh]
            if all(iou(b, t) == 0 and abs(b[0] - t[0]) > (b[2] + t[2]) * 0.8 for t in truth):
                break
        else:
            continue
        mask = np.zeros((ch, cw), np.float32)
        cv2.ellipse(mask, (int(fx + fw / 2), int(fy + fh * 0.7)), (int(fw * 0.85), int(fh * 1.1)), 0, 0, 360, 1.0, -1)
        cv2.rectangle(mask, (int(fx - fw * 0.35), int(fy + fh * 0.9)), (int(fx + fw * 1.35), ch), 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), max(2, fw * 0.05))[..., None]
        ox, oy = int(ox), int(oy)
        roi = frame[oy:oy + ch, ox:ox + cw]
        roi[:] = (roi * (1 - mask) + cut * mask).astype(np.uint8)
        truth.append([ox + fx, oy + fy, fw, fh])
    return truth


def iou(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    i = max(0, x1 - x0) * max(0, y1 - y0)
    return i / (a[2] * a[3] + b[2] * b[3] - i)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--faces-from", required=True)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    photos, boxes = load_faces(args.faces_from)
    labels = []
    counts = {"tune": (120, 100, 100), "test": (200, 150, 200)}
    for split in ("tune", "test"):
        os.makedirs(os.path.join(args.out, split), exist_ok=True)
        n_doc, n_neg, n_face = counts[split]
        bgs, faces = BG[split], FACES[split]

        def save(kind, i, frame, **label):
            name = f"{split}/{kind}_{i:03d}.jpg"
            cv2.imwrite(os.path.join(args.out, name), frame, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(80, 95))])
            labels.append({"file": name, "split": split, "set": kind, **label})

        for i in range(n_doc):
            frame = background(rng, bgs[i % len(bgs)])
            passport = rng.random() < 0.35
            light = rng.random() < 0.25
            if light:
                frame = np.clip(frame.astype(np.float32) * 0.4 + 150, 0, 255).astype(np.uint8)
            card, mask, size = draw_document(rng, portrait_from(rng, photos, boxes, faces), passport, light)
            cut = i % 10 == 9
            corners = None
            while corners is None:
                corners = pose(rng, size, rng.uniform(0.1, 0.75), inside=not cut)
            paste(frame, card, mask, size, corners, shadow=rng.uniform(0, 0.5))
            glare = tuple(corners[rng.integers(4)] * 0.7 + corners.mean(0) * 0.3) if rng.random() < 0.3 else None
            frame = lighting(rng, frame, glare)
            save("doc", i, frame, corners=corners.tolist(), fill=float(cv2.contourArea(np.float32(corners)) / (W * H)),
                 cut=bool(cut), passport=bool(passport), light=bool(light), glare=glare is not None)
        for i in range(n_neg):
            what = ["desk", "a4", "book", "phone", "parcel"][i % 5]
            frame = background(rng, bgs[i % len(bgs)])
            negative(rng, frame, what)
            save("neg", i, lighting(rng, frame, None), what=what)
        for i in range(n_face):
            frame = background(rng, bgs[i % len(bgs)])
            count = [1, 1, 1, 2, 2, 0][i % 6]
            truth = face_frame(rng, frame, photos, boxes, faces, count)
            save("face", i, lighting(rng, frame, None), boxes=truth)
        for name in faces:
            img = photos[name]
            s = W / img.shape[1]
            frame = cv2.resize(img, (W, int(img.shape[0] * s)), interpolation=cv2.INTER_AREA)
            save("group", len(labels), frame, boxes=[[v * s for v in b] for b in boxes[name]])
    with open(os.path.join(args.out, "labels.json"), "w") as f:
        json.dump(labels, f, indent=0)
    print(f"{len(labels)} frames in {args.out}")


if __name__ == "__main__":
    main()
