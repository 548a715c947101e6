//! The ports' upstream when a back-office relay is configured: token,
//! `/process`, `/status` and the results all go through
//! [`crate::backoffice::Client`], and the kiosk holds no iDenfy credential.
//! The conversions to the flow's types are here (the relay speaks the core's
//! models and error codes); no flow decision is taken here.
//!
//! A relay that cannot be reached is [`Failure::Network`], so the flow's
//! existing path applies (one `/status` question, then a retry that keeps
//! the photos). Results come by long poll: each one is acknowledged as soon
//! as it is queued here, and its id is remembered so a result the relay sends
//! again (an acknowledgement that did not arrive) is never shown twice.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::convert;
use super::types::{Failure, Outcome, RetakeReason, Side, StartRequest, Submission, TokenInfo};
use crate::backoffice::{self, Client, Delivered, Identity};
use crate::error::ErrorCode;
use crate::idenfy::models as m;

/// How long one long poll for results waits at the relay.
const POLL_WAIT: Duration = Duration::from_secs(20);
/// Pause before polling again after the relay could not be reached.
const POLL_BACKOFF: Duration = Duration::from_secs(1);

/// Whether the back office answers, for the screen ("Back office: connected
/// as NAME" or why not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Not asked yet (the first check runs in the background at start).
    Checking,
    /// The relay knows this kiosk.
    Connected {
        name: String,
        branch: Option<String>,
    },
    /// The relay refused the kiosk credential (unknown or revoked).
    Refused,
    /// The relay could not be reached (or answered that it cannot serve
    /// now, HTTP 5xx); the reason.
    Unreachable { reason: String },
    /// Something answered at the relay URL, but not as a back office (an
    /// unknown path, a page that is not its JSON): the URL is wrong.
    WrongAddress { reason: String },
}

impl Link {
    /// What the relay's answer to `me` says about the link.
    #[must_use]
    pub fn from_me(answer: Result<Identity, backoffice::Error>) -> Self {
        match answer {
            Ok(Identity { name, branch, .. }) => Self::Connected { name, branch },
            Err(backoffice::Error::Unauthorized) => Self::Refused,
            Err(e @ backoffice::Error::Refused { status, .. }) if status < 500 => {
                Self::WrongAddress {
                    reason: e.to_string(),
                }
            }
            Err(e @ backoffice::Error::Decode { .. }) => Self::WrongAddress {
                reason: e.to_string(),
            },
            Err(e) => Self::Unreachable {
                reason: e.to_string(),
            },
        }
    }

    /// One English sentence for logs and the terminal (the UI translates by kind).
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Checking => "Back office: checking the connection".into(),
            Self::Connected { name, .. } => format!("Back office: connected as {name}"),
            Self::Refused => "Back office: this kiosk's credential was refused".into(),
            Self::Unreachable { reason } => format!("Back office: not reachable ({reason})"),
            Self::WrongAddress { reason } => {
                format!("Back office: the relay URL does not answer as a back office ({reason})")
            }
        }
    }
}

/// The relay as the ports use it.
pub struct Relayed {
    client: Client,
    /// Results received and acknowledged, not yet given to the flow, per scanRef.
    queued: Mutex<HashMap<String, VecDeque<Outcome>>>,
    /// Ids of every result received, so one sent again is dropped.
    seen: Mutex<HashSet<i64>>,
}

impl Relayed {
    /// Over a relay client.
    #[must_use]
    pub fn new(client: Client) -> Self {
        Self {
            client,
            queued: Mutex::new(HashMap::new()),
            seen: Mutex::new(HashSet::new()),
        }
    }

    /// Ask the relay who this kiosk is.
    pub async fn link(&self) -> Link {
        Link::from_me(self.client.me().await)
    }

    pub(super) async fn create_token(&self, request: &StartRequest) -> Result<TokenInfo, Failure> {
        // The relay forces its own callbackUrl: none is sent from here.
        let req = convert::token_request(request, None);
        let t = if request.generate_digit_string {
            self.client.create_handoff(&req).await
        } else {
            self.client.create_token(&req).await
        }
        .map_err(|e| {
            tracing::warn!(code = %e.code(), "token creation through the relay failed");
            failure(&e)
        })?;
        // The relay keeps the authToken of a direct-processing token (it
        // submits the images itself); a hand-off token carries it for the QR.
        let resp = m::TokenResponse {
            message: None,
            auth_token: t
                .auth_token
                .unwrap_or_else(|| m::AuthToken::from(String::new())),
            scan_ref: t.scan_ref,
            client_id: t.client_id,
            first_name: None,
            last_name: None,
            locale: None,
            country: None,
            expiry_time: t.expiry_time,
            session_length: t.session_length,
            documents: None,
            token_type: Some(t.token_type),
            digit_string: t.digit_string,
            callback_url: None,
            external_ref: None,
            utility_bill: None,
            additional_steps: None,
        };
        Ok(convert::token_info(&resp, request))
    }

    pub(super) async fn process(&self, submission: &Submission) -> Result<(), Failure> {
        let sub = relay_submission(submission);
        let result = self
            .client
            .process(&m::ScanRef::from(submission.scan_ref.clone()), &sub)
            .await;
        // The copies of the images are overwritten when `sub` drops (here,
        // or wherever this future is dropped half way).
        drop(sub);
        result.map(|_| ()).map_err(|e| {
            tracing::warn!(code = %e.code(), "submission through the relay failed");
            process_failure(&e)
        })
    }

    pub(super) async fn status(&self, scan_ref: &str) -> Result<m::StatusResponse, Failure> {
        self.client
            .status(&m::ScanRef::from(scan_ref))
            .await
            .map_err(|e| failure(&e))
    }

    /// The overall status as iDenfy spells it (the CLI's last word).
    ///
    /// # Errors
    /// The relay client's error.
    pub async fn status_now(&self, scan_ref: &str) -> Result<String, backoffice::Error> {
        let s = self.client.status(&m::ScanRef::from(scan_ref)).await?;
        Ok(s.status.as_str().to_owned())
    }

    /// The next result of `scan_ref`. A relay that cannot be reached is
    /// polled again after a pause: the flow's own result timer bounds the wait.
    pub(super) async fn next_result(&self, scan_ref: &str) -> Result<Outcome, Failure> {
        loop {
            if let Some(o) = self.take(scan_ref) {
                return Ok(o);
            }
            match self.client.results(POLL_WAIT).await {
                Ok(got) => self.queue(got).await,
                Err(backoffice::Error::Unauthorized) => return Err(Failure::Unauthorized),
                Err(e) => {
                    tracing::warn!(code = %e.code(), "waiting for results: the relay did not answer");
                    tokio::time::sleep(POLL_BACKOFF).await;
                }
            }
        }
    }

    fn take(&self, scan_ref: &str) -> Option<Outcome> {
        self.queued
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(scan_ref)
            .and_then(VecDeque::pop_front)
    }

    /// Queue new results (by id, once each) and acknowledge all of them.
    async fn queue(&self, got: Vec<Delivered>) {
        if got.is_empty() {
            return;
        }
        let ids: Vec<i64> = got.iter().map(|d| d.id).collect();
        {
            let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
            let mut queued = self.queued.lock().unwrap_or_else(PoisonError::into_inner);
            for d in got {
                if seen.insert(d.id) {
                    queued
                        .entry(d.scan_ref.as_str().to_owned())
                        .or_default()
                        .push_back(convert::outcome_of_status(&d.status, d.is_final));
                }
            }
        }
        if let Err(e) = self.client.ack(&ids).await {
            // They come again; `seen` drops them then.
            tracing::warn!(code = %e.code(), "acknowledging results failed");
        }
    }

    /// Forget every queued result (the session ended: a late result of it
    /// is not shown to the next customer).
    pub(super) fn forget_all(&self) {
        self.queued
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// [`failure`] for a submission: the relay's 409 ("already submitted":
/// an earlier submission of this token is in flight, went through, or ended
/// without an answer) means the images may be at iDenfy, so the flow asks
/// `/status` as after a lost answer, never ends the session on it.
#[must_use]
pub fn process_failure(e: &backoffice::Error) -> Failure {
    match e {
        backoffice::Error::Refused {
            status: 409,
            code: ErrorCode::InvalidState,
            message,
        } => Failure::Network {
            message: message.clone(),
        },
        e => failure(e),
    }
}

/// What the flow needs to know of a relay error.
#[must_use]
pub fn failure(e: &backoffice::Error) -> Failure {
    use backoffice::Error as E;
    match e {
        E::Unauthorized => Failure::Unauthorized,
        E::Transport { .. } | E::OutcomeUnknown { .. } => Failure::Network {
            message: e.to_string(),
        },
        E::Refused { code, message, .. } => match code {
            ErrorCode::Network | ErrorCode::Timeout => Failure::Network {
                message: e.to_string(),
            },
            ErrorCode::Unauthorized => Failure::Unauthorized,
            ErrorCode::OutOfCredits => Failure::OutOfCredits,
            ErrorCode::RateLimited => Failure::RateLimited,
            ErrorCode::TokenExpired => Failure::TokenExpired,
            _ => {
                // "No image provided for step 'BACK'": retake that side only.
                let side = Side::ALL
                    .into_iter()
                    .find(|s| message.contains(&format!("'{}'", s.as_str())));
                match (side, code) {
                    (Some(side), _) => Failure::ImageRejected {
                        side,
                        reason: RetakeReason::Api(message.clone()),
                    },
                    (None, ErrorCode::ImageRetake) => Failure::ImageRejected {
                        side: Side::Front,
                        reason: RetakeReason::Api(message.clone()),
                    },
                    _ => Failure::Rejected {
                        message: message.clone(),
                    },
                }
            }
        },
        E::Invalid { .. } | E::Decode { .. } => Failure::Internal {
            message: e.to_string(),
        },
    }
}

/// The relay's form of a submission: the images as raw bytes (copies the
/// caller wipes after sending) and the photos staff accepted, for the relay's
/// audit.
fn relay_submission(submission: &Submission) -> backoffice::Submission {
    backoffice::Submission {
        country: submission.country.clone(),
        document_type: Some(submission.document_type.into()),
        images: convert::image_copies(submission),
        skip_analysis: false,
        staff_accepted: submission
            .accepted_by_staff
            .iter()
            .map(|(side, issue)| backoffice::StaffAccepted {
                side: (*side).into(),
                rule: issue.as_str().to_owned(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::Issue;
    use crate::session::{DocumentType, Still};

    #[test]
    fn the_relay_learns_which_photos_staff_accepted_and_why() {
        let sub = Submission {
            scan_ref: "s-1".into(),
            auth_token: zeroize::Zeroizing::new("a-1".into()),
            country: "LT".into(),
            document_type: DocumentType::IdCard,
            images: vec![
                Still::new(Side::Front, vec![1, 2], 1, 1),
                Still::new(Side::Back, vec![3], 1, 1),
                Still::new(Side::Face, vec![4], 1, 1),
            ],
            accepted_by_staff: vec![
                (Side::Back, Issue::DocumentCut),
                (Side::Face, Issue::SeveralFaces),
            ],
        };
        let r = relay_submission(&sub);
        assert_eq!(
            r.staff_accepted,
            vec![
                backoffice::StaffAccepted {
                    side: m::ImageSide::Back,
                    rule: "document_cut".into()
                },
                backoffice::StaffAccepted {
                    side: m::ImageSide::Face,
                    rule: "several_faces".into()
                },
            ]
        );
        assert_eq!(r.images.len(), 3);
        assert_eq!(r.images[0], (m::ImageSide::Front, vec![1, 2]));
        let none = relay_submission(&Submission {
            accepted_by_staff: Vec::new(),
            ..sub
        });
        assert!(none.staff_accepted.is_empty());
    }

    #[test]
    fn an_unreachable_relay_is_a_network_failure_the_flow_retries() {
        let refused = |code, message: &str| backoffice::Error::Refused {
            status: 502,
            code,
            message: message.into(),
        };
        assert!(matches!(
            failure(&refused(ErrorCode::Network, "upstream down")),
            Failure::Network { .. }
        ));
        assert!(matches!(
            failure(&backoffice::Error::OutcomeUnknown {
                scan_ref: m::ScanRef::from("s"),
                message: "cut".into()
            }),
            Failure::Network { .. }
        ));
        assert_eq!(
            failure(&backoffice::Error::Unauthorized),
            Failure::Unauthorized
        );
        assert_eq!(
            failure(&refused(ErrorCode::RateLimited, "slow down")),
            Failure::RateLimited
        );
        assert!(matches!(
            failure(&refused(
                ErrorCode::ApiRejected,
                "No image provided for step 'BACK'"
            )),
            Failure::ImageRejected {
                side: Side::Back,
                ..
            }
        ));
        // The relay's "already submitted" to a submission: maybe sent (the
        // flow asks /status), not a refusal that ends the session; from any
        // other route, or with another code, it stays what it was.
        let conflict = backoffice::Error::Refused {
            status: 409,
            code: ErrorCode::InvalidState,
            message: "the images for this verification were already submitted (unknown)".into(),
        };
        assert!(matches!(
            process_failure(&conflict),
            Failure::Network { .. }
        ));
        assert!(matches!(failure(&conflict), Failure::Rejected { .. }));
        assert!(matches!(
            process_failure(&refused(ErrorCode::ApiRejected, "bad country")),
            Failure::Rejected { .. }
        ));
    }

    /// A stand-in for the relay's `me` route: `good-credential-1` is
    /// "Desk 4" at branch "vilnius", anything else is refused as the relay
    /// refuses it; `/busy/…` answers 503 (the relay's database down).
    async fn stub_relay() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
        use axum::http::{HeaderMap, StatusCode};
        use axum::routing::get;
        async fn me(headers: HeaderMap) -> (StatusCode, axum::Json<serde_json::Value>) {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if auth == "Bearer good-credential-1" {
                (
                    StatusCode::OK,
                    axum::Json(serde_json::json!({
                        "id": "0b5c6f0e-0000-4000-8000-000000000004",
                        "name": "Desk 4",
                        "branch": "vilnius"
                    })),
                )
            } else {
                (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(serde_json::json!({
                        "code": "UNAUTHORIZED",
                        "message": "unknown or revoked kiosk credential"
                    })),
                )
            }
        }
        async fn busy() -> (StatusCode, axum::Json<serde_json::Value>) {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({
                    "code": "NETWORK",
                    "message": "the back office's database is unavailable; try again"
                })),
            )
        }
        let app = axum::Router::new()
            .route("/kiosk/v1/me", get(me))
            .route("/busy/kiosk/v1/me", get(busy));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        (addr, task)
    }

    async fn link_at(url: &str, credential: &str) -> Link {
        let c = Client::new(url, crate::config::Secret::new(credential)).unwrap();
        Relayed::new(c).link().await
    }

    #[tokio::test]
    async fn the_link_says_connected_as_name_or_why_not() {
        let (addr, server) = stub_relay().await;
        let base = format!("http://{addr}");
        assert_eq!(
            link_at(&base, "good-credential-1").await,
            Link::Connected {
                name: "Desk 4".into(),
                branch: Some("vilnius".into())
            }
        );
        assert_eq!(
            link_at(&base, "good-credential-1").await.describe(),
            "Back office: connected as Desk 4"
        );
        assert_eq!(link_at(&base, "revoked-credential-2").await, Link::Refused);
        // A relay that cannot serve now is "not reachable", not a wrong URL.
        assert!(matches!(
            link_at(&format!("{base}/busy"), "good-credential-1").await,
            Link::Unreachable { .. }
        ));
        // Something answers, but not as a back office: the URL is wrong.
        assert!(matches!(
            link_at(&format!("{base}/not-a-relay"), "good-credential-1").await,
            Link::WrongAddress { .. }
        ));
        server.abort();
        let _ = server.await;
        // Nothing listens any more: not reachable, and the credential is
        // never part of the reason.
        let link = link_at(&base, "good-credential-1").await;
        match &link {
            Link::Unreachable { reason } => {
                assert!(!reason.contains("good-credential-1"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// The kiosk started over a relay checks the link in the background:
    /// the start does not wait for it, and the first answer follows.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_kiosk_over_a_relay_reports_its_link() {
        use crate::session::{CameraChoice, Kiosk, KioskOptions};
        let (addr, _server) = stub_relay().await;
        let start = |key: &str| {
            let config = crate::config::RawConfig::default()
                .with_env([
                    ("KYC_KIOSK_RELAY_URL", format!("http://{addr}")),
                    ("KYC_KIOSK_RELAY_KEY", key.to_owned()),
                ])
                .validate()
                .unwrap();
            async move {
                Kiosk::start(
                    &config,
                    KioskOptions {
                        camera: CameraChoice::Stills(std::sync::Arc::default()),
                        auto_capture: None,
                        ..KioskOptions::default()
                    },
                )
                .await
                .unwrap()
            }
        };
        let k = start("good-credential-1").await;
        assert!(matches!(
            k.back_office(),
            Some(Link::Checking | Link::Connected { .. })
        ));
        assert!(matches!(
            k.back_office_checked().await,
            Some(Link::Connected { ref name, .. }) if name == "Desk 4"
        ));
        k.shutdown().await;
        let k = start("revoked-credential-2").await;
        assert_eq!(k.back_office_checked().await, Some(Link::Refused));
        k.shutdown().await;
    }
}
