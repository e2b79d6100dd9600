//! Turns SDK errors into provider errors that say which call, which resource and what to do.

use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use drydock_api::{ProviderError, ProviderErrorKind};

/// Classifies an AWS error code.
pub fn kind_of(code: &str) -> ProviderErrorKind {
    match code {
        "RequestLimitExceeded"
        | "Throttling"
        | "ThrottlingException"
        | "ServiceUnavailable"
        | "InternalError"
        | "Unavailable" => ProviderErrorKind::Transient,
        "AuthFailure"
        | "UnauthorizedOperation"
        | "InvalidClientTokenId"
        | "ExpiredToken"
        | "SignatureDoesNotMatch"
        | "AccessDenied"
        | "AccessDeniedException" => ProviderErrorKind::Auth,
        "DryRunOperation" => ProviderErrorKind::DryRunOk,
        c if c.ends_with(".NotFound") => ProviderErrorKind::NotFound,
        "InvalidAMIID.Unavailable" => ProviderErrorKind::NotFound,
        _ => ProviderErrorKind::Rejected,
    }
}

/// Maps any SDK error of `call` on `resource`. `credentials` names where credentials come
/// from, for auth failures.
pub fn map<E>(
    err: SdkError<E, HttpResponse>,
    call: &str,
    resource: &str,
    credentials: &str,
) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (kind, message) = match &err {
        SdkError::ServiceError(e) => {
            let status = e.raw().status().as_u16();
            let code = e.err().code().unwrap_or("Unknown");
            let msg = one_line(e.err().message().unwrap_or(""), 200);
            let message = format!("HTTP {status} {code}: {msg}");
            // moto answers 500 "not yet implemented" for calls it lacks.
            if status == 500 || msg.contains("not yet implemented") {
                (ProviderErrorKind::Unsupported, message)
            } else {
                (kind_of(code), message)
            }
        }
        SdkError::TimeoutError(_) => (ProviderErrorKind::Unreachable, "timed out".into()),
        SdkError::DispatchFailure(_) => (
            ProviderErrorKind::Unreachable,
            format!("cannot reach the endpoint: {}", causes(&err)),
        ),
        SdkError::ResponseError(r) => {
            let raw = r.raw();
            let status = raw.status().as_u16();
            let body = raw.body().bytes().map(excerpt).unwrap_or_default();
            let kind = if status >= 500 {
                ProviderErrorKind::Unsupported
            } else {
                ProviderErrorKind::Other
            };
            let said = if body.is_empty() {
                String::new()
            } else {
                format!("; it said: {body}")
            };
            (
                kind,
                format!("HTTP {status} with a body that is not an AWS error{said}"),
            )
        }
        _ => (ProviderErrorKind::Other, causes(&err)),
    };
    let hint = match kind {
        ProviderErrorKind::Auth => format!("check the credentials from {credentials} (e.g. `aws sts get-caller-identity`) and the IAM permissions for {call}"),
        ProviderErrorKind::Transient => "retried with backoff; try again later or lower `concurrency`".into(),
        ProviderErrorKind::Unreachable => "check `endpoint_url`, the network and the region name".into(),
        ProviderErrorKind::NotFound => "rescan: the resource no longer exists".into(),
        ProviderErrorKind::Unsupported => format!("the endpoint does not implement {call}"),
        _ => String::new(),
    };
    ProviderError::new(kind, call, resource, message, hint)
}

/// An error and its sources as one line, each cause once: "a: b: c" (the SDK wraps the
/// same cause in several layers), at most 240 characters.
pub(crate) fn causes(err: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    one_line(&parts.join(": "), 240)
}

/// What a body that is not an AWS error says, for a person: an HTML page's title or first
/// text, a JSON or text body's first line; at most 80 characters.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    let lower = text.to_lowercase();
    if let (Some(a), Some(b)) = (lower.find("<title>"), lower.find("</title>")) {
        if a + 7 <= b {
            return one_line(&text[a + 7..b], 80);
        }
    }
    // Drop tags, keep the words.
    let mut plain = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => plain.push(c),
            _ => {}
        }
    }
    one_line(&plain, 80)
}

/// `s` on one line (whitespace runs become one space), cut to `max` characters with `…`.
fn one_line(s: &str, max: usize) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= max {
        return joined;
    }
    let mut out: String = joined.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::config::http::HttpResponse;
    use aws_smithy_types::body::SdkBody;

    fn response(status: u16, body: &'static str) -> HttpResponse {
        HttpResponse::new(status.try_into().unwrap(), SdkBody::from(body))
    }

    #[test]
    fn an_html_error_page_is_one_short_line_not_a_dump() {
        let page = "<!doctype html><html><head><title>502 Bad Gateway</title></head>\n<body>\n<h1>Bad Gateway</h1>\n<p>The proxy received an invalid response from an upstream server.</p></body></html>";
        let err: SdkError<aws_sdk_ec2::operation::describe_images::DescribeImagesError, _> =
            SdkError::response_error(
                std::io::Error::other("malformed JSON error body"),
                response(500, page),
            );
        let e = map(err, "ListSnapshotBlocks", "snap-0abc", "the default chain");
        let text = e.to_string();
        assert!(
            text.starts_with("ListSnapshotBlocks on snap-0abc failed: HTTP 500"),
            "{text}"
        );
        assert!(text.contains("502 Bad Gateway"), "{text}");
        for dump in [
            "ResponseError",
            "SdkBody",
            "StatusCode(",
            "headers",
            "<!doctype",
            "Some(b\"",
        ] {
            assert!(!text.contains(dump), "{dump} in {text}");
        }
        assert!(text.len() < 300, "{} chars: {text}", text.len());
    }

    #[test]
    fn a_service_error_names_status_code_and_message() {
        let meta = aws_sdk_ec2::error::ErrorMetadata::builder()
            .code("UnauthorizedOperation")
            .message("You are not authorized to perform this operation.")
            .build();
        let inner = aws_sdk_ec2::operation::describe_images::DescribeImagesError::generic(meta);
        let err = SdkError::service_error(inner, response(403, "<Response/>"));
        let e = map(err, "DescribeImages", "prod (eu-west-1)", "profile `prod`");
        assert_eq!(e.kind, ProviderErrorKind::Auth);
        let text = e.to_string();
        assert!(
            text.starts_with("DescribeImages on prod (eu-west-1) failed: HTTP 403 UnauthorizedOperation: You are not authorized"),
            "{text}"
        );
        assert!(text.contains("profile `prod`"), "{text}");
    }

    #[test]
    fn causes_are_listed_once() {
        let e = std::io::Error::other("connection refused");
        assert_eq!(causes(&e), "connection refused");
        assert_eq!(one_line("a\n  b\tc", 10), "a b c");
        assert_eq!(one_line("abcdefghijkl", 5), "abcd…");
    }
}
