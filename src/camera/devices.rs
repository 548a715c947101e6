//! Devices and roles: listing cameras, choosing a format for each role
//! (document camera: highest resolution; selfie camera: a screen-friendly
//! resolution at a fluid rate), and assigning devices to roles from the
//! configuration. The choice functions are pure, so they are tested here
//! without hardware.

use serde::Serialize;

use super::{Error, RawFormat};
use crate::config::CameraRoles;

/// One format a device offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormatInfo {
    pub format: RawFormat,
    pub width: u32,
    pub height: u32,
    /// Frame rates offered at this size, highest first.
    pub fps: Vec<u32>,
}

/// A camera as listed by the OS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    pub index: u32,
    pub name: String,
    pub description: String,
    /// Usable formats (MJPEG, YUYV, NV12, RGB); empty when they could not be read.
    pub formats: Vec<FormatInfo>,
    /// Why the formats could not be read (for example: busy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formats_error: Option<String>,
}

/// What `cameras` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceList {
    /// False when built without the `native-camera` feature.
    pub native_support: bool,
    pub devices: Vec<DeviceInfo>,
}

/// List connected cameras with their formats. No camera is an empty list,
/// not an error.
///
/// # Errors
/// [`Error::Open`] when the OS camera API itself fails.
pub fn list_devices() -> Result<DeviceList, Error> {
    #[cfg(feature = "native-camera")]
    {
        Ok(DeviceList {
            native_support: true,
            devices: super::native::list()?,
        })
    }
    #[cfg(not(feature = "native-camera"))]
    {
        Ok(DeviceList {
            native_support: false,
            devices: Vec::new(),
        })
    }
}

/// What a camera is used for.
pub use crate::capture::Role;

/// How to pick a format when opening a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenRequest {
    /// Wanted size; `None` means the highest resolution offered.
    pub preferred: Option<(u32, u32)>,
    /// Formats below this rate are used only if nothing else exists.
    pub min_fps: u32,
}

impl OpenRequest {
    /// The default request for a role.
    #[must_use]
    pub fn for_role(role: Role) -> Self {
        match role {
            Role::Document => Self {
                preferred: None,
                min_fps: 10,
            },
            Role::Selfie => Self {
                preferred: Some((1920, 1080)),
                min_fps: 20,
            },
        }
    }
}

/// The format chosen for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Chosen {
    pub format: RawFormat,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

/// Pick the best offered format for `req`. Compressed MJPEG is preferred at
/// equal size (USB bandwidth lets YUYV reach high resolutions only at a few
/// frames per second), then YUYV, NV12, RGB. Returns `None` when the device
/// offers none of the formats we convert.
#[must_use]
pub fn choose_format(formats: &[FormatInfo], req: &OpenRequest) -> Option<Chosen> {
    let rank = |f: RawFormat| match f {
        RawFormat::Mjpeg => 3,
        RawFormat::Yuyv => 2,
        RawFormat::Nv12 => 1,
        RawFormat::Rgb => 0,
    };
    let pixels = |w: u32, h: u32| u64::from(w) * u64::from(h);
    formats
        .iter()
        .filter_map(|f| {
            let fps = f.fps.iter().copied().max()?;
            Some((f, fps))
        })
        .max_by_key(|(f, fps)| {
            let fluid = *fps >= req.min_fps;
            let size_score: i64 = match req.preferred {
                // Highest resolution wins.
                None => pixels(f.width, f.height) as i64,
                // Closest to preferred, a bigger one beating a smaller one.
                Some((pw, ph)) => {
                    let (want, have) = (pixels(pw, ph) as i64, pixels(f.width, f.height) as i64);
                    let miss = (have - want).abs();
                    -(if have < want { miss * 4 } else { miss })
                }
            };
            (fluid, size_score, rank(f.format), *fps)
        })
        .map(|(f, fps)| Chosen {
            format: f.format,
            width: f.width,
            height: f.height,
            fps,
        })
}

/// Find the device a configuration value names: an index (`"0"`) or a name
/// (case-insensitive, a unique substring is enough). `None` picks the first.
///
/// # Errors
/// [`Error::NoCamera`] when `devices` is empty, [`Error::NotFound`] when
/// nothing (or more than one device) matches.
pub fn select_device<'a>(
    wanted: Option<&str>,
    devices: &'a [DeviceInfo],
) -> Result<&'a DeviceInfo, Error> {
    let first = devices.first().ok_or(Error::NoCamera)?;
    let Some(wanted) = wanted.map(str::trim).filter(|w| !w.is_empty()) else {
        return Ok(first);
    };
    let not_found = || Error::NotFound {
        wanted: wanted.to_owned(),
        available: devices
            .iter()
            .map(|d| format!("{}: {}", d.index, d.name))
            .collect::<Vec<_>>()
            .join(", "),
    };
    if let Ok(i) = wanted.parse::<u32>() {
        return devices.iter().find(|d| d.index == i).ok_or_else(not_found);
    }
    let lower = wanted.to_lowercase();
    if let Some(d) = devices.iter().find(|d| d.name.to_lowercase() == lower) {
        return Ok(d);
    }
    let mut hits = devices
        .iter()
        .filter(|d| d.name.to_lowercase().contains(&lower));
    match (hits.next(), hits.next()) {
        (Some(d), None) => Ok(d),
        _ => Err(not_found()),
    }
}

/// Which device serves which role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleAssignment {
    pub document: DeviceInfo,
    pub selfie: DeviceInfo,
}

impl RoleAssignment {
    /// True when one camera serves both roles (the default).
    #[must_use]
    pub fn shared(&self) -> bool {
        self.document.index == self.selfie.index
    }
}

/// Assign devices to roles from the configuration; unset roles use the
/// first camera, so one camera serves both by default.
///
/// # Errors
/// As [`select_device`], for the role that cannot be satisfied.
pub fn assign_roles(roles: &CameraRoles, devices: &[DeviceInfo]) -> Result<RoleAssignment, Error> {
    Ok(RoleAssignment {
        document: select_device(roles.document.as_deref(), devices)?.clone(),
        selfie: select_device(roles.selfie.as_deref(), devices)?.clone(),
    })
}

/// The [`super::Opener`] for `role`: the configured camera (or the first
/// one); when no camera is connected at all, the demo camera if one is given.
/// A configured camera that is missing is an error, not a silent switch to
/// the demo.
///
/// # Errors
/// [`Error::NoCamera`] with no camera and no demo, [`Error::NotFound`] for a
/// configured camera that is not connected, or a listing failure.
pub fn opener_for_role(
    role: Role,
    roles: &CameraRoles,
    demo: Option<(std::sync::Arc<super::demo::DemoFrames>, super::DemoControl)>,
) -> Result<super::Opener, Error> {
    opener_from(role, roles, &list_devices()?.devices, demo)
}

fn opener_from(
    role: Role,
    roles: &CameraRoles,
    devices: &[DeviceInfo],
    demo: Option<(std::sync::Arc<super::demo::DemoFrames>, super::DemoControl)>,
) -> Result<super::Opener, Error> {
    let wanted = match role {
        Role::Document => roles.document.as_deref(),
        Role::Selfie => roles.selfie.as_deref(),
    };
    match (select_device(wanted, devices), demo) {
        (Err(Error::NoCamera), Some((frames, control))) => {
            tracing::info!(?role, "no camera connected; using the demo camera");
            Ok(super::demo::opener(frames, control, 30))
        }
        (Err(e), _) => Err(e),
        #[cfg(feature = "native-camera")]
        (Ok(d), _) => Ok(super::native::opener(d.index, OpenRequest::for_role(role))),
        #[cfg(not(feature = "native-camera"))]
        (Ok(_), _) => Err(Error::NoCamera),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(format: RawFormat, width: u32, height: u32, fps: &[u32]) -> FormatInfo {
        FormatInfo {
            format,
            width,
            height,
            fps: fps.to_vec(),
        }
    }

    fn webcam() -> Vec<FormatInfo> {
        vec![
            fmt(RawFormat::Yuyv, 640, 480, &[30]),
            fmt(RawFormat::Yuyv, 1920, 1080, &[5]),
            fmt(RawFormat::Yuyv, 3840, 2160, &[2]),
            fmt(RawFormat::Mjpeg, 1280, 720, &[60, 30]),
            fmt(RawFormat::Mjpeg, 1920, 1080, &[30]),
            fmt(RawFormat::Mjpeg, 3840, 2160, &[15]),
        ]
    }

    fn dev(index: u32, name: &str) -> DeviceInfo {
        DeviceInfo {
            index,
            name: name.into(),
            description: String::new(),
            formats: webcam(),
            formats_error: None,
        }
    }

    #[test]
    fn document_role_takes_the_highest_resolution_preferring_mjpeg() {
        let c = choose_format(&webcam(), &OpenRequest::for_role(Role::Document)).unwrap();
        assert_eq!(
            (c.format, c.width, c.height, c.fps),
            (RawFormat::Mjpeg, 3840, 2160, 15)
        );
    }

    #[test]
    fn selfie_role_takes_1080p_at_a_fluid_rate() {
        let c = choose_format(&webcam(), &OpenRequest::for_role(Role::Selfie)).unwrap();
        assert_eq!(
            (c.format, c.width, c.height, c.fps),
            (RawFormat::Mjpeg, 1920, 1080, 30)
        );
    }

    #[test]
    fn falls_back_to_yuyv_and_to_slow_formats() {
        let yuyv_only = vec![
            fmt(RawFormat::Yuyv, 640, 480, &[30]),
            fmt(RawFormat::Yuyv, 1920, 1080, &[5]),
        ];
        let c = choose_format(&yuyv_only, &OpenRequest::for_role(Role::Selfie)).unwrap();
        // 1080p at 5 fps is not fluid: 640x480 at 30 wins.
        assert_eq!((c.width, c.fps), (640, 30));
        let slow = vec![fmt(RawFormat::Nv12, 1920, 1080, &[5])];
        let c = choose_format(&slow, &OpenRequest::for_role(Role::Selfie)).unwrap();
        assert_eq!((c.format, c.fps), (RawFormat::Nv12, 5));
        assert!(choose_format(&[], &OpenRequest::for_role(Role::Document)).is_none());
        // A size with no rate listed is ignored, not a panic.
        assert!(choose_format(
            &[fmt(RawFormat::Mjpeg, 10, 10, &[])],
            &OpenRequest::for_role(Role::Document)
        )
        .is_none());
    }

    #[test]
    fn devices_are_selected_by_index_or_name() {
        let devs = [dev(0, "Integrated Camera"), dev(2, "Logitech BRIO")];
        assert_eq!(select_device(None, &devs).unwrap().index, 0);
        assert_eq!(select_device(Some("2"), &devs).unwrap().index, 2);
        assert_eq!(select_device(Some("brio"), &devs).unwrap().index, 2);
        assert_eq!(
            select_device(Some(" logitech brio "), &devs).unwrap().index,
            2
        );
        let err = select_device(Some("1"), &devs).unwrap_err();
        assert!(err.to_string().contains("2: Logitech BRIO"), "{err}");
        assert!(matches!(
            select_device(Some("Camera x"), &devs),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(select_device(None, &[]), Err(Error::NoCamera)));
    }

    #[test]
    fn demo_camera_stands_in_only_when_no_camera_is_connected() {
        let frames =
            super::super::demo::DemoFrames::load(&super::super::demo::default_dir()).unwrap();
        let demo = || Some((frames.clone(), super::super::DemoControl::default()));
        let mut open = opener_from(Role::Selfie, &CameraRoles::default(), &[], demo()).unwrap();
        let src = open().unwrap();
        assert_eq!(src.info().name, "Demo camera");
        assert!(matches!(
            opener_from(Role::Selfie, &CameraRoles::default(), &[], None),
            Err(Error::NoCamera)
        ));
        // A configured camera that is missing is reported, not replaced.
        let roles = CameraRoles {
            document: Some("BRIO".into()),
            selfie: None,
        };
        assert!(matches!(
            opener_from(
                Role::Document,
                &roles,
                &[dev(0, "Integrated Camera")],
                demo()
            ),
            Err(Error::NotFound { .. })
        ));
    }

    #[test]
    fn one_camera_serves_both_roles_by_default() {
        let devs = [dev(0, "Integrated Camera"), dev(2, "Logitech BRIO")];
        let a = assign_roles(&CameraRoles::default(), &devs).unwrap();
        assert!(a.shared());
        let roles = CameraRoles {
            document: Some("BRIO".into()),
            selfie: None,
        };
        let a = assign_roles(&roles, &devs).unwrap();
        assert_eq!((a.document.index, a.selfie.index), (2, 0));
        assert!(!a.shared());
    }
}
