//! The mutation gate: the one place every change to a cloud passes through. It applies
//! read-only mode, dry-run, confirmation (typed for production contexts) and the rule that
//! an image still in use is never retired, then hands the operation to the provider.

use crate::model::usage::ImageUsage;
use drydock_api::{Operation, OperationOutcome, Provider, ProviderError};
use thiserror::Error;

/// How the user confirmed a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// Not confirmed (the default answer of every confirm dialog).
    None,
    /// Answered yes (`y`).
    Yes,
    /// Typed this text (required for production contexts).
    Typed(String),
}

/// One change, with what the gate needs to judge it.
#[derive(Debug, Clone)]
pub struct MutationRequest {
    /// The provider (context) to apply it through.
    pub provider: String,
    pub op: Operation,
    /// The context is marked `production`: confirmation must be typed.
    pub production: bool,
    /// What uses the image the operation targets (empty for VM operations).
    pub usage: ImageUsage,
}

impl MutationRequest {
    /// What a production confirmation must type: the context name.
    pub fn expected_typed(&self) -> &str {
        &self.provider
    }
}

/// Why the gate refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum GateError {
    #[error("read-only mode: {0} refused (start without --readonly to make changes)")]
    ReadOnly(String),
    #[error("{0} needs confirmation")]
    NotConfirmed(String),
    #[error("{op} is in production context {context}: type `{context}` to confirm")]
    NeedsTypedConfirmation { op: String, context: String },
    #[error("{op} refused: the image is still used by {vms} VMs, {groups} scale groups, {templates} launch templates; replace them first")]
    InUse {
        op: String,
        vms: usize,
        groups: usize,
        templates: usize,
    },
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// The gate's settings.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    pub readonly: bool,
    /// Validate every change with the provider without making it.
    pub dry_run: bool,
    /// Contexts (providers) configured read-only.
    pub readonly_contexts: Vec<String>,
}

impl Gate {
    /// Decides whether `req` may be applied under `confirmation`.
    pub fn check(
        &self,
        req: &MutationRequest,
        confirmation: &Confirmation,
    ) -> Result<(), GateError> {
        let what = req.op.to_string();
        if self.readonly || self.readonly_contexts.contains(&req.provider) {
            return Err(GateError::ReadOnly(what));
        }
        match (req.production, confirmation) {
            (_, Confirmation::None) => return Err(GateError::NotConfirmed(what)),
            (true, Confirmation::Typed(t)) if t.trim() == req.expected_typed() => {}
            (true, _) => {
                return Err(GateError::NeedsTypedConfirmation {
                    op: what,
                    context: req.provider.clone(),
                })
            }
            (false, _) => {}
        }
        let u = &req.usage;
        let refuse = match req.op {
            // Retiring: nothing may still use the image.
            Operation::Deregister { .. } => !u.is_unused(),
            // Disabling breaks launches from scale groups and templates.
            Operation::Disable { .. } => {
                !u.scale_groups.is_empty() || !u.launch_templates.is_empty()
            }
            _ => false,
        };
        if refuse {
            return Err(GateError::InUse {
                op: what,
                vms: u.vms.len(),
                groups: u.scale_groups.len(),
                templates: u.launch_templates.len(),
            });
        }
        Ok(())
    }

    /// Checks `req`, then applies it through `provider` (as a dry run if the gate says so).
    pub async fn apply(
        &self,
        provider: &dyn Provider,
        req: &MutationRequest,
        confirmation: &Confirmation,
    ) -> Result<OperationOutcome, GateError> {
        self.check(req, confirmation)?;
        tracing::info!(provider = %req.provider, dry_run = self.dry_run, "applying {}", req.op);
        let outcome = provider.apply(&req.op, self.dry_run).await?;
        tracing::info!(provider = %req.provider, "applied {}: {outcome:?}", req.op);
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(op: Operation, production: bool, usage: ImageUsage) -> MutationRequest {
        MutationRequest {
            provider: "prod-aws".into(),
            op,
            production,
            usage,
        }
    }

    fn dereg() -> Operation {
        Operation::Deregister {
            image: "ami-1".into(),
        }
    }

    #[test]
    fn readonly_refuses_everything() {
        let gate = Gate {
            readonly: true,
            ..Gate::default()
        };
        let err = gate.check(
            &req(dereg(), false, ImageUsage::default()),
            &Confirmation::Yes,
        );
        assert!(matches!(err, Err(GateError::ReadOnly(_))));
    }

    #[test]
    fn confirmation_is_required_and_typed_in_production() {
        let gate = Gate::default();
        let r = req(dereg(), false, ImageUsage::default());
        assert!(matches!(
            gate.check(&r, &Confirmation::None),
            Err(GateError::NotConfirmed(_))
        ));
        assert!(gate.check(&r, &Confirmation::Yes).is_ok());
        let p = req(dereg(), true, ImageUsage::default());
        assert!(matches!(
            gate.check(&p, &Confirmation::Yes),
            Err(GateError::NeedsTypedConfirmation { .. })
        ));
        assert!(gate.check(&p, &Confirmation::Typed("prod".into())).is_err());
        assert!(gate
            .check(&p, &Confirmation::Typed("prod-aws".into()))
            .is_ok());
    }

    #[test]
    fn an_image_in_use_is_never_retired() {
        let gate = Gate::default();
        let used = ImageUsage {
            vms: vec![1, 2],
            scale_groups: vec![],
            launch_templates: vec![],
        };
        let err = gate
            .check(&req(dereg(), false, used.clone()), &Confirmation::Yes)
            .unwrap_err();
        assert!(err.to_string().contains("still used by 2 VMs"), "{err}");
        let disable = Operation::Disable {
            image: "ami-1".into(),
        };
        assert!(gate
            .check(&req(disable.clone(), false, used), &Confirmation::Yes)
            .is_ok());
        let in_group = ImageUsage {
            vms: vec![],
            scale_groups: vec![0],
            launch_templates: vec![],
        };
        assert!(gate
            .check(&req(disable, false, in_group), &Confirmation::Yes)
            .is_err());
    }

    #[tokio::test]
    async fn dry_run_asks_the_provider_and_changes_nothing() {
        let now = chrono::Utc::now();
        let cloud = drydock_sim::demo_clouds(now, drydock_sim::SimSettings::default()).remove(0);
        let image = cloud.inventory().images[0].id.clone();
        let r = MutationRequest {
            provider: "demo-aws".into(),
            op: Operation::Disable {
                image: image.clone(),
            },
            production: false,
            usage: ImageUsage::default(),
        };
        let dry = Gate {
            dry_run: true,
            ..Gate::default()
        };
        assert_eq!(
            dry.apply(&cloud, &r, &Confirmation::Yes).await.unwrap(),
            OperationOutcome::WouldSucceed
        );
        let state = |c: &drydock_sim::SimCloud| {
            c.inventory()
                .images
                .iter()
                .find(|i| i.id == image)
                .unwrap()
                .state
        };
        assert_eq!(state(&cloud), drydock_api::ImageState::Available);
        let real = Gate::default();
        assert!(
            real.apply(&cloud, &r, &Confirmation::None).await.is_err(),
            "unconfirmed"
        );
        real.apply(&cloud, &r, &Confirmation::Yes).await.unwrap();
        assert_eq!(state(&cloud), drydock_api::ImageState::Disabled);
    }
}
