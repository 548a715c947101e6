//! Request bodies that carry customer data (names, expected data, photos)
//! and overwrite themselves when the HTTP stack is done with them. A leaf:
//! the iDenfy client and the back-office client build their bodies here.
//!
//! What this cannot reach: the HTTP stack copies a body into its own write
//! buffer and the TLS layer encrypts from its own buffers; those copies are
//! freed by hyper and rustls without being overwritten.

use serde::Serialize;
use zeroize::Zeroizing;

/// Bytes owned by a request body: wiped when the last reference (the HTTP
/// stack's) is dropped.
struct Owned(Zeroizing<Vec<u8>>);

impl AsRef<[u8]> for Owned {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A request body over `bytes` that wipes them once sent (or abandoned).
#[must_use]
pub fn body(bytes: Zeroizing<Vec<u8>>) -> reqwest::Body {
    body_of(Owned(bytes))
}

/// A body that keeps `owner` (no copy) and drops it with the last reference.
fn body_of<T: AsRef<[u8]> + Send + 'static>(owner: T) -> reqwest::Body {
    reqwest::Body::from(bytes::Bytes::from_owner(owner))
}

/// Counts what a serializer writes, to size the buffer before writing.
#[derive(Default)]
struct Count(usize);

impl std::io::Write for Count {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `value` as JSON in a buffer allocated once at its exact size (so no
/// copy is left behind by a reallocation), wiped on drop.
///
/// # Errors
/// What `serde_json` reports for a value it cannot serialize.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Zeroizing<Vec<u8>>, serde_json::Error> {
    let mut count = Count::default();
    serde_json::to_writer(&mut count, value)?;
    let mut out = Zeroizing::new(Vec::with_capacity(count.0));
    serde_json::to_writer(&mut *out, value)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_written_once_at_its_size() {
        let v = serde_json::json!({"firstName": "Jonas", "images": {"FRONT": "x".repeat(10_000)}});
        let out = json(&v).unwrap();
        assert_eq!(out.as_slice(), serde_json::to_vec(&v).unwrap().as_slice());
        assert_eq!(out.capacity(), out.len(), "no reallocation, no spare copy");
    }

    struct Flagged(Vec<u8>, std::sync::Arc<std::sync::atomic::AtomicBool>);

    impl AsRef<[u8]> for Flagged {
        fn as_ref(&self) -> &[u8] {
            &self.0
        }
    }

    impl Drop for Flagged {
        fn drop(&mut self) {
            self.1.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn a_body_hands_its_bytes_back_for_wiping_when_dropped() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let dropped = Arc::new(AtomicBool::new(false));
        let b = body_of(Flagged(b"Jonas Jonaitis".to_vec(), dropped.clone()));
        assert_eq!(b.as_bytes(), Some(&b"Jonas Jonaitis"[..]), "no copy");
        assert!(!dropped.load(Ordering::SeqCst));
        drop(b);
        // `body` owns a `Zeroizing` buffer this way: its drop is the wipe.
        assert!(dropped.load(Ordering::SeqCst));
    }
}
