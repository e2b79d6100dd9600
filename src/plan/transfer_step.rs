//! A rebuild that transfers the target image from another cloud (`from`): the transfer runs
//! through the same gate as every step (the destination context's confirmation, a temporary
//! read disk admitted in the source's), carries the plan's provenance, and its result is the
//! step's image. A killed transfer leaves a ledger entry; the resumed step's transfer removes
//! what it left before starting again.

use super::error::PlanError;
use super::executor::Executor;
use super::spec::Rebuild;
use crate::gate::Confirmation;
use crate::inspect::lint;
use crate::transfer::{self, provenance, CloudRef, Endpoint, Request};
use drydock_api::Tags;

impl Executor {
    /// The transfer request for rebuild `r` from `from`, tagged `tags`.
    fn transfer_request(&self, r: &Rebuild, from: &str, tags: &Tags) -> Result<Request, PlanError> {
        let source =
            Endpoint::parse(from).map_err(|e| PlanError::Invalid(format!("rebuild from: {e}")))?;
        let p = self
            .provider(&r.provider)
            .map_err(|e| PlanError::Invalid(format!("rebuild: {e}")))?;
        let cloud = p.cloud().to_string();
        let image = match (&r.gallery, cloud.as_str()) {
            (Some(g), "azure") => format!("{g}/{}/{}", self.plan.family, self.plan.version),
            (None, "azure") => return Err(PlanError::Invalid(
                "a rebuild from another cloud into Azure needs the gallery (plan new --gallery)"
                    .into(),
            )),
            _ => String::new(),
        };
        let dest = Endpoint::Cloud(CloudRef {
            cloud,
            context: r.provider.clone(),
            place: r.region.clone(),
            image,
        });
        let get = |k: &str| tags.get(k).map(String::from);
        Ok(Request {
            source,
            dest,
            provenance: provenance::Flags {
                family: get(provenance::FAMILY),
                version: get(provenance::VERSION),
                parent: get(provenance::PARENT),
                cm_source: get(provenance::CM_SOURCE),
            },
            name: Some(r.name.clone()),
            settings: Default::default(),
            to: None,
            force: false,
            concurrency: 16,
        })
    }

    /// The rebuild's lint gate: `drydock lint` of the local disk, refused when a finding is
    /// at or above the plan's severity. What it found, in a line, when it passes.
    async fn lint_gate(&self, r: &Rebuild) -> Result<Option<String>, PlanError> {
        let (Some(level), Some(disk)) = (r.lint, r.local_disk()) else {
            return Ok(None);
        };
        let path = disk.clone();
        let found =
            tokio::task::spawn_blocking(move || lint::lint(&path, &lint::LintOptions::default()))
                .await?
                .map_err(|source| PlanError::Lint {
                    disk: disk.clone(),
                    source: Box::new(source),
                })?;
        let failing: Vec<String> = found
            .findings
            .iter()
            .filter(|f| f.severity >= level)
            .map(|f| {
                let at: Vec<String> = f.evidence.iter().filter_map(|e| e.path.clone()).collect();
                format!("{} {} {}", f.severity, f.id, at.join(", "))
            })
            .collect();
        if !failing.is_empty() {
            return Err(PlanError::Step(format!(
                "lint of {} found {} finding(s) at or above {level}, so nothing is published: {}; \
                 fix the image (drydock lint {} shows each fix) and resume",
                disk.display(),
                failing.len(),
                failing.join("; "),
                disk.display()
            )));
        }
        Ok(Some(format!(
            "lint of {}: nothing at or above {level} ({} finding(s) below)",
            disk.display(),
            found.findings.len()
        )))
    }

    /// Dry run: what the transfer would create, or why it cannot.
    pub(crate) async fn preview_transfer(
        &self,
        r: &Rebuild,
        from: &str,
    ) -> Result<Vec<String>, PlanError> {
        let linted = self.lint_gate(r).await?;
        let req = self.transfer_request(r, from, &Tags::new())?;
        let providers = self.opts.providers.clone();
        let rt = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            transfer::prepare(&req, &providers, &rt).map(|t| t.plan)
        })
        .await?
        .map_err(|source| PlanError::Transfer {
            step: "prepare the transfer".into(),
            source: Box::new(source),
        })
        .map(|mut lines| {
            lines.extend(linted);
            lines
        })
    }

    /// Transfer `from` into the rebuild's context and region; the new image's id.
    pub(crate) async fn transfer_rebuild(
        &self,
        r: &Rebuild,
        from: &str,
        tags: Tags,
    ) -> Result<String, PlanError> {
        if let Some(passed) = self.lint_gate(r).await? {
            tracing::info!("plan {}: {passed}", self.id());
        }
        let req = self.transfer_request(r, from, &tags)?;
        let gate = self.opts.gate.clone();
        let confirmation = self
            .opts
            .confirmations
            .get(&r.provider)
            .cloned()
            .unwrap_or(Confirmation::None);
        let store = std::sync::Arc::clone(self.journal.store());
        let providers = self.opts.providers.clone();
        let rt = tokio::runtime::Handle::current();
        let out = tokio::task::spawn_blocking(move || {
            let t = transfer::prepare(&req, &providers, &rt)?;
            let admitted = t
                .admit(&gate, Some(&confirmation))
                .map_err(|e| transfer::TransferError::Usage(e.to_string()))?;
            transfer::run(t, &admitted, &store, &rt, &mut |_| true)
        })
        .await?
        .map_err(|source| PlanError::Transfer {
            step: "transfer".into(),
            source: Box::new(source),
        })?;
        tracing::info!(
            "plan {}: transferred {} as {} ({} of data)",
            self.id(),
            from,
            out.created,
            crate::convert::human_bytes(out.data_bytes)
        );
        Ok(out.created)
    }
}
