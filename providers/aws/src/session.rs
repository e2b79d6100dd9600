//! An assumed role's session, resolved once and reused until shortly before it expires:
//! the scan's up-front check (which names a refused role) and every client share it, so
//! an account costs one AssumeRole per session. Credentials live in memory only.

use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// A session is renewed this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// Caches the credentials of `inner` until `RENEW_BEFORE` their expiry.
#[derive(Debug)]
pub struct Session {
    inner: SharedCredentialsProvider,
    held: Mutex<Option<Credentials>>,
}

impl Session {
    pub fn new(inner: SharedCredentialsProvider) -> Session {
        Session {
            inner,
            held: Mutex::new(None),
        }
    }

    fn fresh(&self) -> Option<Credentials> {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.as_ref()
            .filter(|c| {
                c.expiry()
                    .is_none_or(|at| at > SystemTime::now() + RENEW_BEFORE)
            })
            .cloned()
    }
}

impl ProvideCredentials for Session {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            if let Some(c) = self.fresh() {
                return Ok(c);
            }
            let c = self.inner.provide_credentials().await?;
            *self.held.lock().unwrap_or_else(|e| e.into_inner()) = Some(c.clone());
            Ok(c)
        })
    }
}
