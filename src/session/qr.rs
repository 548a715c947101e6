//! The mobile-handoff QR code: the token's 8-digit `digitString`, rendered as
//! SVG (for the UI), PNG bytes (for files) and Unicode half blocks (for the
//! terminal). Pure functions over a string; no I/O.

use std::io::Cursor;

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};

use super::Error;

/// A validated digit string, ready to be rendered.
pub struct Qr {
    code: QrCode,
}

impl std::fmt::Debug for Qr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The digits let anyone finish the verification on a phone: never print them.
        f.debug_struct("Qr")
            .field("width", &self.code.width())
            .finish()
    }
}

/// Checks that `digits` is what iDenfy issues: exactly eight ASCII digits.
///
/// # Errors
/// [`Error::DigitString`] naming what is wrong (length or a non-digit).
pub fn validate(digits: &str) -> Result<(), Error> {
    let n = digits.chars().count();
    if n != 8 {
        return Err(Error::DigitString {
            reason: format!("expected 8 digits, got {n} characters"),
        });
    }
    if let Some(i) = digits.chars().position(|c| !c.is_ascii_digit()) {
        return Err(Error::DigitString {
            reason: format!("character {} is not a digit", i + 1),
        });
    }
    Ok(())
}

impl Qr {
    /// Encodes an 8-digit string (numeric mode, error correction M: a phone
    /// reads it off a screen from a metre away).
    ///
    /// # Errors
    /// [`Error::DigitString`] when `digits` is not exactly eight ASCII digits.
    pub fn new(digits: &str) -> Result<Self, Error> {
        validate(digits)?;
        let code =
            QrCode::with_error_correction_level(digits.as_bytes(), EcLevel::M).map_err(|e| {
                Error::QrRender {
                    reason: e.to_string(),
                }
            })?;
        Ok(Self { code })
    }

    /// Modules per side (without the quiet zone).
    #[must_use]
    pub fn width(&self) -> usize {
        self.code.width()
    }

    /// A standalone SVG document, black on white, with a quiet zone, at least
    /// `min_px` pixels wide.
    #[must_use]
    pub fn svg(&self, min_px: u32) -> String {
        self.code
            .render::<svg::Color<'_>>()
            .min_dimensions(min_px, min_px)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .quiet_zone(true)
            .build()
    }

    /// A grey-scale PNG, black on white, with a quiet zone, at least `min_px`
    /// pixels wide.
    ///
    /// # Errors
    /// [`Error::QrRender`] when the PNG encoder fails (it writes to memory only).
    pub fn png(&self, min_px: u32) -> Result<Vec<u8>, Error> {
        let img = self
            .code
            .render::<image::Luma<u8>>()
            .min_dimensions(min_px, min_px)
            .quiet_zone(true)
            .build();
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png)
            .map_err(|e| Error::QrRender {
                reason: e.to_string(),
            })?;
        Ok(out.into_inner())
    }

    /// Unicode half blocks (two modules per character cell), with a quiet
    /// zone. `dark_terminal` inverts the colours so that the code reads as
    /// dark on light on a terminal with a dark background.
    #[must_use]
    pub fn terminal(&self, dark_terminal: bool) -> String {
        let mut r = self.code.render::<unicode::Dense1x2>();
        r.quiet_zone(true);
        if dark_terminal {
            r.dark_color(unicode::Dense1x2::Light)
                .light_color(unicode::Dense1x2::Dark);
        }
        r.build()
    }
}

/// Groups the digits for reading aloud or typing: `1234 5678`.
#[must_use]
pub fn grouped(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + 1);
    for (i, c) in digits.chars().enumerate() {
        if i == 4 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_luma(w: usize, h: usize, px: impl Fn(usize, usize) -> u8) -> Vec<String> {
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, px);
        img.detect_grids()
            .into_iter()
            .filter_map(|g| g.decode().ok().map(|(_, s)| s))
            .collect()
    }

    #[test]
    fn png_decodes_back_to_the_digits() {
        let qr = Qr::new("48236571").unwrap();
        let png = qr.png(200).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        let img = image::load_from_memory(&png).unwrap().to_luma8();
        assert!(img.width() >= 200);
        let found = decode_luma(img.width() as usize, img.height() as usize, |x, y| {
            img.get_pixel(x as u32, y as u32).0[0]
        });
        assert_eq!(found, vec!["48236571".to_string()]);
    }

    /// Rasterises the SVG's rectangles (the renderer emits one path of
    /// `M x y h w v h H x Z`-style squares) and decodes the result.
    #[test]
    fn svg_decodes_back_to_the_digits() {
        let qr = Qr::new("00000007").unwrap();
        let svg = qr.svg(100);
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains("<svg"));
        let w: usize = attr(&svg, "width=\"").parse().unwrap();
        let h: usize = attr(&svg, "height=\"").parse().unwrap();
        let d = attr(&svg, " d=\"");
        let mut grid = vec![255u8; w * h];
        // Path segments look like `M{x} {y}h{s}v{s}H{x}Z`.
        for seg in d.split('M').filter(|s| !s.is_empty()) {
            let nums: Vec<usize> = seg
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().unwrap())
                .collect();
            let (x, y, sw, sh) = (nums[0], nums[1], nums[2], nums[3]);
            for yy in y..y + sh {
                for xx in x..x + sw {
                    grid[yy * w + xx] = 0;
                }
            }
        }
        let found = decode_luma(w, h, |x, y| grid[y * w + x]);
        assert_eq!(found, vec!["00000007".to_string()]);
    }

    fn attr<'a>(svg: &'a str, key: &str) -> &'a str {
        let start = svg.find(key).unwrap() + key.len();
        let end = start + svg[start..].find('"').unwrap();
        &svg[start..end]
    }

    /// Reads the half blocks back into modules (upper and lower half of each
    /// cell), scales them up and decodes: what a phone would see on the
    /// terminal, in both colour schemes.
    #[test]
    fn terminal_blocks_decode_back_to_the_digits() {
        for dark in [false, true] {
            let qr = Qr::new("89567412").unwrap();
            let text = qr.terminal(dark);
            let rows: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
            let cols = rows[0].len();
            assert!(rows.iter().all(|r| r.len() == cols));
            let mut modules = Vec::new(); // true = dark module as printed
            for r in &rows {
                let (mut top, mut bottom) = (Vec::new(), Vec::new());
                for &c in r {
                    let (t, b) = match c {
                        '█' => (true, true),
                        '▀' => (true, false),
                        '▄' => (false, true),
                        ' ' => (false, false),
                        other => panic!("unexpected {other:?}"),
                    };
                    top.push(t);
                    bottom.push(b);
                }
                modules.push(top);
                modules.push(bottom);
            }
            // A printed block is ink; on a dark terminal, the ink is the light colour.
            let ink_is_dark = !dark;
            let scale = 6;
            let (w, h) = (cols * scale, modules.len() * scale);
            let found = decode_luma(w, h, |x, y| {
                let ink = modules[y / scale][x / scale];
                if ink == ink_is_dark {
                    0
                } else {
                    255
                }
            });
            assert_eq!(found, vec!["89567412".to_string()], "dark={dark}");
        }
    }

    #[test]
    fn bad_digit_strings_are_clear_errors() {
        for (input, needle) in [
            ("", "got 0"),
            ("1234567", "got 7"),
            ("123456789", "got 9"),
            ("1234a678", "character 5"),
            ("12 45678", "character 3"),
            ("１２３４５６７８", "character 1"),
        ] {
            let err = Qr::new(input).unwrap_err();
            assert!(matches!(err, Error::DigitString { .. }), "{input:?}");
            assert!(err.to_string().contains(needle), "{input:?}: {err}");
            assert_eq!(err.code(), crate::ErrorCode::InvalidInput);
        }
    }

    #[test]
    fn debug_does_not_print_the_digits() {
        let qr = Qr::new("48236571").unwrap();
        assert!(!format!("{qr:?}").contains("4823"));
    }

    #[test]
    fn grouped_splits_in_fours() {
        assert_eq!(grouped("48236571"), "4823 6571");
    }
}
