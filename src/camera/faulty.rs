//! A camera that fails on purpose, to test recovery without hardware: it can
//! refuse to open (busy, permission denied, no camera, unsupported format),
//! deliver corrupt frames, and be "unplugged" after a number of frames and
//! come back after a number of failed reopen attempts.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{Error, Frame, FrameSource, Opener, RawFormat, SourceInfo};

/// A failure to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Opening fails: no camera connected.
    NoCamera,
    /// Opening fails: another program holds it.
    Busy,
    /// Opening fails: access denied.
    PermissionDenied,
    /// Opening fails: no usable format.
    FormatUnsupported,
    /// One corrupt frame.
    BadFrame,
}

impl Fault {
    fn error(self, device: &str) -> Error {
        let device = device.to_owned();
        match self {
            Self::NoCamera => Error::NoCamera,
            Self::Busy => Error::Busy { device },
            Self::PermissionDenied => Error::PermissionDenied { device },
            Self::FormatUnsupported => Error::FormatUnsupported {
                device,
                offered: "GRAY 320x240".to_owned(),
            },
            Self::BadFrame => Error::BadFrame {
                format: RawFormat::Mjpeg,
                detail: "truncated test frame".to_owned(),
            },
        }
    }
}

#[derive(Debug, Default)]
struct Plan {
    open_faults: VecDeque<Fault>,
    frame_faults: VecDeque<(u64, Fault)>,
    unplug_after: Option<u64>,
    reopen_failures: u32,
    opens: u32,
    delivered: u64,
}

/// Builder and handle of a misbehaving camera. Clone it to inspect the
/// counters while a pipeline runs it.
#[derive(Debug, Clone)]
pub struct FaultyCamera {
    name: String,
    width: u32,
    height: u32,
    fps: u32,
    plan: Arc<Mutex<Plan>>,
}

impl FaultyCamera {
    /// A synthetic camera of `width x height` at `fps` (a moving bar on grey).
    #[must_use]
    pub fn new(width: u32, height: u32, fps: u32) -> Self {
        Self {
            name: "Faulty test camera".to_owned(),
            width: width.max(2),
            height: height.max(2),
            fps: fps.clamp(1, 1000),
            plan: Arc::default(),
        }
    }

    fn plan(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Successive open attempts fail with these faults, then succeed.
    #[must_use]
    pub fn fail_opens(self, faults: &[Fault]) -> Self {
        self.plan().open_faults.extend(faults.iter().copied());
        self
    }

    /// After `frames` delivered frames the camera is unplugged: the next
    /// read fails with [`Error::Lost`], and the next `reopen_failures` open
    /// attempts fail with [`Error::NoCamera`] before it comes back.
    #[must_use]
    pub fn unplug_after(self, frames: u64, reopen_failures: u32) -> Self {
        {
            let mut p = self.plan();
            p.unplug_after = Some(frames);
            p.reopen_failures = reopen_failures;
        }
        self
    }

    /// Deliver `fault` instead of the frame numbered `at` (1-based, counted
    /// over the camera's whole life).
    #[must_use]
    pub fn fail_frame(self, at: u64, fault: Fault) -> Self {
        self.plan().frame_faults.push_back((at, fault));
        self
    }

    /// Successful opens so far.
    #[must_use]
    pub fn opens(&self) -> u32 {
        self.plan().opens
    }

    /// Frames delivered so far.
    #[must_use]
    pub fn delivered(&self) -> u64 {
        self.plan().delivered
    }

    /// An [`Opener`] for a [`super::Pipeline`].
    #[must_use]
    pub fn opener(&self) -> Opener {
        let cam = self.clone();
        Box::new(move || {
            let mut p = cam.plan();
            if let Some(f) = p.open_faults.pop_front() {
                return Err(f.error(&cam.name));
            }
            if p.reopen_failures > 0 && p.unplug_after.is_none() {
                p.reopen_failures -= 1;
                return Err(Error::NoCamera);
            }
            p.opens += 1;
            drop(p);
            Ok(Box::new(FaultySource {
                cam: cam.clone(),
                info: SourceInfo {
                    name: cam.name.clone(),
                    width: cam.width,
                    height: cam.height,
                    fps: cam.fps,
                    format: RawFormat::Rgb,
                },
                next_due: Instant::now(),
            }) as Box<dyn FrameSource>)
        })
    }
}

struct FaultySource {
    cam: FaultyCamera,
    info: SourceInfo,
    next_due: Instant,
}

impl FrameSource for FaultySource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn next_frame(&mut self, reuse: Vec<u8>) -> Result<Frame, Error> {
        let now = Instant::now();
        if self.next_due > now {
            std::thread::sleep(self.next_due - now);
        }
        self.next_due = Instant::now() + Duration::from_secs(1) / self.cam.fps;
        let n = {
            let mut p = self.cam.plan();
            if p.unplug_after.is_some_and(|u| p.delivered >= u) {
                // Unplugged: this read fails and reopening fails for a while.
                p.unplug_after = None;
                return Err(Error::Lost {
                    device: self.cam.name.clone(),
                    reason: "No such device (test unplug)".to_owned(),
                });
            }
            p.delivered += 1;
            let n = p.delivered;
            if let Some(i) = p.frame_faults.iter().position(|(at, _)| *at == n) {
                let (_, f) = p.frame_faults.remove(i).unwrap_or((n, Fault::BadFrame));
                return Err(f.error(&self.cam.name));
            }
            n
        };
        let (w, h) = (self.info.width as usize, self.info.height as usize);
        let mut px = reuse;
        px.clear();
        px.resize(w * h * 3, 96);
        // A bright bar moving one column per frame.
        let bar = (n as usize) % w;
        for y in 0..h {
            let i = (y * w + bar) * 3;
            px[i..i + 3].copy_from_slice(&[255, 255, 255]);
        }
        Frame::new(px, self.info.width, self.info.height, 0, Instant::now())
    }
}
