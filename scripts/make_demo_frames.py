#!/usr/bin/env python3
"""Generate the demo camera frames in assets/demo/.

The demo camera (src/camera/demo.rs) plays these files so the kiosk can be
exercised without hardware. They show an obvious SPECIMEN identity card (FRONT
and BACK) lying on a desk, and a selfie (FACE), each as a camera would see it,
plus a SPECIMEN utility bill (an A4 page) for the proof-of-address step.

The identity matches the sandbox emulator:
JONAS SPECIMEN, born 1990-04-12, document SPEC0001234, personal number
39004120000, issued 2021-12-31, expires 2031-12-31, nationality LT, sex M.

The face is scikit-image's bundled `astronaut.png` (Eileen Collins, NASA,
public domain); see assets/demo/README.md.

Usage:
    python3 -m pip install -r scripts/requirements-demo.txt
    python3 scripts/make_demo_frames.py [--out assets/demo]

The output is deterministic (fixed random seed).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from skimage import data as skdata

SURNAME = "SPECIMEN"
GIVEN = "JONAS"
BIRTH = (1990, 4, 12)
DOC_NO = "SPEC0001234"
PERSONAL_NO = "39004120000"
ISSUED = (2021, 12, 31)
EXPIRY = (2031, 12, 31)
NATIONALITY = "LTU"
SEX = "M"

SCENE = (1920, 1080)
CARD = (1000, 631)  # ID-1 aspect ratio 85.60 x 53.98 mm
# The card's width on the desk: about 0.6 of the frame's area, inside the
# kiosk's framing rules (a document fills 0.45 to 0.9 of the frame).
CARD_ON_DESK = 1400
# Too far away: about a quarter of the frame ("move the document closer").
CARD_FAR = 880
# Moved right until the frame edge cuts a quarter of it off.
CARD_CUT_SHIFT = (560, 0)
# The selfie: the face box (as the face detector draws it) about 35 % of the
# frame's height, centred a little above the middle.
FACE_HEIGHT = 0.35
# The utility bill: an A4 page (210 x 297 mm), upright on the desk, its
# height most of the frame's (fill about 0.34: a portrait page in a 16:9
# frame fills at most 0.40, and the kiosk's rule for pages starts at 0.25).
A4 = (1050, 1485)
BILL_HEIGHT_ON_DESK = 1000
ADDRESS = ("Gedimino pr. 1-23", "LT-01103 Vilnius", "Lithuania")
RNG = np.random.default_rng(20260412)


def font(size: int, bold: bool = False) -> ImageFont.ImageFont:
    names = (
        ["DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"]
        if bold
        else ["DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"]
    )
    for n in names:
        try:
            return ImageFont.truetype(n, size)
        except OSError:
            pass
    return ImageFont.load_default(size)


def mono(size: int) -> ImageFont.ImageFont:
    for n in ["DejaVuSansMono.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"]:
        try:
            return ImageFont.truetype(n, size)
        except OSError:
            pass
    return ImageFont.load_default(size)


def mrz_check(s: str) -> str:
    """ICAO 9303 check digit."""
    weights = (7, 3, 1)
    total = 0
    for i, c in enumerate(s):
        if c.isdigit():
            v = int(c)
        elif c.isalpha():
            v = ord(c) - ord("A") + 10
        else:
            v = 0
        total += v * weights[i % 3]
    return str(total % 10)


def mrz_td1() -> list[str]:
    """The three 30-character lines of a TD1 (ID card) machine readable zone."""
    yymmdd = lambda d: f"{d[0] % 100:02}{d[1]:02}{d[2]:02}"  # noqa: E731
    # Document numbers longer than 9 characters: the first 9, a filler in the
    # check digit position, then the rest and the check digit in optional data.
    l1 = "I<" + NATIONALITY + DOC_NO[:9] + "<" + (DOC_NO[9:] + mrz_check(DOC_NO))
    l1 = l1.ljust(30, "<")
    birth = yymmdd(BIRTH)
    exp = yymmdd(EXPIRY)
    l2 = birth + mrz_check(birth) + SEX + exp + mrz_check(exp) + NATIONALITY + PERSONAL_NO
    composite = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
    l2 = l2 + mrz_check(composite)
    l3 = (SURNAME + "<<" + GIVEN).ljust(30, "<")
    assert len(l1) == len(l2) == len(l3) == 30, (l1, l2, l3)
    return [l1, l2, l3]


def guilloche(w: int, h: int, tint: tuple[int, int, int]) -> Image.Image:
    """A light security-print background: soft gradient and fine wavy lines."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        base[..., c] = tint[c] + 12 * np.sin(x / 97.0 + c) * np.cos(y / 71.0)
    waves = np.zeros((h, w), np.float32)
    for k in range(9):
        phase = k * 0.7
        curve = h * (k + 0.5) / 9 + 14 * np.sin(x / 43.0 + phase)
        waves += np.exp(-((y - curve) ** 2) / 2.0)
    base -= waves[..., None] * np.array([40, 25, 10], np.float32)
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))


def specimen_mark(card: Image.Image, label_top: bool = False) -> Image.Image:
    """Large diagonal SPECIMEN marks across the card."""
    w, h = card.size
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    f = font(140, bold=True)
    d.text((w / 2, h / 2), "SPECIMEN", font=f, fill=(210, 20, 30, 105), anchor="mm")
    layer = layer.rotate(24, resample=Image.BICUBIC)
    out = card.convert("RGBA")
    out.alpha_composite(layer)
    d = ImageDraw.Draw(out)
    at, anchor = ((w - 24, 18), "ra") if label_top else ((w - 24, h - 18), "rd")
    d.text(at, "SPECIMEN", font=font(34, bold=True), fill=(200, 20, 30, 255), anchor=anchor)
    return out.convert("RGB")


def portrait(size: tuple[int, int]) -> Image.Image:
    face = Image.fromarray(skdata.astronaut())
    # Head and shoulders of the astronaut, as on an ID photo.
    face = face.crop((120, 0, 392, 340)).resize(size, Image.LANCZOS)
    gray = face.convert("L").convert("RGB")
    return Image.blend(face, gray, 0.35)


def dmy(d: tuple[int, int, int]) -> str:
    return f"{d[2]:02}.{d[1]:02}.{d[0]}"


def card_front() -> Image.Image:
    w, h = CARD
    card = guilloche(w, h, (214, 230, 226))
    d = ImageDraw.Draw(card)
    d.rectangle((0, 0, w, 70), fill=(30, 90, 110))
    d.text((24, 16), "SPECIMEN IDENTITY CARD", font=font(34, bold=True), fill=(255, 255, 255))
    d.text((640, 24), "LIETUVA / LTU", font=font(22, bold=True), fill=(230, 240, 240))
    card.paste(portrait((270, 338)), (30, 110))
    d.rectangle((30, 110, 300, 448), outline=(40, 60, 60), width=2)
    fields = [
        ("SURNAME", SURNAME),
        ("GIVEN NAMES", GIVEN),
        ("NATIONALITY", NATIONALITY),
        ("SEX", SEX),
        ("DATE OF BIRTH", dmy(BIRTH)),
        ("PERSONAL NO.", PERSONAL_NO),
        ("DOCUMENT NO.", DOC_NO),
        ("DATE OF EXPIRY", dmy(EXPIRY)),
    ]
    lab, val = font(17), font(30, bold=True)
    x0, y = 330, 96
    for k, v in fields:
        if k == "SEX":
            # Beside NATIONALITY, on the same row.
            x, y = x0 + 220, y - 62
        else:
            x = x0
        d.text((x, y), k, font=lab, fill=(60, 80, 80))
        d.text((x, y + 20), v, font=val, fill=(15, 20, 25))
        y += 62
    d.text((30, 470), "Signature", font=lab, fill=(60, 80, 80))
    d.line([(40 + i * 6, 530 + 14 * math.sin(i / 3.0)) for i in range(40)], fill=(20, 30, 90), width=3)
    return specimen_mark(card)


def card_back() -> Image.Image:
    """The back: a header, the ghost portrait (grey, as laser-engraved on
    many cards), issue data and the TD1 machine-readable zone. The layout is
    a real card back's, which is also what lets the kiosk's document detector
    tell it from a sheet of paper (a plain back with a white MRZ band is not
    found)."""
    w, h = CARD
    card = guilloche(w, h, (222, 228, 214))
    d = ImageDraw.Draw(card)
    d.rectangle((0, 0, w, 70), fill=(30, 90, 110))
    d.text((24, 16), "SPECIMEN IDENTITY CARD", font=font(34, bold=True), fill=(255, 255, 255))
    card.paste(portrait((270, 338)).convert("L").convert("RGB"), (30, 110))
    d.rectangle((30, 110, 300, 448), outline=(40, 60, 60), width=2)
    rows = [
        ("DATE OF ISSUE", dmy(ISSUED)),
        ("ISSUING AUTHORITY", "SPECIMEN AUTHORITY"),
        ("PLACE OF BIRTH", "VILNIUS"),
        ("HEIGHT", "182 cm"),
    ]
    lab, val = font(17), font(30, bold=True)
    y = 96
    for k, v in rows:
        d.text((330, y), k, font=lab, fill=(60, 80, 60))
        d.text((330, y + 20), v, font=val, fill=(15, 20, 25))
        y += 62
    # Machine readable zone.
    mf = mono(40)
    for i, line in enumerate(mrz_td1()):
        d.text((40, h - 196 + i * 52), line, font=mf, fill=(10, 10, 10))
    return specimen_mark(card, label_top=True)


def desk(size: tuple[int, int]) -> Image.Image:
    """A wooden desk seen from above, with uneven light. The grain is faint:
    strong straight grain lines near the card compete with its edges."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    grain = np.sin(y / 9.0 + 3 * np.sin(x / 230.0) + 0.8 * np.sin(x / 37.0)) * 4
    grain += RNG.normal(0, 4, (h, w))
    light = 1.0 - 0.35 * (((x - w * 0.45) / w) ** 2 + ((y - h * 0.4) / h) ** 2)
    rgb = np.stack([150 + grain, 105 + grain * 0.8, 70 + grain * 0.6], -1) * light[..., None]
    img = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    return img.filter(ImageFilter.GaussianBlur(1.2))


def utility_bill() -> Image.Image:
    """An A4 electricity bill addressed to the specimen, marked SPECIMEN."""
    w, h = A4
    # Paper as the camera sees it under the kiosk light: off-white, so the
    # glare check (saturated highlights) does not take it for a reflection.
    page = Image.new("RGB", (w, h), (232, 231, 224))
    d = ImageDraw.Draw(page)
    d.rectangle((0, 0, w, 150), fill=(24, 84, 140))
    d.text((60, 40), "SPECIMEN ENERGY", font=font(58, bold=True), fill=(255, 255, 255))
    d.text((60, 108), "Electricity bill", font=font(28), fill=(255, 255, 255))
    y = 230
    for line in (f"{GIVEN} {SURNAME}", *ADDRESS):
        d.text((80, y), line, font=font(40, bold=line.startswith(GIVEN)), fill=(20, 20, 20))
        y += 56
    for i, line in enumerate(("Invoice SPEC-2026-0412", "Issued 2026-11-30", "Period November 2026")):
        d.text((600, 236 + 46 * i), line, font=font(28), fill=(40, 40, 40))
    y = 560
    d.line((80, y, w - 80, y), fill=(24, 84, 140), width=4)
    rows = [
        ("Electricity, 212 kWh", "42.40 EUR"),
        ("Network fee", "11.86 EUR"),
        ("Meter rent", "1.20 EUR"),
        ("VAT 21 %", "11.66 EUR"),
    ]
    y += 40
    for what, amount in rows:
        d.text((100, y), what, font=font(34), fill=(30, 30, 30))
        d.text((w - 320, y), amount, font=font(34), fill=(30, 30, 30))
        y += 64
    d.line((80, y + 10, w - 80, y + 10), fill=(24, 84, 140), width=4)
    d.text((100, y + 40), "To pay", font=font(40, bold=True), fill=(20, 20, 20))
    d.text((w - 320, y + 40), "67.12 EUR", font=font(40, bold=True), fill=(20, 20, 20))
    d.text((80, h - 160), "Pay by 2026-12-20 to LT00 0000 0000 0000 0000", font=font(28), fill=(60, 60, 60))
    d.text((80, h - 110), "This is a specimen. It is not a real bill.", font=font(28), fill=(60, 60, 60))
    return specimen_mark(page).convert("RGB")


def on_desk(
    card: Image.Image,
    angle: float,
    width: int = CARD_ON_DESK,
    shift: tuple[int, int] = (0, 0),
    radius: int = 42,
) -> Image.Image:
    """The card on the desk, `width` pixels wide, centred then moved by `shift`."""
    scene = desk(SCENE)
    scale = width / card.size[0]
    card = card.resize((round(card.size[0] * scale), round(card.size[1] * scale)), Image.LANCZOS)
    # Rounded corners (a paper page: hardly any).
    mask = Image.new("L", card.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, *card.size), radius=radius, fill=255)
    card = card.convert("RGBA")
    card.putalpha(mask)
    card = card.rotate(angle, resample=Image.BICUBIC, expand=True)
    cx = (SCENE[0] - card.size[0]) // 2 + shift[0]
    cy = (SCENE[1] - card.size[1]) // 2 + shift[1]
    shadow = Image.new("RGBA", card.size, (0, 0, 0, 0))
    shadow.putalpha(card.getchannel("A").point(lambda a: a * 0.45))
    shadow = shadow.filter(ImageFilter.GaussianBlur(14))
    scene = scene.convert("RGBA")
    scene.alpha_composite(shadow, (cx + 14, cy + 18))
    scene.alpha_composite(card, (cx, cy))
    return camera_look(scene.convert("RGB"))


def camera_look(img: Image.Image) -> Image.Image:
    """Sensor noise, a slight vignette and lens softness."""
    a = np.asarray(img).astype(np.float32)
    h, w = a.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((x - w / 2) / (w / 2)) ** 2 + ((y - h / 2) / (h / 2)) ** 2
    a *= (1.0 - 0.12 * r2)[..., None]
    a += RNG.normal(0, 2.5, a.shape)
    out = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    return out.filter(ImageFilter.GaussianBlur(0.6))


# Where the face is in scikit-image's astronaut.png (512 x 512): the centre
# and side of the box the kiosk's face detector draws around it.
ASTRONAUT_FACE = (226.0, 126.5, 107.0)


def selfie(second_person: bool = False) -> Image.Image:
    face = Image.fromarray(skdata.astronaut())  # 512 x 512
    h = SCENE[1]
    w = h * 4 // 3
    # Soft background from the photo's own edges.
    bg = face.resize((w, h), Image.BICUBIC).filter(ImageFilter.GaussianBlur(30))
    if second_person:
        # Someone behind the customer, smaller and to the side.
        head = face.crop((150, 30, 310, 230)).resize((288, 360), Image.LANCZOS)
        mask = Image.new("L", head.size, 0)
        ImageDraw.Draw(mask).ellipse((10, 10, head.size[0] - 10, head.size[1] - 10), fill=255)
        mask = mask.filter(ImageFilter.GaussianBlur(12))
        bg.paste(head, (w - head.size[0] - 40, 40), mask)
    fx, fy, fs = ASTRONAUT_FACE
    scale = FACE_HEIGHT * h / fs
    side = round(512 * scale)
    big = face.resize((side, side), Image.LANCZOS).filter(
        ImageFilter.UnsharpMask(radius=3, percent=90, threshold=2)
    )
    # The face centred horizontally, its centre at 46 % of the height.
    ox = round(w / 2 - fx * scale)
    oy = round(h * 0.46 - fy * scale)
    # Only the person's part of the picture: an oval around head and
    # shoulders over the blurred background, so a second person stays seen.
    mask = Image.new("L", (side, side), 0)
    cx, cy = fx * scale, fy * scale
    r = fs * scale
    ImageDraw.Draw(mask).ellipse((cx - 1.6 * r, cy - 1.4 * r, cx + 1.6 * r, cy + 3.5 * r), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(25))
    bg.paste(big, (ox, oy), mask)
    return camera_look(bg)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "assets" / "demo")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    shots = {
        "front.jpg": on_desk(card_front(), 2.5),
        "back.jpg": on_desk(card_back(), -1.8),
        "face.jpg": selfie(),
        # Scenes for tests of the framing hints.
        "front_far.jpg": on_desk(card_front(), 2.5, width=CARD_FAR),
        "front_cut.jpg": on_desk(card_front(), 2.5, shift=CARD_CUT_SHIFT),
        "face_two.jpg": selfie(second_person=True),
        # The proof-of-address step (last, so the pictures above keep their noise).
        "bill.jpg": on_desk(
            utility_bill(), 1.5, width=round(BILL_HEIGHT_ON_DESK * A4[0] / A4[1]), radius=2
        ),
    }
    for name, img in shots.items():
        path = args.out / name
        img.save(path, "JPEG", quality=88, optimize=True)
        print(f"{path}: {img.size[0]}x{img.size[1]}, {path.stat().st_size // 1024} KiB")
    print("MRZ:", *mrz_td1(), sep="\n  ")


if __name__ == "__main__":
    main()
