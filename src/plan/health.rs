//! The health gate of one replacement: the provider's status checks until healthy (or the
//! plan's health timeout), then the plan's `health_cmd`, if any, within what remains.

use super::error::PlanError;
use super::executor::Executor;
use super::spec::PlanVm;
use drydock_api::{ProviderErrorKind, VmHealth};
use std::time::{Duration, Instant};

impl Executor {
    /// `Ok` when `new` (replacing `vm`) is healthy; otherwise why not.
    pub(crate) async fn health_gate(&self, vm: &PlanVm, new: &str) -> Result<(), PlanError> {
        let timeout = self
            .plan
            .settings
            .health_timeout
            .0
            .to_std()
            .unwrap_or(Duration::ZERO);
        let deadline = Instant::now() + timeout;
        let provider = self.provider(&vm.provider)?;
        let mut transient = 0;
        loop {
            match provider.vm_health(new).await {
                Ok(VmHealth::Healthy) => break,
                Ok(VmHealth::Starting) if Instant::now() < deadline => {}
                Ok(VmHealth::Starting) => {
                    return Err(PlanError::Step(format!(
                        "still starting after {}",
                        self.plan.settings.health_timeout
                    )))
                }
                Ok(VmHealth::Unhealthy(why)) => return Err(PlanError::Step(why)),
                Ok(VmHealth::Gone) => {
                    return Err(PlanError::Step("the replacement disappeared".into()))
                }
                // No status checks at this provider: the health command decides.
                Err(e) if e.kind == ProviderErrorKind::Unsupported => break,
                Err(e) if e.is_transient() && transient < self.plan.settings.retries => {
                    transient += 1;
                }
                Err(e) => return Err(PlanError::provider(format!("health of {new}"), e)),
            }
            tokio::time::sleep(self.opts.poll).await;
        }
        let Some(cmd) = &self.plan.settings.health_cmd else {
            return Ok(());
        };
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_secs(1));
        run_health_cmd(
            cmd,
            &[
                ("DRYDOCK_PLAN", self.id()),
                ("DRYDOCK_VM_ID", new),
                ("DRYDOCK_VM_NAME", &vm.name),
                ("DRYDOCK_REPLACES", &vm.id),
                ("DRYDOCK_REGION", &vm.region),
            ],
            left,
        )
        .await
    }
}

/// Runs `cmd` with `sh -c`; exit 0 within `timeout` is healthy.
async fn run_health_cmd(
    cmd: &str,
    env: &[(&str, &str)],
    timeout: Duration,
) -> Result<(), PlanError> {
    let mut c = tokio::process::Command::new("sh");
    c.arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        c.env(k, v);
    }
    let child = c
        .spawn()
        .map_err(|e| PlanError::Command(format!("health_cmd `{cmd}` cannot start: {e}")))?;
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => Err(PlanError::Command(format!(
            "health_cmd timed out after {}s",
            timeout.as_secs()
        ))),
        Ok(Err(e)) => Err(PlanError::Command(format!("health_cmd failed: {e}"))),
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr.lines().last().unwrap_or("").trim();
            Err(PlanError::Command(format!(
                "health_cmd exited {}{}",
                out.status
                    .code()
                    .map_or("on a signal".into(), |c| c.to_string()),
                if last.is_empty() {
                    String::new()
                } else {
                    format!(": {last}")
                }
            )))
        }
    }
}
