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
    /// The relay knows this kiosk.
    Connected {
        name: String,
        branch: Option<String>,
    },
    /// The relay refused the kiosk credential (unknown or revoked).
    Refused,
    /// The relay could not be reached or answered oddly; the reason.
    Unreachable { reason: String },
}

impl Link {
    /// One English sentence for logs and the terminal (the UI translates by kind).
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Connected { name, .. } => format!("Back office: connected as {name}"),
            Self::Refused => "Back office: this kiosk's credential was refused".into(),
            Self::Unreachable { reason } => format!("Back office: not reachable ({reason})"),
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
        match self.client.me().await {
            Ok(Identity { name, branch, .. }) => Link::Connected { name, branch },
            Err(backoffice::Error::Unauthorized) => Link::Refused,
            Err(e) => Link::Unreachable {
                reason: e.to_string(),
            },
        }
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
        let sub = backoffice::Submission {
            country: submission.country.clone(),
            document_type: Some(submission.document_type.into()),
            images: submission
                .images
                .iter()
                .map(|s| (s.side.into(), s.jpeg.to_vec()))
                .collect(),
            skip_analysis: false,
        };
        let result = self
            .client
            .process(&m::ScanRef::from(submission.scan_ref.clone()), &sub)
            .await;
        // The copies of the images: overwrite them now.
        let mut sub = sub;
        for (_, bytes) in &mut sub.images {
            zeroize::Zeroize::zeroize(bytes);
        }
        result.map(|_| ()).map_err(|e| {
            tracing::warn!(code = %e.code(), "submission through the relay failed");
            failure(&e)
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
                let side = [Side::Front, Side::Back, Side::Face]
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

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
