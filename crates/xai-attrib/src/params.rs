//! The serde glue between a method and its unchecked settings, written once.
//!
//! Every method is built from a `…Params` value by `check()` (linfa's `ParamGuard` idea),
//! so a method always holds valid settings, and every method (de)serializes through its
//! settings with `#[serde(try_from = "…Params", into = "…Params")]`, so a deserialized
//! method is checked too. `checked_params!(Method, MethodParams)` adds the two impls that
//! needs:
//!
//! * `TryFrom<MethodParams> for Method`: the check;
//! * `From<Method> for MethodParams`: the settings back, for methods that keep them in a
//!   `params` field. Methods that store them otherwise pass `manual_from` and write this
//!   impl themselves.

macro_rules! checked_params {
    ($method:ident, $params:ident) => {
        checked_params!($method, $params, manual_from);

        impl From<$method> for $params {
            fn from(m: $method) -> Self {
                m.params
            }
        }
    };
    ($method:ident, $params:ident, manual_from) => {
        impl TryFrom<$params> for $method {
            type Error = $crate::XaiError;
            fn try_from(p: $params) -> $crate::Result<Self> {
                p.check()
            }
        }
    };
}
