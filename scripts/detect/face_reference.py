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

Then the same for the model planned for a 192x320 input (the detector's
landscape input): the file's input declared 1x192x320x3, its all-zero
channel-padding constants resized to match, its output Reshapes with the
anchor count inferred (-1) -- what the engine's `Model::load_with_input`
does -- run on the three inputs at 192x320 (the pattern by the same formula,
the faces picture in the top-left corner), written to
`tests/data/detect/blazeface_reference_192x320.bin` (840 logits, then
840 x 4 box values, per input).

  python3 -m venv /tmp/venv && /tmp/venv/bin/pip install onnxruntime onnx numpy pillow
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


def inputs(h=S, w=S):
    yield np.zeros((h, w, 3), np.float32)
    y, x, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing="ij")
    yield to_input((7 * x + 13 * y + 29 * c) % 256)
    png = DATA / "two_faces_256.png"
    if not png.exists():
        img = Image.open(DATA / "two_faces.jpg").convert("RGB")
        img.resize((256, 144), Image.BILINEAR).save(png, optimize=True)
    px = np.asarray(Image.open(png).convert("RGB"))
    face = np.zeros((h, w, 3), np.float32)
    face[: px.shape[0], : px.shape[1]] = to_input(px)
    yield face


def resized_model(h, w):
    import onnx
    from onnx import numpy_helper

    m = onnx.load(str(MODEL))
    g = m.graph
    dims = g.input[0].type.tensor_type.shape.dim
    dims[1].dim_value, dims[2].dim_value = h, w
    for init in g.initializer:
        a = numpy_helper.to_array(init)
        if a.dtype == np.float32 and a.ndim == 4 and not a.any() and init.name.endswith("_pad"):
            f = S // a.shape[2]
            init.CopyFrom(numpy_helper.from_array(np.zeros((1, a.shape[1], h // f, w // f), np.float32), init.name))
        elif a.dtype == np.int64 and a.ndim == 1 and a.size == 3 and a[0] == 1 and a[1] in (384, 512):
            init.CopyFrom(numpy_helper.from_array(np.array([1, -1, a[2]], np.int64), init.name))
    for o in g.output:
        o.type.tensor_type.shape.dim[1].dim_param = "anchors"
    del g.value_info[:]
    return m.SerializeToString()


def reference(model, h, w, target):
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    out = []
    for x in inputs(h, w):
        s16, s8, b16, b8 = session.run(None, {name: x[None]})
        out.append(np.concatenate([s16.ravel(), s8.ravel()]))
        out.append(np.concatenate([b16[0, :, :4], b8[0, :, :4]]).ravel())
        print(f"max score logit {out[-2].max():.3f}")
    data = np.concatenate(out).astype("<f4")
    (DATA / target).write_bytes(data.tobytes())
    print(f"{target}: {data.size} values")


def main():
    reference(str(MODEL), S, S, "blazeface_reference.bin")
    reference(resized_model(192, 320), 192, 320, "blazeface_reference_192x320.bin")


if __name__ == "__main__":
    main()
