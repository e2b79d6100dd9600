//! Turns azure_core errors into provider errors that say which call, which resource and
//! what to do (for 401/403, which credential source was used).

use crate::CredentialSource;
use azure_core::error::ErrorKind;
use drydock_api::{ProviderError, ProviderErrorKind};

/// The HTTP status of an error, if it came from a response.
pub fn status(err: &azure_core::Error) -> Option<u16> {
    match err.kind() {
        ErrorKind::HttpResponse { status, .. } => Some(u16::from(*status)),
        _ => None,
    }
}

/// Maps `err` of `call` on `resource`.
pub fn map(
    err: &azure_core::Error,
    call: &str,
    resource: &str,
    credential: CredentialSource,
) -> ProviderError {
    let (kind, hint) = match err.kind() {
        ErrorKind::HttpResponse { status, error_code } => {
            let code = error_code.clone().unwrap_or_default();
            match u16::from(*status) {
                401 | 403 => (
                    ProviderErrorKind::Auth,
                    format!(
                        "{code}: check the role assignment of {} on this subscription",
                        credential.describe()
                    ),
                ),
                404 => (
                    ProviderErrorKind::NotFound,
                    format!("{code}: it does not exist (any more)"),
                ),
                409 if code == "ScopeLocked" => (
                    ProviderErrorKind::Rejected,
                    format!("{code}: remove the resource lock first (it blocks this change)"),
                ),
                409 => (
                    ProviderErrorKind::Rejected,
                    format!("{code}: another operation holds the resource; retry when it is done"),
                ),
                408 | 429 | 500 | 502 | 503 | 504 => (
                    ProviderErrorKind::Transient,
                    format!("{code}: Resource Manager is busy; retry later"),
                ),
                s => (
                    ProviderErrorKind::Rejected,
                    format!("{code} (HTTP {s}): Resource Manager refused the call"),
                ),
            }
        }
        ErrorKind::Io => (
            ProviderErrorKind::Unreachable,
            "cannot reach the endpoint; check `endpoint` and the network".to_string(),
        ),
        ErrorKind::Credential => (
            ProviderErrorKind::Auth,
            format!("no token from {}", credential.describe()),
        ),
        ErrorKind::DataConversion => (
            ProviderErrorKind::Other,
            "the response is not what the API specifies".to_string(),
        ),
        _ => (ProviderErrorKind::Other, String::new()),
    };
    ProviderError::new(kind, call, resource, err.to_string(), hint)
}
