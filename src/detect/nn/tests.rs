use super::*;
use crate::detect::BUILTIN_MODEL;

/// The reference inputs of `scripts/detect/face_reference.py`, NHWC, for
/// an `h`×`w` input.
fn reference_inputs_sized(h: usize, w: usize) -> Vec<Vec<f32>> {
    let blank = vec![0f32; h * w * 3];
    let mut pattern = Vec::with_capacity(h * w * 3);
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let v = ((7 * x + 13 * y + 29 * c) % 256) as f32;
                pattern.push(v / 127.5 - 1.0);
            }
        }
    }
    let path = format!(
        "{}/tests/data/detect/two_faces_256.png",
        env!("CARGO_MANIFEST_DIR")
    );
    let img = image::open(path).unwrap().into_rgb8();
    assert_eq!(img.dimensions(), (256, 144));
    let mut faces = vec![0f32; h * w * 3];
    for (x, y, p) in img.enumerate_pixels() {
        for (c, &v) in p.0.iter().enumerate() {
            faces[(y as usize * w + x as usize) * 3 + c] = f32::from(v) / 127.5 - 1.0;
        }
    }
    vec![blank, pattern, faces]
}

fn reference_inputs() -> Vec<Vec<f32>> {
    reference_inputs_sized(256, 256)
}

/// Runs `model` on the reference inputs for its input size and compares
/// with onnxruntime's outputs in `file`: per input, the score logits then
/// the first four box values of each anchor.
fn matches_onnxruntime(model: &Model, file: &str) {
    let path = format!("{}/tests/data/detect/{file}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(path).unwrap();
    let reference: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let anchors = model.output_shapes()[..2]
        .iter()
        .map(|s| s.iter().product::<usize>())
        .sum::<usize>();
    assert_eq!(reference.len(), 3 * anchors * 5);
    let [_, h, w, _] = model.input_shape()[..] else {
        panic!("input {:?}", model.input_shape())
    };
    let mut scratch = Scratch::default();
    for (case, input) in reference_inputs_sized(h, w).iter().enumerate() {
        let out = model.run(input, &mut scratch).unwrap();
        let mut ours: Vec<f32> = out[0].iter().chain(&out[1]).copied().collect();
        for b in [&out[2], &out[3]] {
            for anchor in b.chunks_exact(16) {
                ours.extend(&anchor[..4]);
            }
        }
        let theirs = &reference[case * anchors * 5..][..anchors * 5];
        let (scores, boxes) = ours.split_at(anchors);
        // 1e-3, plus 1e-4 of the value: logits far below the threshold
        // reach −1000 on blank input, where the two engines' float sums
        // differ in the last digits (sigmoid is 0 either way).
        let score_err = scores
            .iter()
            .zip(&theirs[..anchors])
            .map(|(a, b)| (a - b).abs() - 1e-4 * b.abs())
            .fold(0f32, f32::max);
        let box_err = boxes
            .iter()
            .zip(&theirs[anchors..])
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            score_err <= 1e-3 && box_err <= 1e-3,
            "case {case}: scores {score_err}, boxes {box_err}"
        );
    }
    // The faces case has faces: a logit well above the detector's threshold.
    let faces = &reference[2 * anchors * 5..][..anchors];
    assert!(faces.iter().copied().fold(f32::MIN, f32::max) > 2.0);
}

#[test]
fn the_face_model_matches_onnxruntime() {
    let model = Model::load(BUILTIN_MODEL).unwrap();
    assert_eq!(model.input_shape(), [1, 256, 256, 3]);
    assert_eq!(
        model.output_shapes(),
        [
            &[1, 512, 1][..],
            &[1, 384, 1][..],
            &[1, 512, 16][..],
            &[1, 384, 16][..]
        ]
    );
    matches_onnxruntime(&model, "blazeface_reference.bin");
}

// The file declares 256×256; planned for 192×320, its channel padding and
// output reshapes follow (480 = 12·20·2 and 360 = 6·10·6 anchors), and the
// outputs match onnxruntime running the same graph edited to that size.
#[test]
fn the_face_model_planned_for_a_wide_input_matches_onnxruntime() {
    let model = Model::load_with_input(BUILTIN_MODEL, &[1, 192, 320, 3]).unwrap();
    assert_eq!(model.input_shape(), [1, 192, 320, 3]);
    assert_eq!(
        model.output_shapes(),
        [
            &[1, 480, 1][..],
            &[1, 360, 1][..],
            &[1, 480, 16][..],
            &[1, 360, 16][..]
        ]
    );
    matches_onnxruntime(&model, "blazeface_reference_192x320.bin");
    // Another rank, or channels the weights do not take, is a load error.
    assert!(Model::load_with_input(BUILTIN_MODEL, &[1, 192, 320]).is_err());
    assert!(Model::load_with_input(BUILTIN_MODEL, &[1, 192, 320, 4]).is_err());
}

#[test]
fn a_second_run_with_the_same_scratch_gives_the_same_outputs() {
    let model = Model::load(BUILTIN_MODEL).unwrap();
    let inputs = reference_inputs();
    let mut scratch = Scratch::default();
    let first = model.run(&inputs[2], &mut scratch).unwrap();
    model.run(&inputs[1], &mut scratch).unwrap();
    assert_eq!(model.run(&inputs[2], &mut scratch).unwrap(), first);
    assert!(model.run(&inputs[2][1..], &mut scratch).is_err());
}

#[test]
fn truncated_or_corrupted_models_are_load_errors_not_panics() {
    for len in [
        0,
        1,
        10,
        1000,
        BUILTIN_MODEL.len() / 2,
        BUILTIN_MODEL.len() - 1,
    ] {
        assert!(Model::load(&BUILTIN_MODEL[..len]).is_err(), "{len} bytes");
    }
    // Bytes flipped all over the file: each load either fails or gives a
    // model that runs.
    let mut scratch = Scratch::default();
    let input = vec![0.5f32; 256 * 256 * 3];
    let mut runs = 0;
    for i in 0..300 {
        let mut bytes = BUILTIN_MODEL.to_vec();
        let at = (i * 7919 + 13) % bytes.len();
        bytes[at] ^= 0x5a;
        if let Ok(m) = Model::load(&bytes) {
            if runs < 5 && m.input_shape().iter().product::<usize>() == input.len() {
                m.run(&input, &mut scratch).unwrap();
                runs += 1;
            }
        }
    }
}

/// A minimal protobuf writer for hand-made graphs.
#[derive(Default)]
struct Msg(Vec<u8>);

impl Msg {
    fn varint(mut self, field: u64, v: u64) -> Self {
        self.raw(field << 3);
        self.raw(v);
        self
    }
    fn bytes(mut self, field: u64, b: &[u8]) -> Self {
        self.raw((field << 3) | 2);
        self.raw(b.len() as u64);
        self.0.extend(b);
        self
    }
    fn msg(self, field: u64, m: Msg) -> Self {
        self.bytes(field, &m.0)
    }
    fn text(self, field: u64, s: &str) -> Self {
        self.bytes(field, s.as_bytes())
    }
    fn raw(&mut self, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(b);
                return;
            }
            self.0.push(b | 0x80);
        }
    }
}

fn tensor(name: &str, dims: &[u64], values: &[f32]) -> Msg {
    let mut m = Msg::default();
    for &d in dims {
        m = m.varint(1, d);
    }
    let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    m.varint(2, 1).text(8, name).bytes(9, &raw)
}

fn value_info(name: &str, dims: &[u64]) -> Msg {
    let mut shape = Msg::default();
    for &d in dims {
        shape = shape.msg(1, Msg::default().varint(1, d));
    }
    let tensor_type = Msg::default().varint(1, 1).msg(2, shape);
    Msg::default()
        .text(1, name)
        .msg(2, Msg::default().msg(1, tensor_type))
}

fn node(op: &str, inputs: &[&str], output: &str) -> Msg {
    let mut m = Msg::default();
    for i in inputs {
        m = m.text(1, i);
    }
    m.text(2, output).text(3, output).text(4, op)
}

fn model(nodes: Vec<Msg>, inits: Vec<Msg>, output: &str, out_dims: &[u64]) -> Vec<u8> {
    let mut g = Msg::default();
    for n in nodes {
        g = g.msg(1, n);
    }
    for t in inits {
        g = g.msg(5, t);
    }
    let g = g
        .msg(11, value_info("x", &[1, 2, 3, 3]))
        .msg(12, value_info(output, out_dims));
    Msg::default().varint(1, 7).msg(7, g).0
}

#[test]
fn a_residual_conv_with_relu_computes_the_textbook_sum() {
    // y = relu(conv1x1(x) + x), 2 → 2 channels, then transposed to NHWC.
    let w = [1.0, -2.0, 0.5, 0.25];
    let bytes = model(
        vec![
            node("Conv", &["x", "w", "b"], "c"),
            node("Add", &["x", "c"], "a"),
            node("Relu", &["a"], "r"),
            node("Transpose", &["r"], "y").msg(
                5,
                Msg::default()
                    .text(1, "perm")
                    .varint(8, 0)
                    .varint(8, 2)
                    .varint(8, 3)
                    .varint(8, 1)
                    .varint(20, 7),
            ),
        ],
        vec![
            tensor("w", &[2, 2, 1, 1], &w),
            tensor("b", &[2], &[0.5, -1.0]),
        ],
        "y",
        &[1, 3, 3, 2],
    );
    let m = Model::load(&bytes).unwrap();
    // The Conv, Add and Relu are one step.
    assert_eq!(m.steps.len(), 2);
    let x: Vec<f32> = (0..18).map(|i| i as f32 - 6.0).collect();
    let y = m.run(&x, &mut Scratch::default()).unwrap().remove(0);
    for (p, (&a, &b)) in x[..9].iter().zip(&x[9..]).enumerate() {
        for (c, bias) in [0.5, -1.0].into_iter().enumerate() {
            let conv = w[c * 2] * a + w[c * 2 + 1] * b + bias;
            let want = (conv + [a, b][c]).max(0.0);
            assert_eq!(y[p * 2 + c], want, "pixel {p} channel {c}");
        }
    }
}

#[test]
fn unknown_operators_and_wrong_shapes_are_named_in_the_error() {
    let bytes = model(
        vec![node("Sigmoid", &["x"], "y")],
        vec![],
        "y",
        &[1, 2, 3, 3],
    );
    let err = Model::load(&bytes).unwrap_err();
    assert!(err.contains("operator Sigmoid is not supported"), "{err}");

    // Weights for 3 input channels on a 2-channel input.
    let bytes = model(
        vec![node("Conv", &["x", "w"], "y")],
        vec![tensor("w", &[1, 3, 1, 1], &[1.0; 3])],
        "y",
        &[1, 1, 3, 3],
    );
    let err = Model::load(&bytes).unwrap_err();
    assert!(
        err.contains("node 'y' (Conv)") && err.contains("group 1"),
        "{err}"
    );

    // Adding tensors of different shapes.
    let bytes = model(
        vec![node("Add", &["x", "k"], "y")],
        vec![tensor("k", &[1, 2, 3, 1], &[0.0; 6])],
        "y",
        &[1, 2, 3, 3],
    );
    let err = Model::load(&bytes).unwrap_err();
    assert!(err.contains("broadcasting"), "{err}");

    // An input nobody computes.
    let bytes = model(vec![node("Relu", &["z"], "y")], vec![], "y", &[1, 2, 3, 3]);
    let err = Model::load(&bytes).unwrap_err();
    assert!(err.contains("'z' is never computed"), "{err}");
}
