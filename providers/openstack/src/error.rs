//! OpenStack answers as drydock's provider errors: the HTTP status decides the kind, the
//! service's own message (Nova's `{"itemNotFound": {"message": …}}`, Glance's and
//! Keystone's `{"error": {"message": …}}`, or plain text) is kept, and a hint says what
//! to do.

use drydock_api::{ProviderError, ProviderErrorKind};

/// The message inside an error body, whatever the service's shape.
pub fn message(body: &[u8]) -> String {
    fn find(v: &serde_json::Value) -> Option<String> {
        let o = v.as_object()?;
        for key in ["message", "title", "description", "faultstring"] {
            if let Some(m) = o.get(key).and_then(|m| m.as_str()) {
                return Some(m.to_string());
            }
        }
        o.values().find_map(find)
    }
    if let Some(m) = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .as_ref()
        .and_then(find)
    {
        return m;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let mut out: String = text.chars().take(200).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// A non-2xx answer of `call` on `resource`.
pub fn status(code: u16, body: &[u8], call: &str, resource: &str) -> ProviderError {
    let (kind, hint) = match code {
        401 => (
            ProviderErrorKind::Auth,
            "the token was refused; check the cloud's credentials",
        ),
        403 => (
            ProviderErrorKind::Auth,
            "the project's role does not allow this; ask the cloud's admins for the role",
        ),
        404 => (
            ProviderErrorKind::NotFound,
            "it may have been deleted; scan again",
        ),
        409 => (
            ProviderErrorKind::Rejected,
            "the resource is busy or in a state that does not allow this; retry when it settles",
        ),
        413 => (
            ProviderErrorKind::Rejected,
            "over the project's quota or the service's size limit",
        ),
        400 | 406 | 415 | 422 => (
            ProviderErrorKind::Rejected,
            "the service refused the request",
        ),
        429 => (
            ProviderErrorKind::Transient,
            "the service is throttling; retry later or lower concurrency",
        ),
        500..=599 => (
            ProviderErrorKind::Transient,
            "the service failed; retry later",
        ),
        _ => (ProviderErrorKind::Other, ""),
    };
    let m = message(body);
    let message = if m.is_empty() {
        format!("HTTP {code}")
    } else {
        format!("HTTP {code}: {m}")
    };
    ProviderError::new(kind, call, resource, message, hint)
}

/// A request that got no answer.
pub fn transport(e: &reqwest::Error, call: &str, resource: &str) -> ProviderError {
    let url = e.url().map(|u| u.to_string()).unwrap_or_default();
    let why = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(inner) = src {
            s = format!("{s}: {inner}");
            src = inner.source();
        }
        s
    };
    ProviderError::new(
        ProviderErrorKind::Unreachable,
        call,
        resource,
        format!("{url}: {why}"),
        "check the endpoint is reachable from here (auth_url, the catalog's interface)",
    )
}

/// `body` as JSON of type `T`.
pub fn json<T: serde::de::DeserializeOwned>(
    body: &[u8],
    call: &str,
    resource: &str,
) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|e| {
        ProviderError::new(
            ProviderErrorKind::Other,
            call,
            resource,
            format!("unexpected answer: {e}"),
            "the endpoint is not the OpenStack service the catalog names",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_come_out_of_every_shape() {
        assert_eq!(
            message(
                br#"{"itemNotFound": {"code": 404, "message": "Instance x could not be found."}}"#
            ),
            "Instance x could not be found."
        );
        assert_eq!(
            message(br#"{"error": {"code": 401, "message": "no"}}"#),
            "no"
        );
        assert_eq!(
            message(b"404 Not Found\n\nNo image found"),
            "404 Not Found\n\nNo image found"
        );
        let e = status(409, b"{}", "DELETE /v2/images/x", "x");
        assert_eq!(e.kind, ProviderErrorKind::Rejected);
        assert!(
            e.to_string()
                .contains("DELETE /v2/images/x on x failed: HTTP 409"),
            "{e}"
        );
    }
}
