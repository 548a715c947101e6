#!/usr/bin/env python3
"""Reference outputs of the face model, for the engine's exactness test.

Runs the shipped BlazeFace ONNX with onnxruntime on three fixed inputs and
writes, for each, the 896 score logits (16x16 grid with 2 anchors, then 8x8
with 6) followed by the first four box values of each anchor (x, y, w, h),
little-endian f32, to `tests/data/detect/blazeface_reference.bin`. The inputs:

1. blank: all zero (mid grey);
2. pattern: ((7x + 13y + 29c) mod 256) / 127.5 - 1, NHWC;
3. faces: `tests/data/detect/two_faces_256.png` (made here from
   `two_faces.jpg`, 256x144, lossless so both sides read the same bytes)
   in the top rows, zero below, values px / 127.5 - 1.

  python3 -m venv /tmp/venv && /tmp/venv/bin/pip install onnxruntime numpy pillow
  /tmp/venv/bin/python scripts/detect/face_reference.py
"""
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "assets/models/face_detection_back_256x256_barracuda.onnx"
DATA = ROOT / "tests/data/detect"
S = 256


def to_input(px):
    return px.astype(np.float32) / np.float32(127.5) - np.float32(1.0)


def inputs():
    yield np.zeros((S, S, 3), np.float32)
    y, x, c = np.meshgrid(np.arange(S), np.arange(S), np.arange(3), indexing="ij")
    yield to_input((7 * x + 13 * y + 29 * c) % 256)
    png = DATA / "two_faces_256.png"
    if not png.exists():
        img = Image.open(DATA / "two_faces.jpg").convert("RGB")
        img.resize((256, 144), Image.BILINEAR).save(png, optimize=True)
    px = np.asarray(Image.open(png).convert("RGB"))
    face = np.zeros((S, S, 3), np.float32)
    face[: px.shape[0], : px.shape[1]] = to_input(px)
    yield face


def main():
    session = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    out = []
    for x in inputs():
        s16, s8, b16, b8 = session.run(None, {name: x[None]})
        out.append(np.concatenate([s16.ravel(), s8.ravel()]))
        out.append(np.concatenate([b16[0, :, :4], b8[0, :, :4]]).ravel())
        print(f"max score logit {out[-2].max():.3f}")
    data = np.concatenate(out).astype("<f4")
    (DATA / "blazeface_reference.bin").write_bytes(data.tobytes())
    print(f"{data.size} values")


if __name__ == "__main__":
    main()
