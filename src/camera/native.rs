//! Real cameras through nokhwa (V4L2 on Linux, Media Foundation on Windows,
//! AVFoundation on macOS). The only file that names nokhwa types.
//!
//! nokhwa reports OS failures as strings, so [`classify`] maps the errno
//! texts of the three platforms onto our typed errors (busy, permission
//! denied, gone); anything else stays [`Error::Open`] with its source.

use std::time::Instant;

use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
    Resolution,
};
use nokhwa::{Camera, NokhwaError};

use super::devices::{choose_format, DeviceInfo, FormatInfo, OpenRequest};
use super::{Converter, Error, Frame, FrameSource, Opener, RawFormat, SourceInfo};

/// Connected cameras with their usable formats. A camera whose formats
/// cannot be read (busy) is still listed, with the reason.
///
/// # Errors
/// [`Error::Open`] when the OS camera API fails as a whole.
pub fn list() -> Result<Vec<DeviceInfo>, Error> {
    let infos = match nokhwa::query(ApiBackend::Auto) {
        Ok(i) => i,
        Err(e) => {
            return match classify("(query)", e) {
                // No video devices at all reads as "none", not as a failure.
                Error::NoCamera | Error::Lost { .. } => Ok(Vec::new()),
                other => Err(other),
            };
        }
    };
    let mut out = Vec::with_capacity(infos.len());
    for info in infos {
        let Ok(index) = info.index().as_index() else {
            continue;
        };
        let name = info.human_name();
        let (formats, formats_error) = match probe_formats(index, &name) {
            Ok(f) => (f, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        out.push(DeviceInfo {
            index,
            name,
            description: info.description().to_owned(),
            formats,
            formats_error,
        });
    }
    Ok(out)
}

fn raw_format(f: FrameFormat) -> Option<RawFormat> {
    match f {
        FrameFormat::MJPEG => Some(RawFormat::Mjpeg),
        FrameFormat::YUYV => Some(RawFormat::Yuyv),
        FrameFormat::NV12 => Some(RawFormat::Nv12),
        FrameFormat::RAWRGB => Some(RawFormat::Rgb),
        FrameFormat::GRAY | FrameFormat::RAWBGR => None,
    }
}

fn frame_format(f: RawFormat) -> FrameFormat {
    match f {
        RawFormat::Mjpeg => FrameFormat::MJPEG,
        RawFormat::Yuyv => FrameFormat::YUYV,
        RawFormat::Nv12 => FrameFormat::NV12,
        RawFormat::Rgb => FrameFormat::RAWRGB,
    }
}

fn open_camera(index: u32, device: &str) -> Result<Camera, Error> {
    Camera::new(
        CameraIndex::Index(index),
        RequestedFormat::new::<RgbFormat>(RequestedFormatType::None),
    )
    .map_err(|e| classify(device, e))
}

/// Usable formats grouped by (format, size), rates highest first.
fn group(formats: &[CameraFormat]) -> Vec<FormatInfo> {
    let mut out: Vec<FormatInfo> = Vec::new();
    for f in formats {
        let Some(format) = raw_format(f.format()) else {
            continue;
        };
        let (w, h) = (f.width(), f.height());
        match out
            .iter_mut()
            .find(|g| g.format == format && g.width == w && g.height == h)
        {
            Some(g) if !g.fps.contains(&f.frame_rate()) => g.fps.push(f.frame_rate()),
            Some(_) => {}
            None => out.push(FormatInfo {
                format,
                width: w,
                height: h,
                fps: vec![f.frame_rate()],
            }),
        }
    }
    for g in &mut out {
        g.fps.sort_unstable_by(|a, b| b.cmp(a));
    }
    out.sort_by_key(|g| (g.format as u8, u64::from(g.width) * u64::from(g.height)));
    out
}

fn probe_formats(index: u32, device: &str) -> Result<Vec<FormatInfo>, Error> {
    let mut cam = open_camera(index, device)?;
    let formats = cam
        .compatible_camera_formats()
        .map_err(|e| classify(device, e))?;
    Ok(group(&formats))
}

/// A nokhwa camera delivering RGB frames.
pub struct NativeSource {
    camera: Camera,
    info: SourceInfo,
    converter: Converter,
}

impl std::fmt::Debug for NativeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeSource")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl NativeSource {
    /// Open camera `index` with the best format for `req` (see
    /// [`choose_format`]) and start streaming.
    ///
    /// # Errors
    /// [`Error::NoCamera`] when it is absent, [`Error::Busy`],
    /// [`Error::PermissionDenied`], [`Error::FormatUnsupported`] when it
    /// offers nothing we convert, [`Error::Open`] otherwise.
    pub fn open(index: u32, req: &OpenRequest) -> Result<Self, Error> {
        let device = format!("#{index}");
        let mut camera = open_camera(index, &device)?;
        let name = camera.info().human_name();
        let formats = camera
            .compatible_camera_formats()
            .map_err(|e| classify(&name, e))?;
        let usable = group(&formats);
        let chosen = choose_format(&usable, req).ok_or_else(|| Error::FormatUnsupported {
            device: name.clone(),
            offered: formats
                .iter()
                .map(|f| format!("{} {}x{}", f.format(), f.width(), f.height()))
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        let wanted = CameraFormat::new(
            Resolution::new(chosen.width, chosen.height),
            frame_format(chosen.format),
            chosen.fps,
        );
        camera
            .set_camera_requset(RequestedFormat::new::<RgbFormat>(
                RequestedFormatType::Exact(wanted),
            ))
            .map_err(|e| classify(&name, e))?;
        camera.open_stream().map_err(|e| classify(&name, e))?;
        // The driver may adjust the request; trust what it reports.
        let actual = camera.camera_format();
        let format = raw_format(actual.format()).ok_or_else(|| Error::FormatUnsupported {
            device: name.clone(),
            offered: actual.format().to_string(),
        })?;
        Ok(Self {
            info: SourceInfo {
                name,
                width: actual.width(),
                height: actual.height(),
                fps: actual.frame_rate(),
                format,
            },
            camera,
            converter: Converter::new(),
        })
    }
}

impl FrameSource for NativeSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn next_frame(&mut self, reuse: Vec<u8>) -> Result<Frame, Error> {
        let raw = match self.camera.frame_raw() {
            Ok(r) => r,
            Err(e) => {
                return Err(match classify(&self.info.name, e) {
                    // Any read failure after a good open means the stream is gone.
                    Error::Open { device, source } => Error::Lost {
                        device,
                        reason: source.to_string(),
                    },
                    Error::NoCamera => Error::Lost {
                        device: self.info.name.clone(),
                        reason: "device disappeared".to_owned(),
                    },
                    other => other,
                });
            }
        };
        let captured = Instant::now();
        let mut px = reuse;
        let (w, h) = self.converter.to_rgb(
            self.info.format,
            &raw,
            self.info.width,
            self.info.height,
            &mut px,
        )?;
        Frame::new(px, w, h, 0, captured)
    }
}

impl Drop for NativeSource {
    fn drop(&mut self) {
        let _ = self.camera.stop_stream();
    }
}

/// An [`Opener`] for camera `index` (reopened by the pipeline after a loss),
/// its reads under the [`super::watchdog`]: nokhwa waits for a frame with no
/// time limit, so a camera that stops delivering without an error would
/// otherwise freeze the capture thread.
#[must_use]
pub fn opener(index: u32, req: OpenRequest) -> Opener {
    super::watchdog::guard(
        format!("#{index}"),
        std::sync::Arc::new(move || {
            Ok(Box::new(NativeSource::open(index, &req)?) as Box<dyn FrameSource>)
        }),
        super::watchdog::Limits::default(),
    )
}

/// Map a nokhwa error onto a typed camera error by the OS error text it
/// carries (errno names and messages from Linux, Windows and macOS).
#[must_use]
pub fn classify(device: &str, e: NokhwaError) -> Error {
    let text = e.to_string().to_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
    let device = device.to_owned();
    if has(&["busy", "ebusy", "in use", "0xc00d3704"]) {
        Error::Busy { device }
    } else if has(&[
        "permission denied",
        "eacces",
        "access is denied",
        "not authorized",
        "0x80070005",
    ]) {
        Error::PermissionDenied { device }
    } else if has(&[
        "no such device",
        "enodev",
        "no such file",
        "enoent",
        "not found",
        "0xc00d36b2",
    ]) {
        Error::NoCamera
    } else {
        Error::Open { device, source: e }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_error_texts_map_to_typed_errors() {
        let open = |m: &str| NokhwaError::OpenDeviceError("/dev/video0".into(), m.into());
        assert!(matches!(
            classify("cam", open("Device or resource busy (os error 16)")),
            Error::Busy { .. }
        ));
        assert!(matches!(
            classify("cam", open("Permission denied (os error 13)")),
            Error::PermissionDenied { .. }
        ));
        assert!(matches!(
            classify("cam", open("No such file or directory (os error 2)")),
            Error::NoCamera
        ));
        let other = classify("cam", NokhwaError::GeneralError("weird".into()));
        assert!(matches!(other, Error::Open { .. }));
        assert_eq!(other.code(), crate::ErrorCode::CameraUnavailable);
    }

    #[test]
    fn formats_are_grouped_and_unusable_ones_dropped() {
        let f = |fmt, w, h, fps| CameraFormat::new(Resolution::new(w, h), fmt, fps);
        let g = group(&[
            f(FrameFormat::MJPEG, 1920, 1080, 30),
            f(FrameFormat::MJPEG, 1920, 1080, 60),
            f(FrameFormat::GRAY, 640, 480, 30),
            f(FrameFormat::YUYV, 640, 480, 30),
        ]);
        assert_eq!(g.len(), 2);
        let mjpeg = g.iter().find(|x| x.format == RawFormat::Mjpeg).unwrap();
        assert_eq!(mjpeg.fps, vec![60, 30]);
    }

    // On a machine without cameras (CI) listing is empty and opening fails
    // with a typed error, never a panic. With a camera, it opens.
    #[test]
    fn no_device_is_reported_cleanly() {
        let devices = list().unwrap();
        if devices.is_empty() {
            let err = NativeSource::open(0, &OpenRequest::for_role(super::super::Role::Document))
                .unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::CameraUnavailable, "{err}");
        }
    }
}
