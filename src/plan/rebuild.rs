//! The rebuild step: capture the new image from a builder VM, or run an external builder
//! command (e.g. Packer) that prints the new image id; either way the image is tagged with
//! its provenance (family, version, parent, cm-source).

use super::error::PlanError;
use super::executor::Executor;
use super::journal::StepState;
use super::Event;
use drydock_api::{Operation, OperationOutcome, Tags};
use std::collections::BTreeMap;

impl Executor {
    /// The target image per `provider/region`, rebuilding first if the plan says so.
    /// `None` when the rebuild failed (the plan pauses).
    pub(crate) async fn rebuild(&self) -> Result<Option<BTreeMap<String, String>>, PlanError> {
        let mut targets = self.plan.targets.clone();
        let Some(r) = &self.plan.rebuild else {
            return Ok(Some(targets));
        };
        let scope = format!("{}/{}", r.provider, r.region);
        let step = self
            .steps()?
            .remove("rebuild")
            .ok_or_else(|| PlanError::Journal("the plan has no rebuild step".into()))?;
        if step.state == StepState::Done {
            targets.insert(scope, step.result.unwrap_or_default());
            return Ok(Some(targets));
        }
        let token = step
            .token
            .clone()
            .unwrap_or_else(|| format!("drydock-{}-rebuild", super::digest(&[self.id()])));
        self.record("rebuild", StepState::Started, Some(&token), None, None)?;
        let tags = self.provenance(r.parent.as_deref());
        let made = match (&r.builder_vm, &r.command) {
            (None, None) if r.from.is_some() => {
                let from = r.from.clone().unwrap_or_default();
                self.transfer_rebuild(r, &from, tags).await
            }
            (Some(vm), _) => {
                let op = Operation::CreateImage {
                    source_vm: vm.clone(),
                    name: r.name.clone(),
                    tags,
                    client_token: token,
                };
                match self.call(&r.provider, op, Default::default()).await {
                    Ok(OperationOutcome::Done { created: Some(id) }) => Ok(id),
                    Ok(other) => Err(PlanError::Step(format!("create image: {other}"))),
                    Err(e) => Err(PlanError::from(e)),
                }
            }
            (None, Some(cmd)) => match self.builder_command(cmd, r.timeout).await {
                Ok(id) => {
                    let op = Operation::Tag {
                        resource: id.clone(),
                        tags,
                    };
                    self.call(&r.provider, op, Default::default())
                        .await
                        .map(|_| id)
                        .map_err(PlanError::from)
                }
                Err(e) => Err(e),
            },
            (None, None) => Err(PlanError::Invalid(
                "rebuild has neither builder_vm, command nor from".into(),
            )),
        };
        match made {
            Ok(id) => {
                self.record("rebuild", StepState::Done, None, Some(&id), None)?;
                self.emit(Event::Rebuilt {
                    plan: self.id().into(),
                    image: id.clone(),
                });
                targets.insert(scope, id);
                Ok(Some(targets))
            }
            Err(e) => {
                self.record(
                    "rebuild",
                    StepState::Failed,
                    None,
                    None,
                    Some(&e.to_string()),
                )?;
                Ok(None)
            }
        }
    }

    /// The new image's provenance tags.
    fn provenance(&self, parent: Option<&str>) -> Tags {
        let date = self.now().format("%Y-%m-%d").to_string();
        let mut t: Tags = [
            ("drydock:family".to_string(), self.plan.family.clone()),
            ("drydock:version".to_string(), self.plan.version.clone()),
        ]
        .into();
        if let Some(p) = parent {
            t.insert("drydock:parent", p.to_string());
        }
        let cm = serde_json::json!([
            "drydock",
            self.plan.family,
            format!("plan/{}", self.plan.id),
            self.plan.version,
            date
        ]);
        t.insert("cm-source", cm.to_string());
        t
    }

    /// Runs the builder command; its last non-empty output line (last word) is the image id.
    async fn builder_command(&self, cmd: &str, timeout: super::Span) -> Result<String, PlanError> {
        let child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .env("DRYDOCK_PLAN", self.id())
            .env("DRYDOCK_FAMILY", &self.plan.family)
            .env("DRYDOCK_VERSION", &self.plan.version)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                PlanError::Command(format!("builder command `{cmd}` cannot start: {e}"))
            })?;
        let limit = timeout.0.to_std().unwrap_or_default();
        let out = tokio::time::timeout(limit, child.wait_with_output())
            .await
            .map_err(|_| PlanError::Command(format!("builder command timed out after {timeout}")))?
            .map_err(|e| PlanError::Command(format!("builder command failed: {e}")))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(PlanError::Command(format!(
                "builder command exited {}: {}",
                out.status.code().unwrap_or(-1),
                err.lines().last().unwrap_or("").trim()
            )));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        stdout
            .lines()
            .rev()
            .find_map(|l| l.split_whitespace().last())
            .map(String::from)
            .ok_or_else(|| PlanError::Command("builder command printed no image id".into()))
    }
}
