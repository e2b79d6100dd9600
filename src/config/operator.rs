//! Who is acting: the operator's identity recorded with every journal event, approval and
//! audited change. `DRYDOCK_OPERATOR`, else the config's `operator`, else `user@host`.

/// The operator's name. `configured` is the config file's `operator`.
pub fn resolve(configured: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> String {
    let clean = |s: String| {
        let s: String = s
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(120)
            .collect();
        (!s.is_empty()).then_some(s)
    };
    env("DRYDOCK_OPERATOR")
        .and_then(clean)
        .or_else(|| configured.map(String::from).and_then(clean))
        .unwrap_or_else(|| {
            let user = env("USER")
                .or_else(|| env("LOGNAME"))
                .and_then(clean)
                .unwrap_or_else(|| "unknown".into());
            format!("{user}@{}", host())
        })
}

/// This machine's host name.
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn environment_then_config_then_user_at_host() {
        let env = |k: &str| match k {
            "DRYDOCK_OPERATOR" => Some("night-shift".to_string()),
            "USER" => Some("alice".to_string()),
            _ => None,
        };
        assert_eq!(resolve(Some("bob"), &env), "night-shift");
        let env = |k: &str| (k == "USER").then(|| "alice".to_string());
        assert_eq!(resolve(Some("bob"), &env), "bob");
        assert_eq!(
            resolve(Some("  "), &env),
            format!("alice@{}", super::host())
        );
    }
}
