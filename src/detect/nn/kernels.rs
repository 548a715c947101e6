//! The arithmetic: 1×1 convolutions as a small matrix product over
//! contiguous channel planes, depthwise 3×3 convolutions row by row, and
//! the slow general paths. Plain loops that the compiler vectorises; the
//! hot ones are compiled twice, the second time for AVX2 + FMA, and picked
//! at run time.

/// Output channels computed together by the matrix product.
pub(super) const MR: usize = 6;
/// Pixels computed together (two AVX registers).
const NR: usize = 16;

/// The instruction set the hot kernels run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Isa {
    Baseline,
    #[cfg(target_arch = "x86_64")]
    Avx2Fma,
    /// AVX2 + FMA, and AVX-512 for the matrix product.
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Isa {
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            if is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            return Isa::Avx2Fma;
        }
        Isa::Baseline
    }

    /// All the instruction sets this CPU can run, for tests.
    #[cfg(test)]
    pub fn all() -> Vec<Self> {
        let mut all = vec![Isa::Baseline];
        #[cfg(target_arch = "x86_64")]
        {
            if Self::detect() != Isa::Baseline {
                all.push(Isa::Avx2Fma);
            }
            if Self::detect() == Isa::Avx512 {
                all.push(Isa::Avx512);
            }
        }
        all
    }
}

#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// `out[m][p] = bias[m] + Σk w[m][k]·x[k][p] (+ res[m][p]) (then max 0)`
/// for `m < rows`, `p < n`. `w` and `bias` are packed by [`pack`].
pub(super) struct Gemm<'a> {
    pub w: &'a [f32],
    pub bias: &'a [f32],
    pub rows: usize,
    pub k: usize,
    pub x: &'a [f32],
    pub x_ld: usize,
    pub n: usize,
    pub out_ld: usize,
    pub res: Option<&'a [f32]>,
    pub relu: bool,
}

/// Weights `[rows][k]` (row-major) regrouped as blocks of [`MR`] rows,
/// `[block][k][MR]`, zero rows padding the last block; the bias likewise.
pub(super) fn pack(w: &[f32], bias: Option<&[f32]>, rows: usize, k: usize) -> (Vec<f32>, Vec<f32>) {
    let blocks = rows.div_ceil(MR);
    let mut packed = vec![0f32; blocks * k * MR];
    let mut b = vec![0f32; blocks * MR];
    for (r, row) in w.chunks_exact(k.max(1)).take(rows).enumerate() {
        for (kk, &v) in row.iter().enumerate() {
            packed[(r / MR) * k * MR + kk * MR + r % MR] = v;
        }
    }
    if let Some(bias) = bias {
        b[..rows].copy_from_slice(&bias[..rows]);
    }
    (packed, b)
}

pub(super) fn gemm(isa: Isa, g: &Gemm<'_>, out: &mut [f32]) {
    match isa {
        Isa::Baseline => gemm_impl::<false>(g, out),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Isa::Avx2Fma` is only chosen when the CPU has both.
        Isa::Avx2Fma => unsafe { gemm_avx2(g, 0, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Isa::Avx512` is only chosen when the CPU has it, AVX2
        // and FMA.
        Isa::Avx512 => unsafe { gemm_avx512(g, out) },
    }
}

/// The matrix product with AVX-512: 32 pixels a tile, the rest by
/// [`gemm_avx2`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn gemm_avx512(g: &Gemm<'_>, out: &mut [f32]) {
    use std::arch::x86_64::{
        _mm512_add_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_max_ps, _mm512_set1_ps,
        _mm512_setzero_ps, _mm512_storeu_ps,
    };
    const W: usize = 32;
    let k = g.k;
    let blocks = g.rows.div_ceil(MR);
    let tiles = g.n / W;
    // Every pointer below stays inside these bounds.
    assert!(k > 0 && g.x.len() >= (k - 1) * g.x_ld + g.n);
    assert!(g.w.len() >= blocks * k * MR && g.bias.len() >= blocks * MR);
    for t in 0..tiles {
        let p0 = t * W;
        let xp = g.x.as_ptr().add(p0);
        for b in 0..blocks {
            let wp = g.w.as_ptr().add(b * k * MR);
            let mut acc = [[_mm512_setzero_ps(); 2]; MR];
            for (i, a) in acc.iter_mut().enumerate() {
                let v = _mm512_set1_ps(g.bias[b * MR + i]);
                *a = [v, v];
            }
            let (mut xr, mut wr) = (xp, wp);
            for _ in 0..k {
                let (x0, x1) = (_mm512_loadu_ps(xr), _mm512_loadu_ps(xr.add(16)));
                for (i, a) in acc.iter_mut().enumerate() {
                    let wv = _mm512_set1_ps(*wr.add(i));
                    a[0] = _mm512_fmadd_ps(wv, x0, a[0]);
                    a[1] = _mm512_fmadd_ps(wv, x1, a[1]);
                }
                xr = xr.wrapping_add(g.x_ld);
                wr = wr.add(MR);
            }
            for (i, a) in acc.iter().enumerate() {
                let row = b * MR + i;
                if row >= g.rows {
                    break;
                }
                let at = row * g.out_ld + p0;
                let o = &mut out[at..][..W];
                let (mut v0, mut v1) = (a[0], a[1]);
                if let Some(r) = g.res {
                    let r = &r[at..][..W];
                    v0 = _mm512_add_ps(v0, _mm512_loadu_ps(r.as_ptr()));
                    v1 = _mm512_add_ps(v1, _mm512_loadu_ps(r.as_ptr().add(16)));
                }
                if g.relu {
                    v0 = _mm512_max_ps(v0, _mm512_setzero_ps());
                    v1 = _mm512_max_ps(v1, _mm512_setzero_ps());
                }
                _mm512_storeu_ps(o.as_mut_ptr(), v0);
                _mm512_storeu_ps(o.as_mut_ptr().add(16), v1);
            }
        }
    }
    gemm_avx2(g, tiles * W, out);
}

/// The matrix product with AVX2 + FMA: [`MR`] output channels × [`NR`]
/// pixels in twelve registers, one broadcast weight and two pixel loads per
/// input channel.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gemm_avx2(g: &Gemm<'_>, from: usize, out: &mut [f32]) {
    use std::arch::x86_64::{
        _mm256_add_ps, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_max_ps,
        _mm256_set1_ps, _mm256_setzero_ps, _mm256_storeu_ps,
    };
    let k = g.k;
    let blocks = g.rows.div_ceil(MR);
    let tiles = (g.n - from) / NR;
    // Every pointer below stays inside these bounds.
    assert!(k > 0 && g.x.len() >= (k - 1) * g.x_ld + g.n);
    assert!(g.w.len() >= blocks * k * MR && g.bias.len() >= blocks * MR);
    for t in 0..tiles {
        let p0 = from + t * NR;
        let xp = g.x.as_ptr().add(p0);
        for b in 0..blocks {
            let wp = g.w.as_ptr().add(b * k * MR);
            let mut acc = [[_mm256_setzero_ps(); 2]; MR];
            for (i, a) in acc.iter_mut().enumerate() {
                let v = _mm256_set1_ps(g.bias[b * MR + i]);
                *a = [v, v];
            }
            let (mut xr, mut wr) = (xp, wp);
            for _ in 0..k {
                let (x0, x1) = (_mm256_loadu_ps(xr), _mm256_loadu_ps(xr.add(8)));
                for (i, a) in acc.iter_mut().enumerate() {
                    let wv = _mm256_broadcast_ss(&*wr.add(i));
                    a[0] = _mm256_fmadd_ps(wv, x0, a[0]);
                    a[1] = _mm256_fmadd_ps(wv, x1, a[1]);
                }
                xr = xr.wrapping_add(g.x_ld);
                wr = wr.add(MR);
            }
            for (i, a) in acc.iter().enumerate() {
                let row = b * MR + i;
                if row >= g.rows {
                    break;
                }
                let at = row * g.out_ld + p0;
                let o = &mut out[at..][..NR];
                let (mut v0, mut v1) = (a[0], a[1]);
                if let Some(r) = g.res {
                    let r = &r[at..][..NR];
                    v0 = _mm256_add_ps(v0, _mm256_loadu_ps(r.as_ptr()));
                    v1 = _mm256_add_ps(v1, _mm256_loadu_ps(r.as_ptr().add(8)));
                }
                if g.relu {
                    v0 = _mm256_max_ps(v0, _mm256_setzero_ps());
                    v1 = _mm256_max_ps(v1, _mm256_setzero_ps());
                }
                _mm256_storeu_ps(o.as_mut_ptr(), v0);
                _mm256_storeu_ps(o.as_mut_ptr().add(8), v1);
            }
        }
    }
    gemm_tail::<true>(g, from + tiles * NR, out);
}

#[inline(always)]
fn gemm_impl<const FMA: bool>(g: &Gemm<'_>, out: &mut [f32]) {
    let k = g.k;
    let blocks = g.rows.div_ceil(MR);
    let mut p0 = 0;
    while p0 + NR <= g.n {
        for b in 0..blocks {
            let wb = &g.w[b * k * MR..][..k * MR];
            let mut acc = [[0f32; NR]; MR];
            for (i, a) in acc.iter_mut().enumerate() {
                *a = [g.bias[b * MR + i]; NR];
            }
            for kk in 0..k {
                let xr = &g.x[kk * g.x_ld + p0..][..NR];
                let wr = &wb[kk * MR..][..MR];
                for (a, &wv) in acc.iter_mut().zip(wr) {
                    for (a, &xv) in a.iter_mut().zip(xr) {
                        *a = madd::<FMA>(wv, xv, *a);
                    }
                }
            }
            for (i, a) in acc.iter().enumerate() {
                let row = b * MR + i;
                if row >= g.rows {
                    break;
                }
                let base = row * g.out_ld + p0;
                let o = &mut out[base..][..NR];
                match g.res {
                    Some(r) => {
                        let r = &r[base..][..NR];
                        for ((o, &a), &r) in o.iter_mut().zip(a).zip(r) {
                            *o = a + r;
                        }
                    }
                    None => o.copy_from_slice(a),
                }
                if g.relu {
                    for v in o.iter_mut() {
                        *v = v.max(0.0);
                    }
                }
            }
        }
        p0 += NR;
    }
    gemm_tail::<FMA>(g, p0, out);
}

/// Pixels `p0..n`, one at a time.
#[inline(always)]
fn gemm_tail<const FMA: bool>(g: &Gemm<'_>, p0: usize, out: &mut [f32]) {
    let k = g.k;
    let finish = |out: &mut [f32], row: usize, p: usize, v: f32| {
        let i = row * g.out_ld + p;
        let v = match g.res {
            Some(r) => v + r[i],
            None => v,
        };
        out[i] = if g.relu { v.max(0.0) } else { v };
    };
    for p in p0..g.n {
        for (row, &bias) in g.bias[..g.rows].iter().enumerate() {
            let wb = &g.w[(row / MR) * k * MR..][..k * MR];
            let mut acc = bias;
            for kk in 0..k {
                acc = madd::<FMA>(wb[kk * MR + row % MR], g.x[kk * g.x_ld + p], acc);
            }
            finish(out, row, p, acc);
        }
    }
}

/// Depthwise 3×3, stride 1, padding 1, on `channels` planes of `h`×`w`
/// (`w ≥ 2`): `out = bias + Σ taps · in`, zero outside the plane. `taps`
/// holds nine per channel. Only output rows `ys` are computed, into `out`
/// as planes of `ys.len()` rows.
#[allow(clippy::too_many_arguments)]
pub(super) fn depthwise3(
    isa: Isa,
    input: &[f32],
    taps: &[f32],
    bias: &[f32],
    channels: usize,
    (h, w): (usize, usize),
    ys: std::ops::Range<usize>,
    out: &mut [f32],
) {
    let plane = h * w;
    let out_plane = ys.len() * w;
    let zero = vec![0f32; w];
    for c in 0..channels {
        let x = &input[c * plane..][..plane];
        let o = &mut out[c * out_plane..][..out_plane];
        let t: &[f32; 9] = taps[c * 9..][..9].try_into().unwrap_or(&[0.0; 9]);
        let inner = match isa {
            Isa::Baseline => false,
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Isa::Avx2Fma` is only chosen when the CPU has both.
            Isa::Avx2Fma | Isa::Avx512 => unsafe {
                depthwise3_inner_avx2(x, &zero, t, bias[c], h, ys.clone(), o)
            },
        };
        for y in ys.clone() {
            let rows = rows3(x, &zero, h, y);
            let o = &mut o[(y - ys.start) * w..][..w];
            if inner {
                depthwise3_row(rows, t, bias[c], o, 0..1);
                depthwise3_row(rows, t, bias[c], o, w - 1..w);
            } else {
                depthwise3_row(rows, t, bias[c], o, 0..w);
            }
        }
    }
}

/// The input rows above, at and below output row `y` of a plane `w` wide
/// (`zero` outside it).
#[inline(always)]
fn rows3<'a>(x: &'a [f32], zero: &'a [f32], h: usize, y: usize) -> [&'a [f32]; 3] {
    let w = zero.len();
    [0, 1, 2].map(|dy| {
        if (1..=h).contains(&(y + dy)) {
            &x[(y + dy - 1) * w..][..w]
        } else {
            zero
        }
    })
}

/// Columns 1..w−1 of output rows `ys` (planes `zero.len()` wide), eight at a
/// time, the last block of a row overlapping the one before if need be.
/// False, having done nothing, if the rows are too short.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn depthwise3_inner_avx2(
    x: &[f32],
    zero: &[f32],
    t: &[f32; 9],
    bias: f32,
    h: usize,
    ys: std::ops::Range<usize>,
    o: &mut [f32],
) -> bool {
    use std::arch::x86_64::{_mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_storeu_ps};
    let w = zero.len();
    if w < 10 || x.len() < h * w || o.len() < ys.len() * w {
        return false;
    }
    let k = t.map(|v| _mm256_set1_ps(v));
    let last = w - 9;
    for y in ys.clone() {
        let [r0, r1, r2] = rows3(x, zero, h, y).map(<[f32]>::as_ptr);
        let out = o.as_mut_ptr().add((y - ys.start) * w);
        let mut c = 1;
        loop {
            // Columns c..c+8 read c−1..c+9 ≤ w.
            let c0 = c.min(last);
            let (p0, p1, p2) = (r0.add(c0 - 1), r1.add(c0 - 1), r2.add(c0 - 1));
            let mut acc = _mm256_set1_ps(bias);
            acc = _mm256_fmadd_ps(k[0], _mm256_loadu_ps(p0), acc);
            acc = _mm256_fmadd_ps(k[1], _mm256_loadu_ps(p0.add(1)), acc);
            acc = _mm256_fmadd_ps(k[2], _mm256_loadu_ps(p0.add(2)), acc);
            acc = _mm256_fmadd_ps(k[3], _mm256_loadu_ps(p1), acc);
            acc = _mm256_fmadd_ps(k[4], _mm256_loadu_ps(p1.add(1)), acc);
            acc = _mm256_fmadd_ps(k[5], _mm256_loadu_ps(p1.add(2)), acc);
            acc = _mm256_fmadd_ps(k[6], _mm256_loadu_ps(p2), acc);
            acc = _mm256_fmadd_ps(k[7], _mm256_loadu_ps(p2.add(1)), acc);
            acc = _mm256_fmadd_ps(k[8], _mm256_loadu_ps(p2.add(2)), acc);
            _mm256_storeu_ps(out.add(c0), acc);
            if c0 == last {
                break;
            }
            c += 8;
        }
    }
    true
}

/// Output columns `xs` of one row, one at a time.
fn depthwise3_row(
    rows: [&[f32]; 3],
    t: &[f32; 9],
    bias: f32,
    o: &mut [f32],
    xs: std::ops::Range<usize>,
) {
    let w = o.len();
    for x in xs {
        let mut acc = bias;
        for (dy, r) in rows.iter().enumerate() {
            for dx in 0..3 {
                if (1..=w).contains(&(x + dx)) {
                    acc += t[dy * 3 + dx] * r[x + dx - 1];
                }
            }
        }
        o[x] = acc;
    }
}

/// Geometry of a 2-D window operation on one plane.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    /// Top, left (bottom and right only shape the output).
    pub pt: usize,
    pub pl: usize,
    pub oh: usize,
    pub ow: usize,
}

impl Window {
    /// For tap (`ky`, `kx`): the output rows and columns whose input under
    /// that tap lies inside the plane.
    fn valid(&self, ky: usize, kx: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let range = |k: usize, pad: usize, stride: usize, size: usize, outs: usize| {
            // in = o·stride + k − pad ∈ [0, size)
            let lo = pad.saturating_sub(k).div_ceil(stride);
            let hi = if size + pad > k {
                ((size + pad - k - 1) / stride + 1).min(outs)
            } else {
                0
            };
            lo.min(hi)..hi
        };
        (
            range(ky, self.pt, self.sh, self.h, self.oh),
            range(kx, self.pl, self.sw, self.w, self.ow),
        )
    }

    /// For tap (`ky`, `kx`), calls `f(out, in)` on every output row with
    /// the input row under that tap: `out` the outputs whose input is
    /// inside the plane, `in` starting at the first one's input pixel.
    #[inline(always)]
    fn each_row(
        &self,
        ky: usize,
        kx: usize,
        input: &[f32],
        out: &mut [f32],
        mut f: impl FnMut(&mut [f32], &[f32]),
    ) {
        let (ys, xs) = self.valid(ky, kx);
        if xs.is_empty() {
            return;
        }
        let x0 = xs.start * self.sw + kx - self.pl;
        for oy in ys {
            let iy = oy * self.sh + ky - self.pt;
            let row = &input[iy * self.w + x0..(iy + 1) * self.w];
            f(&mut out[oy * self.ow..][..self.ow][xs.clone()], row);
        }
    }
}

/// `f(out[i], row[i·step])` for every `i` of `out`.
#[inline(always)]
fn strided(out: &mut [f32], row: &[f32], step: usize, mut f: impl FnMut(&mut f32, f32)) {
    match step {
        1 => out.iter_mut().zip(row).for_each(|(o, &v)| f(o, v)),
        2 => {
            let pairs = row.chunks_exact(2);
            let last = pairs.remainder().first().copied();
            let n = pairs.len();
            out.iter_mut().zip(pairs).for_each(|(o, c)| f(o, c[0]));
            if let (Some(o), Some(v)) = (out.get_mut(n), last) {
                f(o, v);
            }
        }
        _ => out
            .iter_mut()
            .zip(row.chunks(step))
            .for_each(|(o, c)| f(o, c[0])),
    }
}

/// Depthwise convolution of one plane, any kernel, stride and padding.
pub(super) fn depthwise_any(input: &[f32], taps: &[f32], bias: f32, g: &Window, out: &mut [f32]) {
    out.fill(bias);
    for ky in 0..g.kh {
        for kx in 0..g.kw {
            let t = taps[ky * g.kw + kx];
            g.each_row(ky, kx, input, out, |o, row| {
                strided(o, row, g.sw, |o, v| *o += t * v)
            });
        }
    }
}

/// Max pooling of one plane; padding never wins.
pub(super) fn max_pool(input: &[f32], g: &Window, out: &mut [f32]) {
    out.fill(f32::NEG_INFINITY);
    for ky in 0..g.kh {
        for kx in 0..g.kw {
            g.each_row(ky, kx, input, out, |o, row| {
                strided(o, row, g.sw, |o, v| *o = o.max(v))
            });
        }
    }
}

/// The patches of output rows `y0..y1` as columns: row `(c·kh + ky)·kw + kx`
/// holds, for each output pixel of the band, the input under that tap (0 in
/// the padding). `input` is `channels` planes.
pub(super) fn im2col(
    input: &[f32],
    channels: usize,
    g: &Window,
    y0: usize,
    y1: usize,
    col: &mut [f32],
) {
    let n = (y1 - y0) * g.ow;
    let plane = g.h * g.w;
    for c in 0..channels {
        let src = &input[c * plane..][..plane];
        for ky in 0..g.kh {
            for kx in 0..g.kw {
                let r = (c * g.kh + ky) * g.kw + kx;
                let dst = &mut col[r * n..][..n];
                for oy in y0..y1 {
                    let d = &mut dst[(oy - y0) * g.ow..][..g.ow];
                    let Some(y) = (oy * g.sh + ky).checked_sub(g.pt).filter(|&y| y < g.h) else {
                        d.fill(0.0);
                        continue;
                    };
                    let row = &src[y * g.w..][..g.w];
                    let (_, xs) = g.valid(0, kx);
                    d[..xs.start].fill(0.0);
                    d[xs.end..].fill(0.0);
                    if !xs.is_empty() {
                        let x0 = xs.start * g.sw + kx - g.pl;
                        strided(&mut d[xs], &row[x0..], g.sw, |v, s| *v = s);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect()
    }

    #[test]
    fn the_matrix_product_matches_the_textbook_sum_on_every_isa_and_edge() {
        let (rows, k, n) = (7, 5, 61);
        let w = pseudo(rows * k, 1);
        let bias = pseudo(rows, 2);
        let x = pseudo(k * n, 3);
        let res = pseudo(rows * n, 4);
        let (pw, pb) = pack(&w, Some(&bias), rows, k);
        for isa in Isa::all() {
            let mut out = vec![0f32; rows * n];
            let g = Gemm {
                w: &pw,
                bias: &pb,
                rows,
                k,
                x: &x,
                x_ld: n,
                n,
                out_ld: n,
                res: Some(&res),
                relu: true,
            };
            gemm(isa, &g, &mut out);
            for (r, &b) in bias.iter().enumerate() {
                for p in 0..n {
                    let mut e = b + res[r * n + p];
                    for kk in 0..k {
                        e += w[r * k + kk] * x[kk * n + p];
                    }
                    let e = e.max(0.0);
                    assert!((out[r * n + p] - e).abs() < 1e-5, "{isa:?} {r} {p}");
                }
            }
        }
    }

    #[test]
    fn the_fast_depthwise_matches_the_general_one() {
        let (h, w) = (5, 21);
        let input = pseudo(h * w, 5);
        let taps = pseudo(9, 6);
        let g = Window {
            h,
            w,
            kh: 3,
            kw: 3,
            sh: 1,
            sw: 1,
            pt: 1,
            pl: 1,
            oh: h,
            ow: w,
        };
        let mut slow = vec![0f32; h * w];
        depthwise_any(&input, &taps, 0.25, &g, &mut slow);
        for isa in Isa::all() {
            let mut fast = vec![0f32; h * w];
            depthwise3(isa, &input, &taps, &[0.25], 1, (h, w), 0..h, &mut fast);
            // Rows 2..4 alone.
            let mut band = vec![0f32; 2 * w];
            depthwise3(isa, &input, &taps, &[0.25], 1, (h, w), 2..4, &mut band);
            assert_eq!(band, fast[2 * w..4 * w]);
            for (a, b) in fast.iter().zip(&slow) {
                assert!((a - b).abs() < 1e-5, "{isa:?}");
            }
        }
    }
}
