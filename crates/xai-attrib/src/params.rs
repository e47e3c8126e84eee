//! What every method's settings share, and the glue between a method and its settings,
//! written once.
//!
//! A method is built from its `…Params` by `check()` (linfa's `ParamGuard` idea), so a
//! method always holds valid settings: it is a newtype over its checked params (plus, for
//! some, values derived from them once). Every method (de)serializes through its settings
//! with `#[serde(try_from = "…Params", into = "…Params")]`, so a deserialized method is
//! checked too. In JSON the shared [`Batching`] settings sit beside the method's own, e.g.
//! `{"n_samples": 200, "batch_size": 256}`, and a key that is no setting of the method is
//! an error naming it (see [`UnknownKeys`]).
//!
//! `method_params!(Method, MethodParams, NAME)` writes, for a params struct with fields
//! `batching: Batching` and `unknown: UnknownKeys` and a method struct with a `params`
//! field: the `batch_size`, `progress` and `batching` setters on the params, the
//! `batching`, `batch_size` and `params` getters on the method, and the `TryFrom`/`From`
//! conversions. `method_params!(…, seeded)` adds the `seed` setter and getter and
//! `with_seed` for methods that draw random numbers.

use std::fmt;

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Result, XaiError};

/// Rows per model call that methods use unless told otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 512;

/// How a method evaluates its rows (perturbed inputs, path points): the settings every
/// method shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Batching {
    /// Rows per model call (default 512, at least 1). Results never depend on it.
    pub batch_size: usize,
    /// Whether to show a progress bar while attributing, on a terminal only (default
    /// `true`).
    pub progress: bool,
}

impl Default for Batching {
    fn default() -> Self {
        Batching {
            batch_size: DEFAULT_BATCH_SIZE,
            progress: true,
        }
    }
}

impl Batching {
    /// Checks the settings for `method`.
    pub(crate) fn check(&self, method: &'static str) -> Result<()> {
        crate::validate::at_least(method, "batch_size", self.batch_size, 1)
    }
}

/// The keys of a JSON settings object that are no setting of the method. Serde cannot
/// deny unknown fields next to a flattened struct, so they are collected here and turned
/// into an error by `check()`: a typo in a configuration file is never silently ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnknownKeys(Vec<String>);

impl UnknownKeys {
    /// Fails with [`XaiError::InvalidParam`] naming the first unknown key.
    pub(crate) fn reject(&self, method: &'static str) -> Result<()> {
        match self.0.first() {
            None => Ok(()),
            Some(key) => Err(XaiError::InvalidParam {
                method,
                param: "settings",
                value: format!("`{key}`"),
                rule: "is not a setting of this method",
            }),
        }
    }
}

impl<'de> Deserialize<'de> for UnknownKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = UnknownKeys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of settings")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut keys = Vec::new();
                while let Some((k, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                    keys.push(k);
                }
                Ok(UnknownKeys(keys))
            }
        }
        d.deserialize_map(Keys)
    }
}

macro_rules! method_params {
    ($method:ident, $params:ident) => {
        impl $params {
            /// Rows per model call (default 512, at least 1). Results never depend on it.
            pub fn batch_size(mut self, batch_size: usize) -> Self {
                self.batching.batch_size = batch_size;
                self
            }

            /// Whether to show a progress bar on a terminal (default `true`).
            pub fn progress(mut self, progress: bool) -> Self {
                self.batching.progress = progress;
                self
            }

            /// Both batching settings at once.
            pub fn batching(mut self, batching: $crate::Batching) -> Self {
                self.batching = batching;
                self
            }
        }

        impl $method {
            /// The checked settings (clone and adjust them to build a variant).
            pub fn settings(&self) -> &$params {
                &self.params
            }

            /// The batching settings.
            pub fn batching(&self) -> $crate::Batching {
                self.params.batching
            }

            /// Rows per model call.
            pub fn batch_size(&self) -> usize {
                self.params.batching.batch_size
            }

            /// The same method with other batching settings (checked).
            pub fn with_batching(&self, batching: $crate::Batching) -> $crate::Result<Self> {
                self.params.clone().batching(batching).check()
            }
        }

        impl TryFrom<$params> for $method {
            type Error = $crate::XaiError;
            fn try_from(p: $params) -> $crate::Result<Self> {
                p.check()
            }
        }

        impl From<$method> for $params {
            fn from(m: $method) -> Self {
                m.params
            }
        }
    };
    ($method:ident, $params:ident, seeded) => {
        method_params!($method, $params);

        impl $params {
            /// Seed of the random draws (default 0); the same seed gives the same
            /// attributions.
            pub fn seed(mut self, seed: u64) -> Self {
                self.seed = seed;
                self
            }
        }

        impl $method {
            /// The seed.
            pub fn seed(&self) -> u64 {
                self.params.seed
            }

            /// The same method with another seed.
            pub fn with_seed(&self, seed: u64) -> Self {
                let mut m = self.clone();
                m.params.seed = seed;
                m
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Toy {
        #[serde(default)]
        n: usize,
        #[serde(flatten)]
        batching: Batching,
        #[serde(flatten)]
        unknown: UnknownKeys,
    }

    #[test]
    fn flattened_batching_and_unknown_keys() {
        let t: Toy = serde_json::from_str(r#"{"n": 3, "batch_size": 7}"#).unwrap();
        assert_eq!(
            (t.n, t.batching.batch_size, t.batching.progress),
            (3, 7, true)
        );
        t.unknown.reject("toy").unwrap();
        let t: Toy = serde_json::from_str(r#"{"n": 3, "batch_sise": 7}"#).unwrap();
        let err = t.unknown.reject("toy").unwrap_err().to_string();
        assert!(err.contains("`batch_sise`"), "{err}");
        assert_eq!(t.batching, Batching::default());
    }
}
