//! A watchdog on frame reads. A camera can stop delivering without an error:
//! the V4L2 read under nokhwa waits in `poll` with no timeout, so a stalled
//! device would freeze the capture thread, and the preview with it, forever.
//!
//! [`guard`] wraps a source factory in an [`Opener`] whose sources run on a
//! reader thread of their own. The capture thread asks for each frame and
//! waits a bounded time ([`Limits`]); a read that does not answer in time is
//! reported as [`Error::Lost`] (`CAMERA_LOST`) and its reader is abandoned:
//! it ends by itself, releasing the device, when the driver call returns
//! (the device answers again, or is unplugged). Reopening never waits for it:
//! each open starts a new reader. While an abandoned reader still holds the
//! device, a failed reopen is reported as the loss it is (the device is busy
//! with our own stuck read, not with another program).
//!
//! Sources are opened and read on the reader thread only, so they need not be
//! `Send` (nokhwa's cameras are not). This module knows nothing of nokhwa.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use super::{Error, Frame, FrameSource, Opener, SourceInfo};

/// Opens a source; called on a new reader thread for every (re)open.
pub type Factory = Arc<dyn Fn() -> Result<Box<dyn FrameSource>, Error> + Send + Sync>;

/// How long each step may take before the camera counts as lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Opening the device and negotiating its format.
    pub open: Duration,
    /// The first frame after opening (cameras settle exposure first).
    pub first_frame: Duration,
    /// Every later frame. The session looks at the camera's status every
    /// 200 ms, so 600 ms here shows a stalled camera as lost within a second.
    pub frame: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            open: Duration::from_secs(5),
            first_frame: Duration::from_secs(3),
            frame: Duration::from_millis(600),
        }
    }
}

impl Limits {
    /// `self` with the frame limit widened to three frame intervals for a
    /// camera slower than the limit allows.
    #[must_use]
    pub fn for_rate(self, fps: u32) -> Self {
        let three_frames = Duration::from_millis(3000 / u64::from(fps.max(1)));
        Self {
            frame: self.frame.max(three_frames),
            ..self
        }
    }
}

/// Readers alive per device key: the ones still inside a driver call after
/// being abandoned, and the one in use.
fn readers() -> MutexGuard<'static, HashMap<String, usize>> {
    static READERS: OnceLock<Mutex<HashMap<String, usize>>> = OnceLock::new();
    READERS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Readers of `device` still alive (abandoned ones included).
#[must_use]
pub fn readers_alive(device: &str) -> usize {
    readers().get(device).copied().unwrap_or(0)
}

/// Counts a reader in [`readers`] while it lives, and tells whoever waits
/// for it that it has released its source.
struct Alive {
    device: String,
    released: Arc<(Mutex<bool>, Condvar)>,
}

impl Alive {
    fn new(device: &str) -> Self {
        *readers().entry(device.to_owned()).or_insert(0) += 1;
        Self {
            device: device.to_owned(),
            released: Arc::default(),
        }
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        {
            let mut r = readers();
            if let Some(n) = r.get_mut(&self.device) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    r.remove(&self.device);
                }
            }
        }
        let (done, cv) = &*self.released;
        *done.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cv.notify_all();
    }
}

enum Reply {
    Opened(SourceInfo),
    OpenFailed(Error),
    Frame(Result<Frame, Error>),
}

/// An [`Opener`] for the sources `open` makes, each read under the watchdog.
/// `device` names the device in errors and keys its readers (use the same
/// key for every opener of one device).
#[must_use]
pub fn guard(device: impl Into<String>, open: Factory, limits: Limits) -> Opener {
    let device = device.into();
    Box::new(move || open_guarded(&device, &open, limits))
}

fn open_guarded(
    device: &str,
    open: &Factory,
    limits: Limits,
) -> Result<Box<dyn FrameSource>, Error> {
    let stuck_before = readers_alive(device);
    if stuck_before >= 2 {
        // Two reads are stuck in the driver already; a third would only pile
        // up threads. The device is lost until one of them returns.
        return Err(lost(device, "the camera still does not answer"));
    }
    let (req_tx, req_rx) = mpsc::channel::<Vec<u8>>();
    let (reply_tx, reply_rx) = mpsc::sync_channel::<Reply>(1);
    let alive = Alive::new(device);
    let released = alive.released.clone();
    let factory = open.clone();
    std::thread::Builder::new()
        .name("camera-reader".into())
        .spawn(move || read_loop(&factory, &req_rx, &reply_tx, alive))
        .map_err(|e| lost(device, &format!("cannot start a reader thread: {e}")))?;
    let fail = |e: Error| {
        if stuck_before > 0 {
            // Our own abandoned read still holds the device, which then
            // reads as busy or absent: it is the same loss.
            tracing::debug!(error = %e, "reopen failed while an earlier read is stuck");
            lost(
                device,
                "the camera stopped delivering frames and does not answer yet",
            )
        } else {
            e
        }
    };
    match reply_rx.recv_timeout(limits.open) {
        Ok(Reply::Opened(info)) => Ok(Box::new(Guarded {
            limits: limits.for_rate(info.fps),
            info,
            requests: Some(req_tx),
            replies: reply_rx,
            first: true,
            abandoned: false,
            released,
        })),
        Ok(Reply::OpenFailed(e)) => Err(fail(e)),
        Ok(Reply::Frame(_)) | Err(RecvTimeoutError::Disconnected) => {
            Err(fail(lost(device, "the camera reader ended while opening")))
        }
        Err(RecvTimeoutError::Timeout) => Err(lost(
            device,
            &format!(
                "opening did not answer within {} ms",
                limits.open.as_millis()
            ),
        )),
    }
}

fn lost(device: &str, reason: &str) -> Error {
    Error::Lost {
        device: device.to_owned(),
        reason: reason.to_owned(),
    }
}

/// The reader thread: open, then one frame per request until the requests
/// stop (the guarded source was dropped) or nobody waits for a reply (it
/// was abandoned). The source is dropped here, on the thread that made it,
/// and `alive` last, once the device is released.
fn read_loop(
    open: &Factory,
    requests: &Receiver<Vec<u8>>,
    replies: &SyncSender<Reply>,
    alive: Alive,
) {
    let mut source = match open() {
        Ok(s) => s,
        Err(e) => {
            // Nothing is held: counted out before the opener hears of it.
            drop(alive);
            let _ = replies.send(Reply::OpenFailed(e));
            return;
        }
    };
    if replies.send(Reply::Opened(source.info().clone())).is_err() {
        return;
    }
    while let Ok(reuse) = requests.recv() {
        let frame = source.next_frame(reuse);
        if replies.send(Reply::Frame(frame)).is_err() {
            break;
        }
    }
    drop(source);
    drop(alive);
}

/// A source read on its reader thread, with a time limit on every frame.
struct Guarded {
    info: SourceInfo,
    limits: Limits,
    requests: Option<Sender<Vec<u8>>>,
    replies: Receiver<Reply>,
    first: bool,
    abandoned: bool,
    released: Arc<(Mutex<bool>, Condvar)>,
}

impl FrameSource for Guarded {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn next_frame(&mut self, reuse: Vec<u8>) -> Result<Frame, Error> {
        let name = self.info.name.clone();
        if self.abandoned {
            return Err(lost(&name, "the camera stopped delivering frames"));
        }
        let sent = self
            .requests
            .as_ref()
            .is_some_and(|r| r.send(reuse).is_ok());
        if !sent {
            return Err(lost(&name, "the camera reader ended"));
        }
        let limit = if self.first {
            self.limits.first_frame
        } else {
            self.limits.frame
        };
        let asked = Instant::now();
        match self.replies.recv_timeout(limit) {
            Ok(Reply::Frame(r)) => {
                self.first = false;
                r
            }
            Ok(Reply::Opened(_) | Reply::OpenFailed(_)) => {
                Err(lost(&name, "the camera reader answered out of turn"))
            }
            Err(RecvTimeoutError::Disconnected) => Err(lost(&name, "the camera reader ended")),
            Err(RecvTimeoutError::Timeout) => {
                self.abandoned = true;
                tracing::warn!(camera = %name, waited_ms = asked.elapsed().as_millis(), "frame read stalled; abandoning the reader");
                Err(lost(
                    &name,
                    &format!(
                        "no frame for {} ms (the camera stopped answering)",
                        limit.as_millis()
                    ),
                ))
            }
        }
    }
}

impl Drop for Guarded {
    /// Ends the reader. One that is idle releases the device before this
    /// returns (a pipeline reopening the same camera finds it free); an
    /// abandoned one, stuck in the driver, is not waited for.
    fn drop(&mut self) {
        self.requests = None;
        if self.abandoned {
            return;
        }
        let (done, cv) = &*self.released;
        let guard = done.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = cv
            .wait_timeout_while(guard, self.limits.frame, |d| !*d)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::RawFormat;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

    /// A source whose reads block while `stalled` is set.
    struct Blocking {
        info: SourceInfo,
        stalled: Arc<AtomicBool>,
    }

    impl FrameSource for Blocking {
        fn info(&self) -> &SourceInfo {
            &self.info
        }
        fn next_frame(&mut self, _reuse: Vec<u8>) -> Result<Frame, Error> {
            while self.stalled.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(5));
            }
            std::thread::sleep(Duration::from_millis(10));
            Frame::new(vec![0; 2 * 2 * 3], 2, 2, 0, Instant::now())
        }
    }

    fn factory(
        stalled: &Arc<AtomicBool>,
        opens: &Arc<AtomicU32>,
        busy_while_stuck: bool,
        key: &'static str,
    ) -> Factory {
        let stalled = stalled.clone();
        let opens = opens.clone();
        Arc::new(move || {
            // A device held by a stuck read refuses a second reader.
            if busy_while_stuck && readers_alive(key) > 1 {
                return Err(Error::Busy {
                    device: key.to_owned(),
                });
            }
            opens.fetch_add(1, Ordering::Relaxed);
            Ok(Box::new(Blocking {
                info: SourceInfo {
                    name: "blocking".into(),
                    width: 2,
                    height: 2,
                    fps: 100,
                    format: RawFormat::Rgb,
                },
                stalled: stalled.clone(),
            }) as Box<dyn FrameSource>)
        })
    }

    fn quick() -> Limits {
        Limits {
            open: Duration::from_secs(2),
            first_frame: Duration::from_millis(300),
            frame: Duration::from_millis(100),
        }
    }

    #[test]
    fn a_stalled_read_is_lost_in_time_and_reopening_waits_for_the_device() {
        let key = "test-stall";
        let stalled = Arc::new(AtomicBool::new(false));
        let opens = Arc::new(AtomicU32::new(0));
        let mut open = guard(key, factory(&stalled, &opens, true, key), quick());
        let mut src = open().unwrap();
        assert!(src.next_frame(Vec::new()).is_ok());
        stalled.store(true, Ordering::Release);
        let t = Instant::now();
        let err = src.next_frame(Vec::new()).unwrap_err();
        assert!(
            t.elapsed() < Duration::from_millis(400),
            "{:?}",
            t.elapsed()
        );
        assert!(matches!(err, Error::Lost { .. }), "{err}");
        assert_eq!(err.code(), crate::ErrorCode::CameraLost);
        drop(src);
        // The stuck reader still holds the device: reopening is refused as a
        // loss (not as "busy"), and returns at once.
        let t = Instant::now();
        let err = open().err().expect("device still held");
        assert_eq!(err.code(), crate::ErrorCode::CameraLost, "{err}");
        assert!(t.elapsed() < Duration::from_millis(500));
        // The device answers again: the stuck reader ends, a reopen works.
        stalled.store(false, Ordering::Release);
        let deadline = Instant::now() + Duration::from_secs(5);
        while readers_alive(key) > 0 {
            assert!(Instant::now() < deadline, "the abandoned reader ended");
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut src = open().unwrap();
        assert!(src.next_frame(Vec::new()).is_ok());
        drop(src);
        // Dropping a healthy source releases the device before returning.
        assert_eq!(readers_alive(key), 0);
        assert_eq!(opens.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn errors_of_the_source_pass_through() {
        let key = "test-errors";
        let mut open = guard(
            key,
            Arc::new(|| Err(Error::PermissionDenied { device: "x".into() })),
            quick(),
        );
        assert!(matches!(open(), Err(Error::PermissionDenied { .. })));
        assert_eq!(readers_alive(key), 0);
    }

    #[test]
    fn slow_cameras_get_three_frame_intervals() {
        let d = Limits::default();
        assert_eq!(d.for_rate(30).frame, Duration::from_millis(600));
        assert_eq!(d.for_rate(2).frame, Duration::from_millis(1500));
        assert_eq!(d.for_rate(0).frame, Duration::from_secs(3));
    }
}
