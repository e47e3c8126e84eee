//! The three corruptions of paper 2, as a name.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{CorruptionError, Result};

/// The three corruptions of paper 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Corruption {
    /// The feature is set to [`CorruptionParams::null_value`](crate::CorruptionParams::null_value) (0).
    Null,
    /// The feature is set to a uniform value in its reference range.
    Random,
    /// The feature is moved by I-FGSM so that the *other* features reconstruct badly.
    Adversarial,
}

impl Corruption {
    /// All three, in the paper's panel order (null, random, adversarial).
    pub const ALL: [Corruption; 3] = [
        Corruption::Null,
        Corruption::Random,
        Corruption::Adversarial,
    ];

    /// The lowercase name, as serialised.
    pub fn name(self) -> &'static str {
        match self {
            Corruption::Null => "null",
            Corruption::Random => "random",
            Corruption::Adversarial => "adversarial",
        }
    }
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Corruption {
    type Err = CorruptionError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "null" => Ok(Corruption::Null),
            "random" => Ok(Corruption::Random),
            "adversarial" => Ok(Corruption::Adversarial),
            _ => Err(CorruptionError::InvalidParam {
                param: "corruption",
                value: s.to_string(),
                rule: "must be one of null, random, adversarial",
            }),
        }
    }
}
