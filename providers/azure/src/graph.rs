//! Azure Resource Graph: a tenant's VMs and scale-set VMs across all its subscriptions in
//! one paged query each
//! (`POST /providers/Microsoft.ResourceGraph/resources`, 1,000 rows a page, `$skipToken`,
//! ordered by id so pages neither skip nor repeat rows), the user quota headers honoured
//! (`x-ms-user-quota-remaining` / `x-ms-user-quota-resets-after`), the 10,000-subscription
//! cap reported. A subscription Resource Graph refuses is left out of the query and read by
//! its own provider's lists. One `Graph` per tenant, shared by its subscriptions' providers;
//! the first scan runs the query.

use crate::credential::SCOPE;
use azure_core::auth::TokenCredential;
use azure_core::{Method, Request, Url};
use drydock_api::{ProviderError, ProviderErrorKind};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The API version of Resources_Query.
pub const GRAPH_API: &str = "2022-10-01";
/// Rows asked for per page (the service's maximum).
const PAGE: u64 = 1000;
/// Pages followed at most (a million VMs).
const MAX_PAGES: usize = 2000;
/// The queries: VMs, and scale-set VMs (the `ComputeResources` table), with what a scan
/// reads of them, in id order.
const VMS: &str = "Resources | where type =~ 'microsoft.compute/virtualmachines' | project id, name, type, location, subscriptionId, tags, properties | order by id asc";
const SCALE_SET_VMS: &str = "ComputeResources | where type =~ 'microsoft.compute/virtualmachinescalesets/virtualmachines' | project id, name, type, location, subscriptionId, tags, sku, properties | order by id asc";

/// What the query returned, by subscription.
#[derive(Debug, Default)]
pub struct Rows {
    /// Lower-cased subscription id → its VMs (ARM resource JSON, power state included).
    pub vms: HashMap<String, Vec<Value>>,
    /// Lower-cased subscription id → its scale-set VMs.
    pub scale_set_vms: HashMap<String, Vec<Value>>,
    /// Subscriptions Resource Graph refused (lower-cased): read by their own lists.
    pub refused: HashSet<String>,
    pub pages: usize,
    /// The service capped the subscriptions it looked at (more than 10,000 visible).
    pub capped: bool,
}

/// A tenant's Resource Graph, queried once for all its subscriptions.
pub struct Graph {
    endpoint: Url,
    credential: Arc<dyn TokenCredential>,
    subscriptions: Mutex<Vec<String>>,
    /// The last answer and when it came: the providers of one scan share it; the next scan
    /// (a dashboard refresh, a plan's reconcile) queries again.
    rows: tokio::sync::Mutex<Option<(std::time::Instant, Answer)>>,
}

/// What one query gave.
type Answer = Result<Arc<Rows>, ProviderError>;

/// How long one query's rows serve the tenant's providers (one scan).
const FRESH: Duration = Duration::from_secs(30);

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph")
            .field("endpoint", &self.endpoint.as_str())
            .finish()
    }
}

fn header(rsp: &azure_core::Response, name: &'static str) -> Option<String> {
    rsp.headers()
        .get_optional_string(&azure_core::headers::HeaderName::from_static(name))
}

/// `hh:mm:ss(.fff)` → a duration (at most a minute is waited).
fn resets_after(v: &str) -> Duration {
    let mut secs = 0.0;
    for part in v.split(':') {
        secs = secs * 60.0 + part.trim().parse::<f64>().unwrap_or(0.0);
    }
    Duration::from_secs_f64(secs.clamp(0.0, 60.0))
}

impl Graph {
    pub fn new(endpoint: Url, credential: Arc<dyn TokenCredential>) -> Graph {
        Graph {
            endpoint,
            credential,
            subscriptions: Mutex::new(Vec::new()),
            rows: tokio::sync::Mutex::new(None),
        }
    }

    /// Adds a subscription to the query (before the first scan).
    pub fn add(&self, subscription: &str) {
        let mut s = self.subscriptions.lock().unwrap_or_else(|e| e.into_inner());
        if !s.iter().any(|x| x.eq_ignore_ascii_case(subscription)) {
            s.push(subscription.to_string());
        }
    }

    /// The rows: queried by the first provider of a scan, shared with the others (they wait
    /// for it), queried again once older than a scan.
    pub async fn rows(&self) -> Result<Arc<Rows>, ProviderError> {
        let mut held = self.rows.lock().await;
        if let Some((at, rows)) = held.as_ref() {
            if at.elapsed() < FRESH {
                return rows.clone();
            }
        }
        let rows = self.query().await.map(Arc::new);
        *held = Some((std::time::Instant::now(), rows.clone()));
        rows
    }

    fn error(&self, kind: ProviderErrorKind, message: String, hint: &str) -> ProviderError {
        ProviderError::new(kind, "Resources_Query", "Resource Graph", message, hint)
    }

    async fn query(&self) -> Result<Rows, ProviderError> {
        let mut subs: Vec<String> = self
            .subscriptions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut rows = Rows::default();
        rows.vms = self.run(VMS, &mut subs, &mut rows).await?;
        if !subs.is_empty() {
            rows.scale_set_vms = self.run(SCALE_SET_VMS, &mut subs, &mut rows).await?;
        }
        Ok(rows)
    }

    /// Pages through `query` over `subs`; a subscription refused is taken out of `subs` and
    /// noted in `rows`, and the query starts again without it.
    async fn run(
        &self,
        query: &str,
        subs: &mut Vec<String>,
        rows: &mut Rows,
    ) -> Result<HashMap<String, Vec<Value>>, ProviderError> {
        let mut found: HashMap<String, Vec<Value>> = HashMap::new();
        let mut skip: Option<String> = None;
        let mut waits = 0;
        while !subs.is_empty() {
            if rows.pages >= MAX_PAGES {
                break;
            }
            let mut options = json!({"$top": PAGE, "resultFormat": "objectArray"});
            if let Some(t) = &skip {
                options["$skipToken"] = json!(t);
            }
            let body = json!({"subscriptions": subs, "query": query, "options": options});
            let (status, headers, answer) = self.post(&body).await?;
            let (remaining, resets) = headers;
            if status == 429 && waits < 10 {
                waits += 1;
                tokio::time::sleep(resets.unwrap_or(Duration::from_secs(1))).await;
                continue;
            }
            if status == 403 {
                // The refused subscriptions are named in the details: query the others.
                let named: Vec<String> = answer["error"]["details"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d["subscriptionId"].as_str())
                    .map(str::to_lowercase)
                    .collect();
                let before = subs.len();
                subs.retain(|s| !named.contains(&s.to_lowercase()));
                if named.is_empty() || subs.len() == before {
                    // Refused as a whole: every subscription reads its own lists.
                    rows.refused.extend(subs.iter().map(|s| s.to_lowercase()));
                    subs.clear();
                    return Ok(HashMap::new());
                }
                rows.refused.extend(named);
                found.clear();
                skip = None;
                continue;
            }
            if status >= 400 {
                let code = answer["error"]["code"].as_str().unwrap_or("");
                let message = answer["error"]["message"].as_str().unwrap_or("");
                return Err(self.error(
                    if status == 429 {
                        ProviderErrorKind::Transient
                    } else {
                        ProviderErrorKind::Rejected
                    },
                    format!("HTTP {status} {code}: {message}"),
                    "the subscriptions' own lists are read instead",
                ));
            }
            rows.pages += 1;
            for r in answer["data"].as_array().into_iter().flatten() {
                let Some(sub) = r["subscriptionId"].as_str() else {
                    continue;
                };
                found
                    .entry(sub.to_lowercase())
                    .or_default()
                    .push(with_power_state(r.clone()));
            }
            if answer["resultTruncated"].as_str() == Some("true")
                || answer["resultTruncated"] == json!(true)
            {
                rows.capped = true;
            }
            // Spent quota: wait for its window before the next page.
            if remaining == Some(0) {
                tokio::time::sleep(resets.unwrap_or(Duration::from_secs(1))).await;
            }
            match answer["$skipToken"].as_str() {
                Some(t) => skip = Some(t.to_string()),
                None => break,
            }
        }
        Ok(found)
    }

    /// One POST; (status, (quota remaining, resets after), JSON body).
    async fn post(
        &self,
        body: &Value,
    ) -> Result<(u16, (Option<u64>, Option<Duration>), Value), ProviderError> {
        let mut url = self.endpoint.clone();
        url.set_path("/providers/Microsoft.ResourceGraph/resources");
        url.set_query(Some(&format!("api-version={GRAPH_API}")));
        let token = self.credential.get_token(&[SCOPE]).await.map_err(|e| {
            self.error(
                ProviderErrorKind::Auth,
                e.to_string(),
                "check the tenant's credential",
            )
        })?;
        let mut req = Request::new(url, Method::Post);
        req.insert_header(
            azure_core::headers::AUTHORIZATION,
            format!("Bearer {}", token.token.secret()),
        );
        req.insert_header(azure_core::headers::CONTENT_TYPE, "application/json");
        req.set_body(serde_json::to_vec(body).unwrap_or_default());
        let rsp = azure_core::new_http_client()
            .execute_request(&req)
            .await
            .map_err(|e| {
                self.error(
                    ProviderErrorKind::Unreachable,
                    e.to_string(),
                    "check `endpoint` and the network",
                )
            })?;
        let status = u16::from(rsp.status());
        let remaining = header(&rsp, "x-ms-user-quota-remaining").and_then(|v| v.parse().ok());
        let resets = header(&rsp, "x-ms-user-quota-resets-after").map(|v| resets_after(&v));
        if header(&rsp, "x-ms-tenant-subscription-limit-hit").as_deref() == Some("true") {
            tracing::warn!("Resource Graph looked at the first 10,000 subscriptions only");
        }
        let bytes = rsp.into_body().collect().await.map_err(|e| {
            self.error(
                ProviderErrorKind::Unreachable,
                e.to_string(),
                "check the network",
            )
        })?;
        let answer = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, (remaining, resets), answer))
    }
}

/// A row with its power state where the VM list would have it (`properties.instanceView`).
fn with_power_state(mut row: Value) -> Value {
    let code = row["properties"]["extended"]["instanceView"]["powerState"]["code"].clone();
    if let (Some(code), Some(props)) = (code.as_str(), row["properties"].as_object_mut()) {
        let view = props.entry("instanceView").or_insert_with(|| json!({}));
        if view["statuses"].as_array().is_none_or(|s| s.is_empty()) {
            view["statuses"] = json!([{"code": code}]);
        }
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_windows_and_power_states() {
        assert_eq!(resets_after("00:00:05"), Duration::from_secs(5));
        assert_eq!(resets_after("00:00:00.250"), Duration::from_millis(250));
        assert_eq!(
            resets_after("01:00:00"),
            Duration::from_secs(60),
            "at most a minute"
        );
        let r = with_power_state(
            json!({"properties": {"extended": {"instanceView": {"powerState": {"code": "PowerState/running"}}}}}),
        );
        assert_eq!(
            r["properties"]["instanceView"]["statuses"][0]["code"],
            "PowerState/running"
        );
    }
}
