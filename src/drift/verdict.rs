//! The drift verdict and its severity ladder.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How far a VM or image has drifted. Declared in ascending severity; `--fail-on LEVEL`
/// fails on every verdict at or above LEVEL in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// On the newest version of its family and within every limit.
    Current,
    /// No policy family covers the image: drydock has no opinion on its age.
    Unmanaged,
    /// A newer version exists, still within the policy's limits or grace.
    Behind,
    /// The image cannot be resolved; never reported as merely old.
    Unknown,
    /// Past the family's age or version-lag limit.
    Outdated,
    /// The image or an ancestor passed its end of life.
    Eol,
    /// The image or an ancestor is deprecated, disabled, deregistered or revoked.
    Revoked,
}

impl Verdict {
    /// All verdicts, least severe first.
    pub const ALL: [Verdict; 7] = [
        Verdict::Current,
        Verdict::Unmanaged,
        Verdict::Behind,
        Verdict::Unknown,
        Verdict::Outdated,
        Verdict::Eol,
        Verdict::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Current => "current",
            Verdict::Unmanaged => "unmanaged",
            Verdict::Behind => "behind",
            Verdict::Unknown => "unknown",
            Verdict::Outdated => "outdated",
            Verdict::Eol => "eol",
            Verdict::Revoked => "revoked",
        }
    }

    /// A symbol that carries the verdict without colour (NO_COLOR, screen readers).
    pub fn symbol(self) -> &'static str {
        match self {
            Verdict::Current => "✓",
            Verdict::Unmanaged => "·",
            Verdict::Behind => "↓",
            Verdict::Unknown => "?",
            Verdict::Outdated => "!",
            Verdict::Eol => "✗",
            Verdict::Revoked => "⊘",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Verdict {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Verdict::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<_> = Verdict::ALL.iter().map(|v| v.as_str()).collect();
                format!(
                    "unknown verdict `{s}`; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ladder_and_names_round_trip() {
        assert!(Verdict::Revoked > Verdict::Eol);
        assert!(Verdict::Outdated > Verdict::Unknown);
        assert!(Verdict::Behind > Verdict::Unmanaged);
        for v in Verdict::ALL {
            assert_eq!(v.as_str().parse::<Verdict>(), Ok(v));
        }
        assert!("stale".parse::<Verdict>().unwrap_err().contains("outdated"));
    }
}
