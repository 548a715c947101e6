//! A small inference engine for the face model: reads an ONNX file
//! ([`onnx`]), checks every shape once at load, and runs the graph as a
//! fixed plan of steps over reused buffers. Batch 1, float32, and only the
//! operators a MobileNet-style detector needs: Conv (dense, depthwise,
//! 1×1), Relu, Add, MaxPool, Concat, Transpose, Reshape. Anything else is a
//! load error that names the node, never a panic at run time.
//!
//! A Conv whose only reader is an Add (a residual connection) and/or a Relu
//! is fused with them: the sum and the clamp happen as the result is
//! stored.

mod kernels;
mod onnx;

use std::collections::HashMap;

use kernels::{Gemm, Isa, Window};
use onnx::{Attr, Data, Node};

type Result<T> = std::result::Result<T, String>;

/// Where a value lives during a run.
#[derive(Debug, Clone, Copy)]
enum Store {
    /// The caller's input.
    Input,
    /// A constant of the model.
    Const(usize),
    /// A working buffer, reused once the value is dead.
    Slot(usize),
}

#[derive(Debug)]
struct Value {
    shape: Vec<usize>,
    store: Store,
}

impl Value {
    fn len(&self) -> usize {
        self.shape.iter().product()
    }
}

#[derive(Debug)]
enum ConvKind {
    /// 1×1, stride 1, no padding: a matrix product over the planes.
    Pointwise,
    /// One filter per channel, 3×3, stride 1, padding 1.
    Depthwise3,
    /// One filter per channel, any geometry.
    Depthwise,
    /// Dense, any geometry: patches (im2col) then the matrix product.
    Dense,
}

#[derive(Debug)]
struct Conv {
    kind: ConvKind,
    c_in: usize,
    c_out: usize,
    win: Window,
    /// `[c_out][c_in·kh·kw]`, packed for the matrix product when it is used.
    weights: Vec<f32>,
    bias: Vec<f32>,
    /// Added before the Relu (fused Add).
    residual: Option<usize>,
    relu: bool,
    /// A depthwise 3×3 convolution whose output only this (pointwise) one
    /// reads: done band by band just before, so that its output stays in
    /// cache.
    pre: Option<Box<Conv>>,
}

#[derive(Debug)]
enum Op {
    Conv(Box<Conv>),
    Relu,
    Add,
    MaxPool {
        win: Window,
        channels: usize,
    },
    Concat {
        outer: usize,
        inner: Vec<usize>,
    },
    Transpose {
        perm: Vec<usize>,
    },
    /// Same elements, new shape.
    Copy,
}

#[derive(Debug)]
struct Step {
    op: Op,
    inputs: Vec<usize>,
    output: usize,
}

/// A loaded model: constants, the plan, and the sizes of its buffers.
#[derive(Debug)]
pub(crate) struct Model {
    isa: Isa,
    input_shape: Vec<usize>,
    consts: Vec<Vec<f32>>,
    values: Vec<Value>,
    steps: Vec<Step>,
    outputs: Vec<usize>,
    slots: Vec<usize>,
    /// Floats of patch buffer the dense convolutions need.
    col: usize,
}

/// Working memory for one run at a time, kept between runs.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    slots: Vec<Vec<f32>>,
    col: Vec<f32>,
}

/// Output rows of a dense convolution done per patch band, so that the
/// patches stay in cache.
const BAND_PIXELS: usize = 1024;

impl Model {
    /// Parses and plans an ONNX model with one float input.
    pub fn load(bytes: &[u8]) -> Result<Self> {
        let graph = onnx::parse(bytes)?;
        Planner::default().plan(graph)
    }

    /// Parses and plans an ONNX model with one float input, for an input of
    /// another shape than the one the file declares: a fully convolutional
    /// model run on other spatial dimensions (same rank; the planner checks
    /// every shape as for [`Self::load`]). What an exporter folded into
    /// constants for the declared size follows the new size: an all-zero
    /// constant concatenated with computed values (channel padding) takes
    /// their shape, and a Reshape whose constant target no longer holds the
    /// same number of elements infers its largest dimension.
    pub fn load_with_input(bytes: &[u8], input_shape: &[usize]) -> Result<Self> {
        let graph = onnx::parse(bytes)?;
        Planner {
            input_override: Some(input_shape.to_vec()),
            ..Planner::default()
        }
        .plan(graph)
    }

    /// The input's shape, e.g. `[1, 256, 256, 3]`.
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    /// The outputs' shapes, in the graph's order.
    pub fn output_shapes(&self) -> Vec<&[usize]> {
        self.outputs
            .iter()
            .map(|&v| self.values[v].shape.as_slice())
            .collect()
    }

    /// Runs the model. `input` holds [`Self::input_shape`] elements
    /// (row-major); the outputs come back in the graph's order.
    pub fn run(&self, input: &[f32], scratch: &mut Scratch) -> Result<Vec<Vec<f32>>> {
        let expected: usize = self.input_shape.iter().product();
        if input.len() != expected {
            return Err(format!("{} input values, expected {expected}", input.len()));
        }
        scratch.slots.resize_with(self.slots.len(), Vec::new);
        for (s, &len) in scratch.slots.iter_mut().zip(&self.slots) {
            s.resize(len, 0.0);
        }
        let mut col = std::mem::take(&mut scratch.col);
        col.resize(self.col, 0.0);
        for step in &self.steps {
            let Store::Slot(slot) = self.values[step.output].store else {
                return Err("a step writes a constant".into());
            };
            let mut out = std::mem::take(&mut scratch.slots[slot]);
            let len = self.values[step.output].len();
            self.exec(step, input, scratch, &mut col, &mut out[..len]);
            scratch.slots[slot] = out;
        }
        scratch.col = col;
        Ok(self
            .outputs
            .iter()
            .map(|&v| self.get(v, input, scratch).to_vec())
            .collect())
    }

    fn get<'a>(&'a self, v: usize, input: &'a [f32], scratch: &'a Scratch) -> &'a [f32] {
        let len = self.values[v].len();
        match self.values[v].store {
            Store::Input => input,
            Store::Const(c) => &self.consts[c],
            Store::Slot(s) => &scratch.slots[s][..len],
        }
    }

    fn exec(
        &self,
        step: &Step,
        input: &[f32],
        scratch: &Scratch,
        col: &mut [f32],
        out: &mut [f32],
    ) {
        let arg = |i: usize| self.get(step.inputs[i], input, scratch);
        let shape = &self.values[step.output].shape;
        match &step.op {
            Op::Conv(conv) => {
                let res = conv.residual.map(|v| self.get(v, input, scratch));
                let x = self.get(step.inputs[0], input, scratch);
                self.conv(conv, x, res, col, out);
            }
            Op::Relu => {
                for (o, &v) in out.iter_mut().zip(arg(0)) {
                    *o = v.max(0.0);
                }
            }
            Op::Add => {
                for ((o, &a), &b) in out.iter_mut().zip(arg(0)).zip(arg(1)) {
                    *o = a + b;
                }
            }
            Op::MaxPool { win, channels } => {
                let x = arg(0);
                let (ip, op) = (win.h * win.w, win.oh * win.ow);
                for c in 0..*channels {
                    kernels::max_pool(&x[c * ip..][..ip], win, &mut out[c * op..][..op]);
                }
            }
            Op::Concat { outer, inner } => {
                let mut o = 0;
                for i in 0..*outer {
                    for (a, &n) in inner.iter().enumerate() {
                        out[o..o + n].copy_from_slice(&arg(a)[i * n..][..n]);
                        o += n;
                    }
                }
            }
            Op::Transpose { perm } => {
                let x = arg(0);
                let from = &self.values[step.inputs[0]].shape;
                transpose(x, from, perm, shape, out);
            }
            Op::Copy => out.copy_from_slice(arg(0)),
        }
    }

    fn conv(&self, conv: &Conv, x: &[f32], res: Option<&[f32]>, col: &mut [f32], out: &mut [f32]) {
        let win = &conv.win;
        let (ip, op) = (win.h * win.w, win.oh * win.ow);
        match conv.kind {
            ConvKind::Pointwise if conv.pre.is_some() => {
                let pre = conv.pre.as_deref().unwrap_or(conv);
                let band = (BAND_PIXELS / win.w).max(1);
                let mut y0 = 0;
                while y0 < win.h {
                    let y1 = (y0 + band).min(win.h);
                    let n = (y1 - y0) * win.w;
                    let col = &mut col[..conv.c_in * n];
                    kernels::depthwise3(
                        self.isa,
                        x,
                        &pre.weights,
                        &pre.bias,
                        pre.c_out,
                        (win.h, win.w),
                        y0..y1,
                        col,
                    );
                    let at = y0 * win.w;
                    let g = Gemm {
                        w: &conv.weights,
                        bias: &conv.bias,
                        rows: conv.c_out,
                        k: conv.c_in,
                        x: col,
                        x_ld: n,
                        n,
                        out_ld: op,
                        res: res.map(|r| &r[at..]),
                        relu: conv.relu,
                    };
                    kernels::gemm(self.isa, &g, &mut out[at..]);
                    y0 = y1;
                }
                return;
            }
            ConvKind::Pointwise => {
                let g = Gemm {
                    w: &conv.weights,
                    bias: &conv.bias,
                    rows: conv.c_out,
                    k: conv.c_in,
                    x,
                    x_ld: ip,
                    n: ip,
                    out_ld: op,
                    res,
                    relu: conv.relu,
                };
                kernels::gemm(self.isa, &g, out);
                return;
            }
            ConvKind::Dense => {
                let k = conv.c_in * win.kh * win.kw;
                let band = (BAND_PIXELS / win.ow).max(1);
                let mut y0 = 0;
                while y0 < win.oh {
                    let y1 = (y0 + band).min(win.oh);
                    let n = (y1 - y0) * win.ow;
                    let col = &mut col[..k * n];
                    kernels::im2col(x, conv.c_in, win, y0, y1, col);
                    let at = y0 * win.ow;
                    let g = Gemm {
                        w: &conv.weights,
                        bias: &conv.bias,
                        rows: conv.c_out,
                        k,
                        x: col,
                        x_ld: n,
                        n,
                        out_ld: op,
                        res: res.map(|r| &r[at..]),
                        relu: conv.relu,
                    };
                    kernels::gemm(self.isa, &g, &mut out[at..]);
                    y0 = y1;
                }
                return;
            }
            ConvKind::Depthwise3 => {
                kernels::depthwise3(
                    self.isa,
                    x,
                    &conv.weights,
                    &conv.bias,
                    conv.c_out,
                    (win.h, win.w),
                    0..win.h,
                    out,
                );
            }
            ConvKind::Depthwise => {
                let t = win.kh * win.kw;
                for c in 0..conv.c_out {
                    let o = &mut out[c * op..][..op];
                    kernels::depthwise_any(
                        &x[c * ip..][..ip],
                        &conv.weights[c * t..][..t],
                        conv.bias[c],
                        win,
                        o,
                    );
                }
            }
        }
        if let Some(r) = res {
            for (o, &v) in out.iter_mut().zip(r) {
                *o += v;
            }
        }
        if conv.relu {
            for o in out.iter_mut() {
                *o = o.max(0.0);
            }
        }
    }
}

/// Row-major transpose: output axis `d` is input axis `perm[d]`.
fn transpose(x: &[f32], from: &[usize], perm: &[usize], to: &[usize], out: &mut [f32]) {
    let rank = from.len();
    let Some(last) = rank.checked_sub(1) else {
        out.copy_from_slice(x);
        return;
    };
    let mut stride = vec![1usize; rank];
    for d in (0..last).rev() {
        stride[d] = stride[d + 1] * from[d + 1];
    }
    // The input stride of each output axis.
    let src: Vec<usize> = perm.iter().map(|&p| stride[p]).collect();
    let (n, step) = (to[last], src[last]);
    let mut idx = vec![0usize; last];
    let mut at = 0usize;
    for row in out.chunks_exact_mut(n.max(1)) {
        for (i, o) in row.iter_mut().enumerate() {
            *o = x[at + i * step];
        }
        // Next row: carry through the outer axes.
        for d in (0..last).rev() {
            idx[d] += 1;
            at += src[d];
            if idx[d] < to[d] {
                break;
            }
            at -= src[d] * to[d];
            idx[d] = 0;
        }
    }
}

fn ints(node: &Node, name: &str) -> Result<Option<Vec<i64>>> {
    match node.attr(name) {
        None => Ok(None),
        Some(Attr::Ints(v)) => Ok(Some(v.clone())),
        Some(_) => Err(format!(
            "node '{}': attribute {name} is not a list of ints",
            node.name
        )),
    }
}

fn int(node: &Node, name: &str) -> Result<Option<i64>> {
    match node.attr(name) {
        None => Ok(None),
        Some(Attr::Int(v)) => Ok(Some(*v)),
        Some(_) => Err(format!(
            "node '{}': attribute {name} is not an int",
            node.name
        )),
    }
}

/// Non-negative small integers from an attribute list of the given length.
fn sizes(node: &Node, name: &str, len: usize, default: usize) -> Result<Vec<usize>> {
    let Some(v) = ints(node, name)? else {
        return Ok(vec![default; len]);
    };
    if v.len() != len {
        return Err(format!(
            "node '{}': {name} has {} values, expected {len}",
            node.name,
            v.len()
        ));
    }
    v.iter()
        .map(|&x| {
            usize::try_from(x)
                .ok()
                .filter(|&x| x <= 1 << 16)
                .ok_or_else(|| format!("node '{}': {name} value {x}", node.name))
        })
        .collect()
}

#[derive(Default)]
struct Planner {
    values: Vec<Value>,
    names: HashMap<String, usize>,
    consts: Vec<Vec<f32>>,
    const_ints: HashMap<String, Vec<i64>>,
    steps: Vec<Step>,
    /// The input shape to plan for instead of the declared one
    /// ([`Model::load_with_input`]).
    input_override: Option<Vec<usize>>,
}

impl Planner {
    fn plan(mut self, graph: onnx::Graph) -> Result<Model> {
        for t in graph.initializers {
            match t.data {
                Data::F32(v) => {
                    self.consts.push(v);
                    let store = Store::Const(self.consts.len() - 1);
                    self.define(&t.name, t.dims, store)?;
                }
                Data::I64(v) => {
                    self.const_ints.insert(t.name, v);
                }
            }
        }
        // Graph inputs that are not initializers (older files list both).
        let inputs: Vec<_> = graph
            .inputs
            .iter()
            .filter(|i| !self.names.contains_key(&i.name) && !self.const_ints.contains_key(&i.name))
            .collect();
        let [input] = inputs.as_slice() else {
            return Err(format!("{} graph inputs, expected one", inputs.len()));
        };
        let dims = input
            .dims
            .as_ref()
            .ok_or_else(|| format!("input '{}' has no declared shape", input.name))?;
        let input_shape = dims
            .iter()
            .enumerate()
            .map(|(i, d)| match (i, d) {
                (0, None) => Ok(1),
                (_, Some(d)) => usize::try_from(*d)
                    .ok()
                    .filter(|&d| (1..=1 << 16).contains(&d))
                    .ok_or_else(|| format!("input dimension {d}")),
                (_, None) => Err(format!(
                    "input '{}': dimension {i} is not fixed",
                    input.name
                )),
            })
            .collect::<Result<Vec<_>>>()?;
        if input_shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .is_none_or(|n| n > 1 << 28)
        {
            return Err(format!("input shape {input_shape:?} is too large"));
        }
        let input_shape = match self.input_override.clone() {
            None => input_shape,
            Some(s) => {
                if s.len() != input_shape.len()
                    || s.iter().any(|&d| !(1..=1 << 16).contains(&d))
                    || s.iter()
                        .try_fold(1usize, |a, &d| a.checked_mul(d))
                        .is_none_or(|n| n > 1 << 28)
                {
                    return Err(format!(
                        "input shape {s:?} does not replace the declared {input_shape:?}"
                    ));
                }
                s
            }
        };
        self.define(&input.name, input_shape.clone(), Store::Input)?;

        let output_names: Vec<String> = graph.outputs.iter().map(|o| o.name.clone()).collect();
        if output_names.is_empty() {
            return Err("the graph has no outputs".into());
        }
        let nodes = fuse(graph.nodes, &output_names);
        self.order_and_plan(nodes)?;

        let outputs = output_names
            .iter()
            .map(|n| {
                self.names
                    .get(n)
                    .copied()
                    .ok_or_else(|| format!("output '{n}' is never computed"))
            })
            .collect::<Result<Vec<_>>>()?;
        for &o in &outputs {
            if !matches!(self.values[o].store, Store::Slot(_)) {
                return Err("an output that is an input or a constant is not supported".into());
            }
        }
        self.fuse_depthwise(&outputs);
        let slots = self.assign_slots(&outputs);
        let col = self
            .steps
            .iter()
            .filter_map(|s| match &s.op {
                Op::Conv(c) if matches!(c.kind, ConvKind::Dense) => {
                    let band = (BAND_PIXELS / c.win.ow).max(1).min(c.win.oh);
                    Some(c.c_in * c.win.kh * c.win.kw * band * c.win.ow)
                }
                Op::Conv(c) if c.pre.is_some() => {
                    let band = (BAND_PIXELS / c.win.w).max(1).min(c.win.h);
                    Some(c.c_in * band * c.win.w)
                }
                _ => None,
            })
            .max()
            .unwrap_or(0);
        Ok(Model {
            isa: Isa::detect(),
            input_shape,
            consts: self.consts,
            values: self.values,
            steps: self.steps,
            outputs,
            slots,
            col,
        })
    }

    fn define(&mut self, name: &str, shape: Vec<usize>, store: Store) -> Result<usize> {
        if self.names.contains_key(name) {
            return Err(format!("value '{name}' is defined twice"));
        }
        self.values.push(Value { shape, store });
        let id = self.values.len() - 1;
        self.names.insert(name.to_owned(), id);
        Ok(id)
    }

    /// Plans the nodes in an order where every input is computed first.
    fn order_and_plan(&mut self, mut pending: Vec<FusedNode>) -> Result<()> {
        while !pending.is_empty() {
            let ready = pending.iter().position(|n| {
                n.node.inputs.iter().chain(&n.residual).all(|i| {
                    i.is_empty() || self.names.contains_key(i) || self.const_ints.contains_key(i)
                })
            });
            let Some(at) = ready else {
                let n = &pending[0].node;
                let missing = n
                    .inputs
                    .iter()
                    .find(|i| {
                        !i.is_empty()
                            && !self.names.contains_key(*i)
                            && !self.const_ints.contains_key(*i)
                    })
                    .map_or("", String::as_str);
                return Err(format!(
                    "node '{}' ({}): input '{missing}' is never computed (or the graph has a cycle)",
                    n.name, n.op
                ));
            };
            let node = pending.remove(at);
            self.plan_node(node)?;
        }
        Ok(())
    }

    fn input(&self, node: &Node, i: usize) -> Result<usize> {
        node.inputs
            .get(i)
            .filter(|n| !n.is_empty())
            .and_then(|n| self.names.get(n))
            .copied()
            .ok_or_else(|| {
                format!(
                    "node '{}' ({}): missing float input {i}",
                    node.name, node.op
                )
            })
    }

    /// An all-zero constant `v` reshaped to `like` with its own size on
    /// `axis`; `None` if `v` is not such a constant.
    fn zeros_like(&mut self, v: usize, like: &[usize], axis: usize) -> Option<usize> {
        let own = &self.values[v].shape;
        if own.len() != like.len() || !self.constant(v)?.iter().all(|&x| x == 0.0) {
            return None;
        }
        let mut shape = like.to_vec();
        shape[axis] = own[axis];
        self.consts.push(vec![0.0; shape.iter().product()]);
        self.values.push(Value {
            shape,
            store: Store::Const(self.consts.len() - 1),
        });
        Some(self.values.len() - 1)
    }

    fn constant(&self, v: usize) -> Option<&[f32]> {
        match self.values[v].store {
            Store::Const(c) => Some(&self.consts[c]),
            _ => None,
        }
    }

    fn plan_node(&mut self, f: FusedNode) -> Result<()> {
        let node = &f.node;
        let fail = |what: String| format!("node '{}' ({}): {what}", node.name, node.op);
        let [out_name] = node.outputs.as_slice() else {
            return Err(fail(format!(
                "{} outputs, expected one",
                node.outputs.len()
            )));
        };
        let x = self.input(node, 0)?;
        let xs = self.values[x].shape.clone();
        let (op, shape, inputs) = match node.op.as_str() {
            "Conv" => {
                let (conv, shape) = self.plan_conv(&f, &xs).map_err(fail)?;
                let mut inputs = vec![x];
                inputs.extend(conv.residual);
                (Op::Conv(Box::new(conv)), shape, inputs)
            }
            "Relu" => (Op::Relu, xs, vec![x]),
            "Add" => {
                let y = self.input(node, 1)?;
                if self.values[y].shape != xs {
                    return Err(fail(format!(
                        "shapes {xs:?} and {:?} differ (broadcasting is not supported)",
                        self.values[y].shape
                    )));
                }
                (Op::Add, xs, vec![x, y])
            }
            "MaxPool" => {
                let [1, c, h, w] = xs[..] else {
                    return Err(fail(format!("input {xs:?} is not 1×C×H×W")));
                };
                if int(node, "ceil_mode")?.unwrap_or(0) != 0 {
                    return Err(fail("ceil_mode is not supported".into()));
                }
                if sizes(node, "dilations", 2, 1)? != [1, 1] {
                    return Err(fail("dilations are not supported".into()));
                }
                check_auto_pad(node).map_err(fail)?;
                let k =
                    ints(node, "kernel_shape")?.ok_or_else(|| fail("no kernel_shape".into()))?;
                if k.len() != 2 {
                    return Err(fail("kernel_shape is not 2-D".into()));
                }
                let k = sizes(node, "kernel_shape", 2, 1)?;
                let win = window(
                    h,
                    w,
                    &k,
                    &sizes(node, "strides", 2, 1)?,
                    &sizes(node, "pads", 4, 0)?,
                )
                .map_err(fail)?;
                (
                    Op::MaxPool { win, channels: c },
                    vec![1, c, win.oh, win.ow],
                    vec![x],
                )
            }
            "Concat" => {
                let axis = int(node, "axis")?.ok_or_else(|| fail("no axis".into()))?;
                let rank = xs.len() as i64;
                let axis = if axis < 0 { axis + rank } else { axis };
                let axis = usize::try_from(axis)
                    .ok()
                    .filter(|&a| a < xs.len())
                    .ok_or_else(|| fail(format!("axis {axis} for rank {rank}")))?;
                let mut inputs = Vec::new();
                let mut shape = xs.clone();
                shape[axis] = 0;
                for i in 0..node.inputs.len() {
                    let mut v = self.input(node, i)?;
                    let fits = |s: &[usize]| {
                        s.len() == xs.len()
                            && s.iter()
                                .zip(&xs)
                                .enumerate()
                                .all(|(d, (a, b))| d == axis || a == b)
                    };
                    if !fits(&self.values[v].shape) && self.input_override.is_some() {
                        // Padding folded for the declared input size.
                        if let Some(zeros) = self.zeros_like(v, &xs, axis) {
                            v = zeros;
                        }
                    }
                    let s = &self.values[v].shape;
                    if !fits(s) {
                        return Err(fail(format!(
                            "shapes {xs:?} and {s:?} do not concatenate on axis {axis}"
                        )));
                    }
                    shape[axis] += s[axis];
                    inputs.push(v);
                }
                let outer = xs[..axis].iter().product();
                let inner = inputs
                    .iter()
                    .map(|&v| self.values[v].shape[axis..].iter().product())
                    .collect();
                (Op::Concat { outer, inner }, shape, inputs)
            }
            "Transpose" => {
                let perm = match ints(node, "perm")? {
                    None => (0..xs.len()).rev().collect(),
                    Some(p) => p
                        .iter()
                        .map(|&a| usize::try_from(a).unwrap_or(usize::MAX))
                        .collect::<Vec<_>>(),
                };
                let mut seen = vec![false; xs.len()];
                if perm.len() != xs.len()
                    || !perm
                        .iter()
                        .all(|&p| p < xs.len() && !std::mem::replace(&mut seen[p], true))
                {
                    return Err(fail(format!("perm {perm:?} for rank {}", xs.len())));
                }
                let shape = perm.iter().map(|&p| xs[p]).collect();
                (Op::Transpose { perm }, shape, vec![x])
            }
            "Reshape" => {
                if int(node, "allowzero")?.unwrap_or(0) != 0 {
                    return Err(fail("allowzero is not supported".into()));
                }
                let target = node
                    .inputs
                    .get(1)
                    .and_then(|n| self.const_ints.get(n))
                    .ok_or_else(|| fail("the shape is not a constant int64 tensor".into()))?;
                let shape = match reshape(&xs, target) {
                    Err(_) if self.input_override.is_some() && !target.contains(&-1) => {
                        // Folded for the declared input size: the largest
                        // dimension is the one that scales with it.
                        let mut t = target.clone();
                        if let Some(big) = (0..t.len()).max_by_key(|&i| t[i]) {
                            t[big] = -1;
                        }
                        reshape(&xs, &t)
                    }
                    r => r,
                }
                .map_err(fail)?;
                (Op::Copy, shape, vec![x])
            }
            op => return Err(fail(format!("operator {op} is not supported"))),
        };
        let len = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if len.is_none_or(|n| n > 1 << 28) {
            return Err(fail(format!("output shape {shape:?} is too large")));
        }
        let slot = Store::Slot(usize::MAX);
        let output = self.define(out_name, shape, slot)?;
        self.steps.push(Step { op, inputs, output });
        Ok(())
    }

    fn plan_conv(&self, f: &FusedNode, xs: &[usize]) -> Result<(Conv, Vec<usize>)> {
        let node = &f.node;
        let [1, c_in, h, w] = xs[..] else {
            return Err(format!("input {xs:?} is not 1×C×H×W"));
        };
        let wv = self.input(node, 1)?;
        let weights = self
            .constant(wv)
            .ok_or("the weights are not a constant")?
            .to_vec();
        let [c_out, per_group, kh, kw] = self.values[wv].shape[..] else {
            return Err(format!("weights {:?} are not 4-D", self.values[wv].shape));
        };
        let group = usize::try_from(int(node, "group")?.unwrap_or(1)).map_err(|_| "group")?;
        if group == 0
            || !c_in.is_multiple_of(group)
            || !c_out.is_multiple_of(group)
            || per_group * group != c_in
        {
            return Err(format!(
                "group {group} for {c_in} → {c_out} channels with weights {per_group} per group"
            ));
        }
        if let Some(k) = ints(node, "kernel_shape")? {
            if k != [kh as i64, kw as i64] {
                return Err(format!("kernel_shape {k:?} but weights {kh}×{kw}"));
            }
        }
        if sizes(node, "dilations", 2, 1)? != [1, 1] {
            return Err("dilations are not supported".into());
        }
        check_auto_pad(node)?;
        let strides = sizes(node, "strides", 2, 1)?;
        let pads = sizes(node, "pads", 4, 0)?;
        let win = window(h, w, &[kh, kw], &strides, &pads)?;
        let bias = match node.inputs.get(2).filter(|n| !n.is_empty()) {
            None => vec![0.0; c_out],
            Some(_) => {
                let b = self.input(node, 2)?;
                if self.values[b].shape != [c_out] {
                    return Err(format!(
                        "bias {:?} for {c_out} channels",
                        self.values[b].shape
                    ));
                }
                self.constant(b)
                    .ok_or("the bias is not a constant")?
                    .to_vec()
            }
        };
        let shape = vec![1, c_out, win.oh, win.ow];
        let residual = match &f.residual {
            None => None,
            Some(name) => {
                let r = *self.names.get(name).ok_or("missing residual")?;
                if self.values[r].shape != shape {
                    return Err(format!(
                        "the added {:?} differs from the convolution's {shape:?}",
                        self.values[r].shape
                    ));
                }
                Some(r)
            }
        };
        let depthwise = group == c_in && c_out == c_in && per_group == 1;
        let kind = if group == 1 && kh == 1 && kw == 1 && strides == [1, 1] && pads == [0, 0, 0, 0]
        {
            ConvKind::Pointwise
        } else if depthwise
            && kh == 3
            && kw == 3
            && strides == [1, 1]
            && pads == [1, 1, 1, 1]
            && w >= 2
        {
            ConvKind::Depthwise3
        } else if depthwise {
            ConvKind::Depthwise
        } else if group == 1 {
            ConvKind::Dense
        } else {
            return Err(format!(
                "grouped convolution ({group} groups) is not supported"
            ));
        };
        let (weights, bias) = match kind {
            ConvKind::Pointwise | ConvKind::Dense => {
                kernels::pack(&weights, Some(&bias), c_out, c_in * kh * kw)
            }
            _ => (weights, bias),
        };
        let conv = Conv {
            kind,
            c_in,
            c_out,
            win,
            weights,
            bias,
            residual,
            relu: f.relu,
            pre: None,
        };
        Ok((conv, shape))
    }

    /// Moves each plain depthwise 3×3 step into the pointwise step that is
    /// the only reader of its output.
    fn fuse_depthwise(&mut self, outputs: &[usize]) {
        let mut readers = vec![0usize; self.values.len()];
        for s in &self.steps {
            for &v in &s.inputs {
                readers[v] += 1;
            }
        }
        let mut i = 0;
        while i < self.steps.len() {
            let s = &self.steps[i];
            let fusable = matches!(&s.op, Op::Conv(c) if matches!(c.kind, ConvKind::Depthwise3)
                && c.residual.is_none() && !c.relu)
                && readers[s.output] == 1
                && !outputs.contains(&s.output);
            let reader = self.steps[i + 1..]
                .iter()
                .position(|r| r.inputs.contains(&s.output))
                .map(|p| p + i + 1);
            let target = reader.filter(|&j| {
                let r = &self.steps[j];
                r.inputs[0] == s.output
                    && matches!(&r.op, Op::Conv(c) if matches!(c.kind, ConvKind::Pointwise) && c.pre.is_none())
            });
            match target {
                Some(j) if fusable => {
                    let dw = self.steps.remove(i);
                    let j = j - 1;
                    if let (Op::Conv(pre), Op::Conv(pw)) = (dw.op, &mut self.steps[j].op) {
                        pw.pre = Some(pre);
                    }
                    self.steps[j].inputs[0] = dw.inputs[0];
                }
                _ => i += 1,
            }
        }
    }

    /// Gives every computed value a buffer, reusing those of dead values.
    /// Returns the buffers' sizes.
    fn assign_slots(&mut self, outputs: &[usize]) -> Vec<usize> {
        let mut last = vec![0usize; self.values.len()];
        for (i, s) in self.steps.iter().enumerate() {
            for &v in &s.inputs {
                last[v] = i;
            }
        }
        for &o in outputs {
            last[o] = usize::MAX;
        }
        let mut sizes: Vec<usize> = Vec::new();
        let mut free: Vec<usize> = Vec::new();
        for (i, s) in self.steps.iter().enumerate() {
            let len = self.values[s.output].len();
            // The smallest free buffer that fits, else the largest, grown.
            let pick = free
                .iter()
                .enumerate()
                .filter(|(_, &b)| sizes[b] >= len)
                .min_by_key(|(_, &b)| sizes[b])
                .or_else(|| free.iter().enumerate().max_by_key(|(_, &b)| sizes[b]))
                .map(|(at, _)| at);
            let slot = match pick {
                Some(at) => free.swap_remove(at),
                None => {
                    sizes.push(0);
                    sizes.len() - 1
                }
            };
            sizes[slot] = sizes[slot].max(len);
            self.values[s.output].store = Store::Slot(slot);
            if last[s.output] == 0 && !outputs.contains(&s.output) {
                last[s.output] = i;
            }
            for &v in s.inputs.iter().chain([&s.output]) {
                if last[v] == i {
                    if let Store::Slot(b) = self.values[v].store {
                        if !free.contains(&b) {
                            free.push(b);
                        }
                    }
                }
            }
        }
        sizes
    }
}

fn check_auto_pad(node: &Node) -> Result<()> {
    match node.attr("auto_pad") {
        None => Ok(()),
        Some(Attr::Text(t)) if t == "NOTSET" => Ok(()),
        Some(_) => Err("auto_pad is not supported (explicit pads only)".into()),
    }
}

fn window(h: usize, w: usize, k: &[usize], s: &[usize], pads: &[usize]) -> Result<Window> {
    let (kh, kw, sh, sw) = (k[0], k[1], s[0], s[1]);
    let (pt, pl, pb, pr) = (pads[0], pads[1], pads[2], pads[3]);
    if kh == 0 || kw == 0 || sh == 0 || sw == 0 || h + pt + pb < kh || w + pl + pr < kw {
        return Err(format!(
            "window {kh}×{kw} stride {sh}×{sw} pads {pads:?} on {h}×{w}"
        ));
    }
    Ok(Window {
        h,
        w,
        kh,
        kw,
        sh,
        sw,
        pt,
        pl,
        oh: (h + pt + pb - kh) / sh + 1,
        ow: (w + pl + pr - kw) / sw + 1,
    })
}

fn reshape(from: &[usize], target: &[i64]) -> Result<Vec<usize>> {
    let total: usize = from.iter().product();
    let mut shape = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &d) in target.iter().enumerate() {
        shape.push(match d {
            0 => *from.get(i).ok_or("0 past the input's rank")?,
            -1 if infer.is_none() => {
                infer = Some(i);
                1
            }
            d => usize::try_from(d).map_err(|_| format!("dimension {d}"))?,
        });
    }
    let known = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or("too large")?;
    if let Some(i) = infer {
        if known == 0 || !total.is_multiple_of(known) {
            return Err(format!("cannot reshape {from:?} to {target:?}"));
        }
        shape[i] = total / known;
    } else if known != total {
        return Err(format!("cannot reshape {from:?} to {target:?}"));
    }
    Ok(shape)
}

/// A node with what fusion folded into it: a Conv may carry the other
/// operand of the Add that read it, and a Relu.
struct FusedNode {
    node: Node,
    residual: Option<String>,
    relu: bool,
}

/// Folds `Conv → Add → Relu`, `Conv → Add` and `Conv → Relu` chains whose
/// intermediate values have no other reader into the Conv.
fn fuse(nodes: Vec<Node>, outputs: &[String]) -> Vec<FusedNode> {
    let mut readers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        for input in &n.inputs {
            readers.entry(input.as_str()).or_default().push(i);
        }
    }
    let only_reader = |value: &str| -> Option<usize> {
        if outputs.iter().any(|o| o == value) {
            return None;
        }
        match readers.get(value).map(Vec::as_slice) {
            Some(&[r]) => Some(r),
            _ => None,
        }
    };
    let mut gone = vec![false; nodes.len()];
    let mut plan: Vec<(usize, Option<String>, bool, Option<String>)> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        if n.op != "Conv" || n.outputs.len() != 1 {
            continue;
        }
        let mut out = n.outputs[0].clone();
        let mut residual = None;
        if let Some(r) = only_reader(&out) {
            let a = &nodes[r];
            if a.op == "Add" && a.inputs.len() == 2 && a.outputs.len() == 1 && !gone[r] {
                let other = if a.inputs[0] == out {
                    &a.inputs[1]
                } else {
                    &a.inputs[0]
                };
                if *other != out && !other.is_empty() {
                    residual = Some(other.clone());
                    gone[r] = true;
                    out = a.outputs[0].clone();
                }
            }
        }
        let mut relu = false;
        if let Some(r) = only_reader(&out) {
            let a = &nodes[r];
            if a.op == "Relu" && a.outputs.len() == 1 && !gone[r] {
                relu = true;
                gone[r] = true;
                out = a.outputs[0].clone();
            }
        }
        plan.push((i, residual, relu, Some(out)));
    }
    let mut extra: HashMap<usize, (Option<String>, bool, String)> = HashMap::new();
    for (i, residual, relu, out) in plan {
        if let Some(out) = out {
            extra.insert(i, (residual, relu, out));
        }
    }
    nodes
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !gone[*i])
        .map(|(i, mut node)| match extra.remove(&i) {
            Some((residual, relu, out)) => {
                node.outputs = vec![out];
                FusedNode {
                    node,
                    residual,
                    relu,
                }
            }
            None => FusedNode {
                node,
                residual: None,
                relu: false,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests;
