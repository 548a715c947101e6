//! A probe of each connected camera for IT at a branch (`kyc-kiosk cameras
//! --probe`): opens it through the real path (nokhwa, the format the kiosk
//! would choose for its role, the [`super::watchdog`]), streams for a while
//! and measures what arrives: rate, first-frame latency, corrupt and dropped
//! frames. The last frame is handed to a judge the caller passes in (the
//! camera module knows nothing of image quality).

use std::time::{Duration, Instant};

use serde::Serialize;

use super::devices::{DeviceInfo, Role};
use super::{Error, Frame, Opener, RawFormat};
use crate::error::ErrorCode;

/// What one camera delivered.
#[derive(Debug, Clone, Serialize)]
pub struct Report<V> {
    /// The device number (`/dev/videoN` on Linux).
    pub index: u32,
    pub name: String,
    /// The role the camera serves (its format is chosen for it); a camera
    /// that serves no role is probed as a document camera.
    pub role: Role,
    /// The format, size and nominal rate chosen; `None` when it did not open.
    pub format: Option<RawFormat>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub nominal_fps: Option<u32>,
    /// From the start of the open to the device streaming-ready.
    pub open_ms: Option<u64>,
    /// From the start of the open to the first frame.
    pub first_frame_ms: Option<u64>,
    /// Good frames received.
    pub frames: u64,
    /// Measured rate between the first and the last good frame.
    pub fps: Option<f64>,
    /// Frames that arrived but did not decode (dropped by the kiosk).
    pub corrupt: u64,
    /// Frames the nominal rate promised that never arrived.
    pub dropped: u64,
    /// The judge's verdict on the last good frame.
    pub verdict: Option<V>,
    /// Why the camera could not deliver, if it could not.
    pub error: Option<Failure>,
}

/// A camera error, as the probe reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub code: ErrorCode,
    pub message: String,
}

impl From<&Error> for Failure {
    fn from(e: &Error) -> Self {
        Self {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl<V> Report<V> {
    /// True when the camera opened and streamed to the end without error.
    #[must_use]
    pub fn delivered(&self) -> bool {
        self.error.is_none() && self.frames > 0
    }
}

/// Open `device` with `open`, stream for `duration` and measure. Never
/// fails: what went wrong is in [`Report::error`].
pub fn probe<V>(
    device: &DeviceInfo,
    role: Role,
    open: &mut Opener,
    duration: Duration,
    judge: impl FnOnce(&Frame) -> V,
) -> Report<V> {
    let mut r = Report {
        index: device.index,
        name: device.name.clone(),
        role,
        format: None,
        width: None,
        height: None,
        nominal_fps: None,
        open_ms: None,
        first_frame_ms: None,
        frames: 0,
        fps: None,
        corrupt: 0,
        dropped: 0,
        verdict: None,
        error: None,
    };
    let start = Instant::now();
    let mut source = match open() {
        Ok(s) => s,
        Err(e) => {
            r.error = Some(Failure::from(&e));
            return r;
        }
    };
    r.open_ms = Some(millis(start.elapsed()));
    let info = source.info().clone();
    r.name = info.name.clone();
    r.format = Some(info.format);
    r.width = Some(info.width);
    r.height = Some(info.height);
    r.nominal_fps = Some(info.fps);
    let deadline = Instant::now() + duration;
    let (mut first, mut last_at) = (None, start);
    let mut last: Option<Frame> = None;
    let mut spare = Vec::new();
    while Instant::now() < deadline {
        match source.next_frame(std::mem::take(&mut spare)) {
            Ok(f) => {
                let now = Instant::now();
                first.get_or_insert(now);
                last_at = now;
                r.frames += 1;
                if let Some(old) = last.replace(f) {
                    spare = old.into_pixels();
                }
            }
            Err(Error::BadFrame { .. }) => r.corrupt += 1,
            Err(e) => {
                r.error = Some(Failure::from(&e));
                break;
            }
        }
    }
    drop(source);
    if let Some(first) = first {
        r.first_frame_ms = Some(millis(first - start));
        let span = (last_at - first).as_secs_f64();
        if r.frames > 1 && span > 0.0 {
            r.fps = Some((r.frames - 1) as f64 / span);
        }
        // Frames due between the first and the last one, at the nominal rate.
        let due = (span * f64::from(info.fps)).round() as u64 + 1;
        r.dropped = due.saturating_sub(r.frames + r.corrupt);
    }
    if r.error.is_none() && r.frames == 0 {
        r.error = Some(Failure::from(&Error::NoFrame {
            device: r.name.clone(),
            waited_ms: millis(duration),
        }));
    }
    r.verdict = last.as_ref().map(judge);
    r
}

/// Probe every connected camera through nokhwa, one after the other, each
/// with the format the kiosk would choose for its role in `roles`. `judge`
/// gets each camera's last frame with its role.
///
/// # Errors
/// A listing failure ([`super::list_devices`]); each camera's own failure
/// is in its report.
#[cfg(feature = "native-camera")]
pub fn probe_all<V>(
    roles: &crate::config::CameraRoles,
    duration: Duration,
    mut judge: impl FnMut(&Frame, Role) -> V,
) -> Result<Vec<Report<V>>, Error> {
    use super::devices::{self, OpenRequest};
    let list = devices::list_devices()?;
    let assigned = devices::assign_roles(roles, &list.devices).ok();
    Ok(list
        .devices
        .iter()
        .map(|d| {
            let role = match &assigned {
                Some(a) if a.selfie.index == d.index && a.document.index != d.index => Role::Selfie,
                _ => Role::Document,
            };
            let mut open = super::native::opener(d.index, OpenRequest::for_role(role));
            probe(d, role, &mut open, duration, |f| judge(f, role))
        })
        .collect())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::faulty::{Fault, FaultyCamera};

    fn device() -> DeviceInfo {
        DeviceInfo {
            index: 3,
            name: "listed name".into(),
            description: String::new(),
            formats: Vec::new(),
            formats_error: None,
        }
    }

    #[test]
    fn a_working_camera_is_measured_and_its_last_frame_judged() {
        let cam = FaultyCamera::new(64, 48, 50)
            .fail_frame(3, Fault::BadFrame)
            .fail_frame(5, Fault::BadFrame);
        let mut open = cam.opener();
        let r = probe(
            &device(),
            Role::Document,
            &mut open,
            Duration::from_millis(400),
            |f| (f.width(), f.height()),
        );
        assert!(r.delivered(), "{r:?}");
        assert_eq!(r.index, 3);
        assert_eq!(r.name, "Faulty test camera");
        assert_eq!(
            (r.width, r.height, r.nominal_fps),
            (Some(64), Some(48), Some(50))
        );
        assert_eq!(r.corrupt, 2);
        assert!(r.frames > 5, "{r:?}");
        let fps = r.fps.unwrap();
        assert!((20.0..=60.0).contains(&fps), "{fps}");
        assert!(r.first_frame_ms.is_some());
        assert_eq!(r.verdict, Some((64, 48)));
    }

    #[test]
    fn a_camera_that_cannot_open_or_goes_away_did_not_deliver() {
        let mut open = FaultyCamera::new(8, 8, 50)
            .fail_opens(&[Fault::Busy])
            .opener();
        let r = probe(
            &device(),
            Role::Selfie,
            &mut open,
            Duration::from_millis(100),
            |_| (),
        );
        assert!(!r.delivered());
        assert_eq!(r.error.unwrap().code, ErrorCode::CameraBusy);
        assert!(r.verdict.is_none() && r.format.is_none());

        let mut open = FaultyCamera::new(8, 8, 50).unplug_after(2, 1).opener();
        let r = probe(
            &device(),
            Role::Document,
            &mut open,
            Duration::from_millis(300),
            |_| (),
        );
        assert_eq!(r.frames, 2);
        assert!(!r.delivered());
        assert_eq!(r.error.unwrap().code, ErrorCode::CameraLost);
    }
}
