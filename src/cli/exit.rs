//! drydock's exit codes, in the style of grep and ripgrep: 0 when the command did what was
//! asked and found nothing over its threshold, 1 when it found what its threshold names
//! (one meaning per command, below), 2 on an error. `--help` and the README list them.

/// How a command ended. Each command returns only the variants its `--help` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done, nothing at or over the command's threshold.
    Ok,
    /// 1 from `report`: VMs at or above `--fail-on` (with `--diff`: a VM got worse).
    Drift,
    /// 1 from `lint`: a finding at or above `--fail-on`.
    Findings,
    /// 1 from `plan run`, `plan resume`: the plan was paused by a wave gate, blocked or
    /// aborted, and needs someone (waiting at an approval or a grace period is 0).
    Stopped,
    /// 2: an error; the message says what and what to do.
    Error,
    /// 3 from `report`: the scan behind it could not read every context or region
    /// (partial, denied, unreachable), unless `--allow-partial`.
    Incomplete,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Drift | Exit::Findings | Exit::Stopped => 1,
            Exit::Error => 2,
            Exit::Incomplete => 3,
        }
    }
}

/// The exit codes as `--help` prints them (after the options).
pub const HELP: &str = "\
Exit codes:
  0  done; nothing at or over the threshold
  1  report: VMs at or above --fail-on (with --diff: a VM got worse)
     lint: a finding at or above --fail-on
     plan run / plan resume: the plan was paused by a wave gate, blocked or aborted
     (0 when it completed or waits at an approval or a grace period)
  2  error (the message says which file, call or resource, and what to do)
  3  report: the scan could not read every context or region (partial, denied,
     unreachable; listed after the report, and in JSON `contexts`), so the absence
     of drift is not proven; --allow-partial reports 0/1 as if it were complete";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_meaning_per_code() {
        assert_eq!(Exit::Ok.code(), 0);
        for e in [Exit::Drift, Exit::Findings, Exit::Stopped] {
            assert_eq!(e.code(), 1);
        }
        assert_eq!(Exit::Error.code(), 2);
        assert_eq!(Exit::Incomplete.code(), 3);
    }
}
