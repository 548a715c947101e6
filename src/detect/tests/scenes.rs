//! Synthetic scenes in the style of the evaluation set
//! (`scripts/detect/build_eval_set.py`): a textured desk, an identity
//! document (tinted guilloche, portrait, text lines, rounded corners) or a
//! look-alike that is not one (an A4 sheet, a phone, a book).
//! Corners are known by construction. Plain RGB buffers, no dependencies.

/// A small xorshift generator: the same scene for the same seed.
pub struct Rng(u32);

impl Rng {
    pub fn new(seed: u32) -> Rng {
        Rng(seed.wrapping_mul(2_654_435_761).max(1))
    }

    pub fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }

    /// Uniform in `lo..hi`.
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * (self.next_u32() % 10_000) as f32 / 10_000.0
    }
}

/// An RGB frame.
pub struct Scene {
    pub w: u32,
    pub h: u32,
    pub px: Vec<u8>,
}

/// What lies on the desk.
#[derive(Clone, Copy, Debug)]
pub enum Object {
    /// An ID-1 card (85.60 × 53.98 mm).
    Card,
    /// A passport data page (125 × 88 mm).
    Passport,
    /// A sheet of A4 paper covered in text.
    A4,
    /// A phone: black body with rounded corners, a lit screen.
    Phone,
    /// A book: one-colour cover with a title, the page block along two edges.
    Book,
}

impl Object {
    /// Long side over short side.
    pub fn aspect(self) -> f32 {
        match self {
            Object::Card => 85.6 / 53.98,
            Object::Passport => 125.0 / 88.0,
            Object::A4 => 297.0 / 210.0,
            Object::Phone => 620.0 / 300.0,
            Object::Book => 1.45,
        }
    }
}

impl Scene {
    /// A textured desk: bricks of varying grey with bright mortar, grain
    /// and sensor noise; `light` lifts it towards white (a light desk).
    pub fn desk(w: u32, h: u32, seed: u32, light: bool) -> Scene {
        let mut rng = Rng::new(seed);
        let (bw, bh) = (rng.range(40.0, 70.0), rng.range(16.0, 26.0));
        let tilt = rng.range(-0.3, 0.3);
        let shades: Vec<f32> = (0..512).map(|_| rng.range(50.0, 120.0)).collect();
        let mut px = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                let (fx, fy) = (x as f32 + tilt * y as f32, y as f32 - tilt * x as f32);
                let row = (fy / bh).floor();
                let shift = if row as i32 % 2 == 0 { 0.0 } else { bw / 2.0 };
                let col = ((fx + shift) / bw).floor();
                let (u, v) = ((fx + shift) / bw - col, fy / bh - row);
                let mortar = u < 0.06 || v < 0.12;
                let cell = (row as i32 * 31 + col as i32 * 17).rem_euclid(512) as usize;
                let grain = (rng.next_u32() % 24) as f32;
                let mut g = if mortar { 190.0 } else { shades[cell] } + grain;
                if light {
                    g = g * 0.4 + 150.0;
                }
                let g = g.clamp(0.0, 255.0) as u8;
                px.extend([g, g.saturating_sub(4), g.saturating_sub(10)]);
            }
        }
        Scene { w, h, px }
    }

    /// Paint an object centred at `centre`, its long side `long` pixels,
    /// turned by `degrees`; returns its corners (the sharp corners of the
    /// rectangle, clockwise on screen from the long top side).
    pub fn place(
        &mut self,
        object: Object,
        centre: [f32; 2],
        long: f32,
        degrees: f32,
        seed: u32,
    ) -> [[f32; 2]; 4] {
        let mut rng = Rng::new(seed);
        let (hw, hh) = (long / 2.0, long / object.aspect() / 2.0);
        let (s, c) = degrees.to_radians().sin_cos();
        let corners = [[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]]
            .map(|[x, y]| [centre[0] + x * c - y * s, centre[1] + x * s + y * c]);
        let base = [
            rng.range(120.0, 235.0),
            rng.range(120.0, 235.0),
            rng.range(120.0, 235.0),
        ];
        let ink = [rng.range(10.0, 60.0); 3];
        let cover = [
            rng.range(30.0, 200.0),
            rng.range(30.0, 200.0),
            rng.range(30.0, 200.0),
        ];
        let screen = [
            rng.range(40.0, 200.0),
            rng.range(40.0, 200.0),
            rng.range(40.0, 200.0),
        ];
        let mosaic: Vec<[f32; 3]> = (0..64)
            .map(|_| {
                [
                    rng.range(20.0, 230.0),
                    rng.range(20.0, 200.0),
                    rng.range(20.0, 180.0),
                ]
            })
            .collect();
        let words: Vec<u32> = (0..64).map(|_| rng.next_u32()).collect();
        let radius = match object {
            Object::Phone => 0.07,
            Object::Card | Object::Passport => 3.18 / 85.6,
            _ => 0.0,
        };
        let (x0, x1) = (
            corners
                .iter()
                .map(|p| p[0])
                .fold(f32::MAX, f32::min)
                .max(0.0) as u32,
            corners
                .iter()
                .map(|p| p[0])
                .fold(f32::MIN, f32::max)
                .min(self.w as f32 - 1.0) as u32,
        );
        let (y0, y1) = (
            corners
                .iter()
                .map(|p| p[1])
                .fold(f32::MAX, f32::min)
                .max(0.0) as u32,
            corners
                .iter()
                .map(|p| p[1])
                .fold(f32::MIN, f32::max)
                .min(self.h as f32 - 1.0) as u32,
        );
        for y in y0..=y1 {
            for x in x0..=x1 {
                let (dx, dy) = (x as f32 - centre[0], y as f32 - centre[1]);
                // Object coordinates, u along the long side, both 0…1.
                let u = (dx * c + dy * s) / (2.0 * hw) + 0.5;
                let v = (-dx * s + dy * c) / (2.0 * hh) + 0.5;
                if !(0.0..=1.0).contains(&u) || !(0.0..=1.0).contains(&v) {
                    continue;
                }
                // Rounded corners, the radius a fraction of the long side.
                let (cu, cv) = ((u.min(1.0 - u)) * 2.0 * hw, (v.min(1.0 - v)) * 2.0 * hh);
                let r = radius * long;
                if cu < r && cv < r && (r - cu).hypot(r - cv) > r {
                    continue;
                }
                let rgb = match object {
                    Object::Card | Object::Passport => {
                        let guilloche =
                            0.92 + 0.08 * (0.5 + 0.5 * (u * 40.0 + (v * 25.0).sin() * 3.0).sin());
                        let mut p = base.map(|b| b * guilloche);
                        if (0.05..0.33).contains(&u) && (0.2..0.82).contains(&v) {
                            // The portrait: a mosaic photo with a face oval.
                            let (pu, pv) = ((u - 0.05) / 0.28, (v - 0.2) / 0.62);
                            let oval = ((pu - 0.5) / 0.3).powi(2) + ((pv - 0.45) / 0.35).powi(2);
                            p = if oval < 1.0 {
                                [210.0, 160.0, 130.0]
                            } else {
                                mosaic[((pu * 8.0) as usize).min(7) * 8
                                    + ((pv * 8.0) as usize).min(7)]
                            };
                        } else if u > 0.38
                            && u < 0.95
                            && text_at(&words, (u - 0.38) / 0.57, v, 0.22, 0.85)
                        {
                            p = ink;
                        }
                        p
                    }
                    Object::A4 => {
                        // Text over the whole page, the long side across.
                        if u > 0.08 && u < 0.92 && text_at(&words, v, u, 0.1, 0.9) {
                            ink
                        } else {
                            [242.0, 242.0, 238.0]
                        }
                    }
                    Object::Phone => {
                        if u > 0.05 && u < 0.95 && v > 0.05 && v < 0.95 {
                            screen
                        } else {
                            [15.0, 15.0, 18.0]
                        }
                    }
                    Object::Book => {
                        if u > 0.97 || v > 0.96 {
                            // The page block.
                            if ((u.max(v) * 300.0) as u32).is_multiple_of(3) {
                                [200.0; 3]
                            } else {
                                [235.0; 3]
                            }
                        } else if (0.3..0.45).contains(&v) && (0.15..0.85).contains(&u) {
                            [240.0, 220.0, 60.0]
                        } else {
                            cover
                        }
                    }
                };
                let i = ((y * self.w + x) * 3) as usize;
                for (px, v) in self.px[i..i + 3].iter_mut().zip(rgb) {
                    *px = v.clamp(0.0, 255.0) as u8;
                }
            }
        }
        corners
    }
}

/// Whether (`along`, `across`) falls on a word of a text line: lines between
/// `top` and `bottom` across, words of varying length along.
fn text_at(words: &[u32], along: f32, across: f32, top: f32, bottom: f32) -> bool {
    if !(top..bottom).contains(&across) {
        return false;
    }
    let line = ((across - top) / 0.07) as usize;
    let within = (across - top) / 0.07 - line as f32;
    // Thin strokes: the top and bottom of each glyph, a stem now and then.
    let glyph = along * 60.0;
    let stem = glyph.fract() < 0.15;
    if !(within < 0.06 || (within > 0.3 && within < 0.36) || (within < 0.36 && stem)) {
        return false;
    }
    let word = words[line % words.len()];
    let len = 0.4 + 0.6 * (word % 100) as f32 / 100.0;
    along < len && !(glyph as u32 / 3 + word).is_multiple_of(5)
}
