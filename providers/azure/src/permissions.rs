//! A dry run's permission check, where Resource Manager allows it: the caller's effective
//! permissions on the resource (`Microsoft.Authorization/permissions`), matched against the
//! action the change needs, with ARM's wildcards and `notActions`.

use crate::provider::AzureProvider;
use drydock_api::{ProviderError, ProviderErrorKind};
use serde_json::Value;

/// Whether `pattern` (ARM action syntax, `*` anywhere, case-insensitive) covers `action`.
pub fn covers(pattern: &str, action: &str) -> bool {
    let (p, a) = (pattern.to_lowercase(), action.to_lowercase());
    match p.split_once('*') {
        None => p == a,
        Some((head, tail)) => {
            a.len() >= head.len() + tail.len() && a.starts_with(head) && a.ends_with(tail)
        }
    }
}

/// Whether the permissions list (the API's `value`) grants `action`.
pub fn grants(perms: &Value, action: &str) -> bool {
    perms.as_array().is_some_and(|list| {
        list.iter().any(|p| {
            let any = |k: &str| {
                p[k].as_array().is_some_and(|l| {
                    l.iter()
                        .filter_map(|x| x.as_str())
                        .any(|x| covers(x, action))
                })
            };
            any("actions") && !any("notActions")
        })
    })
}

impl AzureProvider {
    /// Fails a dry run when the credential may not perform `action` on resource `id`.
    pub(crate) async fn check_permission(
        &self,
        id: &str,
        action: &str,
    ) -> Result<(), ProviderError> {
        let path = format!("{id}/providers/Microsoft.Authorization/permissions");
        let perms = match self
            .get_raw(&path, "2022-04-01", "Permissions_ListForResource")
            .await
        {
            Ok(v) => v,
            // Where ARM does not say (no permission to read permissions), the GET of the
            // target already showed the resource is there: the dry run cannot say more.
            Err(e)
                if e.kind == ProviderErrorKind::NotFound
                    || e.kind == ProviderErrorKind::Rejected =>
            {
                return Ok(())
            }
            Err(e) => return Err(e),
        };
        if grants(&perms["value"], action) {
            return Ok(());
        }
        Err(ProviderError::new(
            ProviderErrorKind::Auth,
            format!("{action} (dry run)"),
            id,
            format!("{} may not perform {action} here", self.sub().credential.describe()),
            "grant a role with this action on the resource group (e.g. Virtual Machine Contributor)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arm_wildcards_and_not_actions() {
        assert!(covers("*", "Microsoft.Compute/virtualMachines/delete"));
        assert!(covers(
            "Microsoft.Compute/*",
            "Microsoft.Compute/virtualMachines/delete"
        ));
        assert!(covers(
            "microsoft.compute/virtualmachines/*",
            "Microsoft.Compute/virtualMachines/delete"
        ));
        assert!(covers("*/read", "Microsoft.Compute/virtualMachines/read"));
        assert!(!covers(
            "*/read",
            "Microsoft.Compute/virtualMachines/delete"
        ));
        let reader = json!([{"actions": ["*/read"], "notActions": []}]);
        assert!(!grants(&reader, "Microsoft.Compute/virtualMachines/delete"));
        let contributor = json!([{"actions": ["*"], "notActions": ["Microsoft.Compute/*/delete"]}]);
        assert!(grants(
            &contributor,
            "Microsoft.Compute/virtualMachines/write"
        ));
        assert!(!grants(
            &contributor,
            "Microsoft.Compute/virtualMachines/delete"
        ));
    }
}
