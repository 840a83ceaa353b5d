//! Every way a request can fail, decoded from the answer, with words a person can act on.

use std::time::Duration;

/// A failed request. Plain data (Clone) so it can travel inside an Action.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// 400 or 422: the server refused a value. `fields` holds (field, message) pairs it could place.
    #[error("{message}")]
    Invalid {
        status: u16,
        message: String,
        fields: Vec<(String, String)>,
    },
    #[error("unauthorized: {message}")]
    Unauthorized { message: String },
    /// 403: the key is valid but may not do this.
    #[error("forbidden: {endpoint}: {message}")]
    Forbidden { endpoint: String, message: String },
    #[error("not found: {endpoint}: {message}")]
    NotFound { endpoint: String, message: String },
    #[error("rate limited")]
    RateLimited { retry_after: Option<Duration> },
    #[error("server error {status}: {message}")]
    Server { status: u16, message: String },
    /// Any other 4xx the client has no special handling for.
    #[error("HTTP {status}: {message}")]
    Refused { status: u16, message: String },
    /// No (whole) answer: connection refused, timeout, dropped connection. `sent` is false when
    /// the connection was never made (refused, DNS, connect timeout), so nothing reached the server;
    /// true when the request may have reached it and only the answer was lost.
    #[error("{} {endpoint}: {message}", if *sent { "no answer from" } else { "could not reach" })]
    Transport {
        endpoint: String,
        message: String,
        sent: bool,
    },
    /// The server answered `status` (a 2xx) to `url` (the request `endpoint`), but the body broke
    /// off before its end (the connection closed mid-answer). The request reached the server; what
    /// it did is not known.
    #[error("the answer from {url} (HTTP {status}) broke off: {message}")]
    BrokenOff {
        endpoint: String,
        url: String,
        message: String,
        status: u16,
    },
    /// Stopped before it left: what had to happen first (recording a write in the journal)
    /// failed, so nothing reached the server.
    #[error("{endpoint} was not sent: {message}")]
    NotSent { endpoint: String, message: String },
    /// A success answer (`status` is its 2xx) whose body is not what the contract promises.
    #[error("could not read the answer to {endpoint}: {message}")]
    Decode {
        endpoint: String,
        message: String,
        status: u16,
    },
}

impl ApiError {
    /// The HTTP status the server answered with; None when no answer came (nothing reached it).
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Invalid { status, .. }
            | ApiError::Server { status, .. }
            | ApiError::Refused { status, .. } => Some(*status).filter(|s| *s != 0),
            ApiError::Unauthorized { .. } => Some(401),
            ApiError::Forbidden { .. } => Some(403),
            ApiError::NotFound { .. } => Some(404),
            ApiError::RateLimited { .. } => Some(429),
            ApiError::Decode { status, .. } | ApiError::BrokenOff { status, .. } => Some(*status),
            ApiError::Transport { .. } | ApiError::NotSent { .. } => None,
        }
    }

    /// True when the request may have reached the server but its answer was lost or unreadable:
    /// a timeout or dropped connection after sending, or a success whose body could not be read.
    /// Whether a change was applied is then found out by re-reading, never guessed. False when
    /// nothing was sent and for every answer with a real HTTP status.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            ApiError::Transport { sent, .. } => *sent,
            ApiError::Decode { status, .. } | ApiError::BrokenOff { status, .. } => {
                (200..300).contains(status)
            }
            _ => false,
        }
    }

    /// One sentence for the status bar: what went wrong and what to do about it.
    pub fn user_message(&self) -> String {
        match self {
            ApiError::Invalid { message, .. } => {
                format!("The server refused the change: {message}")
            }
            ApiError::Unauthorized { message } => format!(
                "The server refused the API key (401: {message}). Check the key in REFEREE_API_KEY or the profile's api_key_env."
            ),
            ApiError::Forbidden { endpoint, message } => format!(
                "The API key is valid but lacks the rights for this ({endpoint} answered 403: {message}). Ask the account's owner for access; the key itself is fine."
            ),
            ApiError::NotFound { message, .. } => {
                format!(
                    "Not found on the server (404: {message}). It may have been deleted; press r to reload."
                )
            }
            ApiError::RateLimited { retry_after } => match retry_after {
                Some(wait) => format!(
                    "Too many requests (429). The server asks to wait {} s; try again then.",
                    wait.as_secs().max(1)
                ),
                None => "Too many requests (429). Wait a minute and try again.".to_string(),
            },
            ApiError::Server { status, message } => format!(
                "The server failed (HTTP {status}: {message}). Nothing was saved; try again in a moment."
            ),
            ApiError::Refused { status, message } => {
                format!("The server refused the request (HTTP {status}: {message}).")
            }
            ApiError::Transport {
                message,
                sent: false,
                ..
            } => format!(
                "Could not reach the server: {message}. Check base_url and that the server is running, then press r."
            ),
            // A read changes nothing on the server, so there is nothing to check before trying again.
            ApiError::Transport {
                endpoint,
                message,
                sent: true,
            } if is_read(endpoint) => {
                format!("No answer to {endpoint}: {message}. Press r to try again.")
            }
            ApiError::Transport {
                endpoint,
                message,
                sent: true,
            } => format!(
                "No answer to {endpoint}: {message}. The server may have applied it; re-read (r) to see what it holds before trying again."
            ),
            ApiError::NotSent { message, .. } => format!("Not sent: {message}."),
            ApiError::BrokenOff {
                endpoint,
                url,
                message,
                status,
            } => format!(
                "The server answered {url} (HTTP {status}) but the answer broke off ({message}). {}",
                if is_read(endpoint) {
                    "Press r to read it again."
                } else {
                    "The change may have been applied: re-read (r) to see what it holds before sending it again."
                }
            ),
            ApiError::Decode {
                endpoint,
                message,
                status,
            } => format!(
                "The server answered {endpoint} (HTTP {status}) with something the API does not promise ({message}){} Is base_url the API's address?",
                if is_read(endpoint) {
                    "."
                } else {
                    "; it may have applied the request, so re-read (r) to check."
                }
            ),
        }
    }
}

/// Whether the request named `endpoint` ("GET /referrals page 2") only reads: its answer lost
/// changes nothing on the server.
fn is_read(endpoint: &str) -> bool {
    endpoint.starts_with("GET ")
}

/// "Has already been taken" from "has already been taken", for messages shown under a field.
pub fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_answer_to_a_read_says_to_try_again_and_to_a_write_to_check_first() {
        let lost = |endpoint: &str| ApiError::Transport {
            endpoint: endpoint.into(),
            message: "timed out".into(),
            sent: true,
        };
        let read = lost("GET /referrals page 1").user_message();
        assert!(read.ends_with("Press r to try again."), "{read}");
        let write = lost("PUT /referrals/ref_1").user_message();
        assert!(write.contains("may have applied it"), "{write}");
    }

    #[test]
    fn an_answer_that_broke_off_or_cannot_be_read_speaks_of_a_change_only_for_a_write() {
        let broke = |endpoint: &str| ApiError::BrokenOff {
            endpoint: endpoint.into(),
            url: "https://api.example.com/api/v1/referrals".into(),
            message: "the connection closed mid-answer".into(),
            status: 200,
        };
        let odd = |endpoint: &str| ApiError::Decode {
            endpoint: endpoint.into(),
            message: "expected a list".into(),
            status: 200,
        };
        for error in [broke("GET /referrals page 1"), odd("GET /referrals page 1")] {
            let read = error.user_message();
            assert!(read.starts_with("The server answered"), "{read}");
            assert!(!read.contains("applied"), "a read changes nothing: {read}");
        }
        let read = broke("GET /referrals page 1").user_message();
        assert!(
            read.contains("https://api.example.com/api/v1/referrals") && read.contains("broke off"),
            "{read}"
        );
        assert!(read.ends_with("Press r to read it again."), "{read}");
        for error in [broke("PUT /referrals/ref_1"), odd("PUT /referrals/ref_1")] {
            let write = error.user_message();
            assert!(
                write.contains("may have applied") || write.contains("may have been applied"),
                "{write}"
            );
        }
    }
}
