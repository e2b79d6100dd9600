//! Turns SDK errors into provider errors that say which call, which resource and what to do.

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
pub fn map<E, R>(
    err: SdkError<E, R>,
    call: &str,
    resource: &str,
    credentials: &str,
) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let (kind, message) = match &err {
        SdkError::ServiceError(e) => {
            let code = e.err().code().unwrap_or("Unknown");
            let msg = e.err().message().unwrap_or("").to_string();
            let raw = e.raw();
            let raw = format!("{raw:?}");
            // moto answers 500 "not yet implemented" for calls it lacks.
            if raw.contains("status: StatusCode(500)") || msg.contains("not yet implemented") {
                (ProviderErrorKind::Unsupported, format!("{code}: {msg}"))
            } else {
                (kind_of(code), format!("{code}: {msg}"))
            }
        }
        SdkError::TimeoutError(_) => (ProviderErrorKind::Transient, "timed out".into()),
        SdkError::DispatchFailure(d) => (
            ProviderErrorKind::Transient,
            format!("cannot reach the endpoint: {d:?}"),
        ),
        SdkError::ResponseError(r) => (
            ProviderErrorKind::Unsupported,
            format!("unreadable response: {r:?}"),
        ),
        other => (ProviderErrorKind::Other, other.to_string()),
    };
    let hint = match kind {
        ProviderErrorKind::Auth => format!("check the credentials from {credentials} (e.g. `aws sts get-caller-identity`) and the IAM permissions for {call}"),
        ProviderErrorKind::Transient => "retried with backoff; try again later or lower `concurrency`".into(),
        ProviderErrorKind::NotFound => "rescan: the resource no longer exists".into(),
        ProviderErrorKind::Unsupported => format!("the endpoint does not implement {call}"),
        _ => String::new(),
    };
    ProviderError::new(kind, call, resource, message, hint)
}
