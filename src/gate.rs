//! The mutation gate: the one place every change to a cloud passes through, and the one
//! owner of the safety policy. Built once from the context registry, it knows every
//! context's `production` and `readonly` flags whatever its cloud; callers hand it
//! operations and ask what is needed (refusal, a y/N confirmation, a typed context name),
//! and it applies read-only mode, dry-run, confirmation and the rule that an image still in
//! use is never retired before handing the operation to the provider.

use crate::contexts::Registry;
use crate::model::usage::ImageUsage;
use drydock_api::{Operation, OperationOutcome, Provider, ProviderError};
use std::collections::HashMap;
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
    /// What uses the image the operation targets (empty for VM operations).
    pub usage: ImageUsage,
}

/// What the gate needs before a change may run.
#[derive(Debug, Clone, PartialEq)]
pub enum Needed {
    /// Nothing will make it pass: read-only mode or a read-only context.
    Refused(GateError),
    /// A y/N confirmation (default No).
    Yes,
    /// The context's name, typed (production contexts).
    Typed(String),
}

impl Needed {
    /// The confirmation that satisfies this need (for scripts that said `--yes-production`).
    pub fn granted(&self) -> Option<Confirmation> {
        match self {
            Needed::Refused(_) => None,
            Needed::Yes => Some(Confirmation::Yes),
            Needed::Typed(t) => Some(Confirmation::Typed(t.clone())),
        }
    }
}

/// A context's safety flags, as the gate knows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Flags {
    production: bool,
    readonly: bool,
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
    #[error("context `{0}` is read-only: the gate refuses every change there")]
    ReadOnlyContext(String),
    #[error("the change spans several production contexts ({0}); act on one at a time")]
    SeveralProduction(String),
    #[error("changes are refused: they could not be recorded in the audit log ({0})")]
    Unaudited(String),
    /// The caller may no longer act (a plan run that lost its lease).
    #[error("{0}")]
    Stopped(String),
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// Proof that the gate admitted a change in a context; only [`Gate::admit`] makes one.
#[derive(Debug)]
pub struct Admitted {
    context: String,
}

impl Admitted {
    pub fn context(&self) -> &str {
        &self.context
    }
}

/// The gate: global read-only and dry-run switches and every context's flags.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    readonly: bool,
    /// Validate every change with the provider without making it.
    dry_run: bool,
    contexts: HashMap<String, Flags>,
    /// Where every decision is recorded (`None`: nowhere, in tests and read-only tools).
    audit: Option<crate::audit::AuditLog>,
    /// The plan the changes belong to, for the audit log.
    plan: Option<String>,
    /// Why there is no audit log where there should be one (the store is unreachable):
    /// every change is refused, since it could not be recorded.
    unaudited: Option<String>,
}

impl Gate {
    /// The gate for the contexts of `registry`; `readonly` refuses every change,
    /// `dry_run` has the provider validate changes without making them.
    pub fn new(registry: &Registry, readonly: bool, dry_run: bool) -> Gate {
        let contexts = registry
            .contexts()
            .iter()
            .map(|c| {
                let flags = Flags {
                    production: c.production,
                    readonly: c.readonly,
                };
                (c.name.clone(), flags)
            })
            .collect();
        Gate {
            readonly,
            dry_run,
            contexts,
            audit: None,
            plan: None,
            unaudited: None,
        }
    }

    /// The same policy with no audit log because `why` (the store could not be opened):
    /// reads go on, every change is refused.
    pub fn unaudited(mut self, why: impl Into<String>) -> Gate {
        self.unaudited = Some(why.into());
        self
    }

    /// The same policy, recording every decision in `audit`.
    pub fn with_audit(mut self, audit: crate::audit::AuditLog) -> Gate {
        self.audit = Some(audit);
        self
    }

    /// The same policy, recording changes as plan `id`'s.
    pub fn for_plan(&self, id: &str) -> Gate {
        Gate {
            plan: Some(id.to_string()),
            ..self.clone()
        }
    }

    /// Who the gate records changes as (`None`: no audit log).
    pub fn operator(&self) -> Option<&str> {
        self.audit.as_ref().map(|a| a.operator())
    }

    /// Records a fact about a change that did not pass through a call here (a launch a
    /// resumed plan found in the cloud: `adopted`).
    pub fn record(&self, context: &str, operation: &str, target: &str, outcome: &'static str) {
        self.audit(
            context,
            operation.into(),
            target.into(),
            &Confirmation::None,
            outcome,
            None,
        );
    }

    fn audit(
        &self,
        context: &str,
        operation: String,
        target: String,
        confirmation: &Confirmation,
        outcome: &'static str,
        error: Option<String>,
    ) -> Option<i64> {
        self.audit.as_ref()?.record(crate::audit::Entry {
            context,
            operation,
            target,
            dry_run: self.dry_run,
            confirmation,
            outcome,
            error,
            plan: self.plan.as_deref(),
        })
    }

    /// The same policy with dry-run switched on or off (a plan's dry run, `--execute`).
    pub fn with_dry_run(&self, dry_run: bool) -> Gate {
        Gate {
            dry_run,
            ..self.clone()
        }
    }

    pub fn readonly(&self) -> bool {
        self.readonly
    }

    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// Whether `context` is configured here.
    pub fn knows(&self, context: &str) -> bool {
        self.contexts.contains_key(context)
    }

    /// Whether `context` is production (typed confirmations, red accent).
    pub fn is_production(&self, context: &str) -> bool {
        self.flags(context).production
    }

    /// Whether the gate refuses every change in `context`.
    pub fn is_readonly(&self, context: &str) -> bool {
        self.readonly || self.flags(context).readonly
    }

    fn flags(&self, context: &str) -> Flags {
        self.contexts.get(context).copied().unwrap_or_default()
    }

    /// What a change in `context` needs.
    pub fn needs(&self, context: &str) -> Needed {
        if self.readonly {
            return Needed::Refused(GateError::ReadOnly(format!("a change in {context}")));
        }
        if let Some(why) = &self.unaudited {
            return Needed::Refused(GateError::Unaudited(why.clone()));
        }
        let f = self.flags(context);
        if f.readonly {
            Needed::Refused(GateError::ReadOnlyContext(context.to_string()))
        } else if f.production {
            Needed::Typed(context.to_string())
        } else {
            Needed::Yes
        }
    }

    /// What one confirmation covering changes in all of `contexts` needs: refused if any
    /// refuses, the one production context's name typed, else y/N. A confirmation cannot
    /// type two names at once, so several production contexts are refused.
    pub fn needs_all<'a>(&self, contexts: impl IntoIterator<Item = &'a str>) -> Needed {
        let mut production: Vec<&str> = Vec::new();
        for c in contexts {
            match self.needs(c) {
                Needed::Refused(e) => return Needed::Refused(e),
                Needed::Typed(_) if !production.contains(&c) => production.push(c),
                _ => {}
            }
        }
        match production.as_slice() {
            [] => Needed::Yes,
            [one] => Needed::Typed(one.to_string()),
            many => Needed::Refused(GateError::SeveralProduction(many.join(", "))),
        }
    }

    /// Whether `confirmation` satisfies what a change (`what`) in `context` needs.
    fn confirmed(
        &self,
        context: &str,
        what: &str,
        confirmation: &Confirmation,
    ) -> Result<(), GateError> {
        match (self.needs(context), confirmation) {
            (Needed::Refused(GateError::ReadOnly(_)), _) => Err(GateError::ReadOnly(what.into())),
            (Needed::Refused(e), _) => Err(e),
            (_, Confirmation::None) => Err(GateError::NotConfirmed(what.into())),
            (Needed::Typed(t), Confirmation::Typed(typed)) if typed.trim() == t => Ok(()),
            (Needed::Typed(context), _) => Err(GateError::NeedsTypedConfirmation {
                op: what.into(),
                context,
            }),
            (Needed::Yes, _) => Ok(()),
        }
    }

    /// Admits a change that is not one provider operation (a transfer creating an image in
    /// `context`): the same read-only and confirmation policy. The [`Admitted`] it returns
    /// is what the transfer needs before its first cloud call.
    pub fn admit(
        &self,
        context: &str,
        what: &str,
        confirmation: &Confirmation,
    ) -> Result<Admitted, GateError> {
        if let Err(e) = self.confirmed(context, what, confirmation) {
            self.audit(
                context,
                what.into(),
                String::new(),
                confirmation,
                "refused",
                Some(e.to_string()),
            );
            return Err(e);
        }
        tracing::info!("{context}: admitted {what}");
        self.audit(
            context,
            what.into(),
            String::new(),
            confirmation,
            "admitted",
            None,
        );
        Ok(Admitted {
            context: context.to_string(),
        })
    }

    /// Admits something a read creates and deletes again (a temporary disk made from an
    /// image to read it): no confirmation, but read-only mode and read-only contexts refuse.
    pub fn admit_temporary(&self, context: &str, what: &str) -> Result<Admitted, GateError> {
        if let Needed::Refused(e) = self.needs(context) {
            return Err(match e {
                GateError::ReadOnly(_) => GateError::ReadOnly(what.into()),
                e => e,
            });
        }
        tracing::info!("{context}: admitted {what}");
        Ok(Admitted {
            context: context.to_string(),
        })
    }

    /// Decides whether `req` may be applied under `confirmation`.
    pub fn check(
        &self,
        req: &MutationRequest,
        confirmation: &Confirmation,
    ) -> Result<(), GateError> {
        let what = req.op.to_string();
        self.confirmed(&req.provider, &what, confirmation)?;
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
        let (verb, target) = (req.op.verb().to_string(), req.op.target().to_string());
        if let Err(e) = self.check(req, confirmation) {
            self.audit(
                &req.provider,
                verb,
                target,
                confirmation,
                "refused",
                Some(e.to_string()),
            );
            return Err(e);
        }
        let mode = if self.dry_run { " as a dry run" } else { "" };
        tracing::info!("{}: applying {}{mode}", req.provider, req.op);
        match provider.apply(&req.op, self.dry_run).await {
            Ok(outcome) => {
                tracing::info!("{}: {} {outcome}", req.provider, req.op);
                let done = if self.dry_run { "validated" } else { "applied" };
                self.audit(&req.provider, verb, target, confirmation, done, None);
                Ok(outcome)
            }
            Err(e) => {
                self.audit(
                    &req.provider,
                    verb,
                    target,
                    confirmation,
                    "failed",
                    Some(e.to_string()),
                );
                Err(e.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        let config: crate::config::Config = toml::from_str(
            r#"
            [[aws.accounts]]
            name = "prod-aws"
            regions = ["eu-west-1"]
            production = true
            [[aws.accounts]]
            name = "audit"
            regions = ["eu-west-1"]
            readonly = true
            [[contexts]]
            name = "demo-azure"
            production = true
            "#,
        )
        .unwrap();
        Registry::new(&config).with_demo_state(None)
    }

    fn gate() -> Gate {
        Gate::new(&registry(), false, false)
    }

    fn req(provider: &str, op: Operation, usage: ImageUsage) -> MutationRequest {
        MutationRequest {
            provider: provider.into(),
            op,
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
        let gate = Gate::new(&registry(), true, false);
        let err = gate.check(
            &req("demo-aws", dereg(), ImageUsage::default()),
            &Confirmation::Yes,
        );
        assert!(matches!(err, Err(GateError::ReadOnly(_))));
        assert!(matches!(gate.needs("demo-aws"), Needed::Refused(_)));
    }

    #[test]
    fn a_readonly_context_refuses_whatever_the_confirmation() {
        let gate = gate();
        let r = req("audit", dereg(), ImageUsage::default());
        assert!(matches!(
            gate.check(&r, &Confirmation::Typed("audit".into())),
            Err(GateError::ReadOnlyContext(_))
        ));
        assert!(gate.is_readonly("audit") && !gate.is_readonly("prod-aws"));
    }

    #[test]
    fn the_gate_decides_production_for_every_cloud() {
        let gate = gate();
        assert_eq!(gate.needs("prod-aws"), Needed::Typed("prod-aws".into()));
        // An Azure context marked in [[contexts]] is production too.
        assert_eq!(gate.needs("demo-azure"), Needed::Typed("demo-azure".into()));
        assert_eq!(gate.needs("demo-aws"), Needed::Yes);
        assert_eq!(
            gate.needs_all(["demo-aws", "prod-aws"]),
            Needed::Typed("prod-aws".into())
        );
        assert!(matches!(
            gate.needs_all(["prod-aws", "demo-azure"]),
            Needed::Refused(GateError::SeveralProduction(_))
        ));
        assert!(matches!(
            gate.needs_all(["demo-aws", "audit"]),
            Needed::Refused(GateError::ReadOnlyContext(_))
        ));
    }

    #[test]
    fn confirmation_is_required_and_typed_in_production() {
        let gate = gate();
        let r = req("demo-aws", dereg(), ImageUsage::default());
        assert!(matches!(
            gate.check(&r, &Confirmation::None),
            Err(GateError::NotConfirmed(_))
        ));
        assert!(gate.check(&r, &Confirmation::Yes).is_ok());
        let p = req("prod-aws", dereg(), ImageUsage::default());
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
        let gate = gate();
        let used = ImageUsage {
            vms: vec![1, 2],
            scale_groups: vec![],
            launch_templates: vec![],
        };
        let err = gate
            .check(&req("demo-aws", dereg(), used.clone()), &Confirmation::Yes)
            .unwrap_err();
        assert!(err.to_string().contains("still used by 2 VMs"), "{err}");
        let disable = Operation::Disable {
            image: "ami-1".into(),
        };
        assert!(gate
            .check(&req("demo-aws", disable.clone(), used), &Confirmation::Yes)
            .is_ok());
        let in_group = ImageUsage {
            vms: vec![],
            scale_groups: vec![0],
            launch_templates: vec![],
        };
        assert!(gate
            .check(&req("demo-aws", disable, in_group), &Confirmation::Yes)
            .is_err());
    }

    #[tokio::test]
    async fn dry_run_asks_the_provider_and_changes_nothing() {
        let now = chrono::Utc::now();
        let cloud = drydock_sim::demo_clouds(now, drydock_sim::SimSettings::default()).remove(0);
        let image = cloud.inventory().images[0].id.clone();
        let r = req(
            "demo-aws",
            Operation::Disable {
                image: image.clone(),
            },
            ImageUsage::default(),
        );
        let dry = gate().with_dry_run(true);
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
        let real = gate();
        assert!(
            real.apply(&cloud, &r, &Confirmation::None).await.is_err(),
            "unconfirmed"
        );
        real.apply(&cloud, &r, &Confirmation::Yes).await.unwrap();
        assert_eq!(state(&cloud), drydock_api::ImageState::Disabled);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn log_lines_are_sentences_not_debug_dumps() {
        use tracing_subscriber::layer::SubscriberExt;
        let logs = crate::tui::logbuf::LogBuffer::new(10);
        let subscriber = tracing_subscriber::registry().with(logs.clone());
        let _guard = tracing::subscriber::set_default(subscriber);
        let now = chrono::Utc::now();
        let cloud = drydock_sim::demo_clouds(now, drydock_sim::SimSettings::default()).remove(0);
        let image = cloud.inventory().images[0].id.clone();
        let r = req(
            "demo-aws",
            Operation::Tag {
                resource: image.clone(),
                tags: [("k".to_string(), "v".to_string())].into(),
            },
            ImageUsage::default(),
        );
        gate().apply(&cloud, &r, &Confirmation::Yes).await.unwrap();
        let lines: Vec<String> = logs.snapshot().iter().map(|l| l.message.clone()).collect();
        assert_eq!(
            lines,
            vec![
                format!("demo-aws: applying tag {image}"),
                format!("demo-aws: tag {image} done"),
            ]
        );
    }
}
