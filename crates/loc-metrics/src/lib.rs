//! Localization scores for anomaly explanations, in pure Rust.
//!
//! A detector says *when* something is anomalous; an explanation method says
//! *where* (which sensors, features or pixels). This crate measures how well
//! the "where" matches labelled ground truth, for any detector and any
//! explanation: it depends on no deep-learning runtime.
//!
//! | task | items |
//! |---|---|
//! | pick a predicted set from a score vector | [`Selection`] (AllPositive, GT@120%, AT@80%, AT@5, with or without the positive filter), [`Ranking`] |
//! | score a set against the truth | [`Overlap`], [`SetScore`] (IoU, F1 = Dice, paper 1's Acc, precision, recall) |
//! | evaluate labelled regions | [`Protocol`], [`Report`], [`region_mean`], [`Region`] |
//! | chance levels | [`chance`], [`Protocol::chance`] |
//! | SMD rank scores | [`RankMetric`] (HitRate@P%, NDCG@P%), [`evaluate_pointwise`] |
//! | pixel scores | [`PixelGroup`] → [`RankedPixels`]: exact AP, AP at 1000 thresholds, AUROC |
//! | corruption validation | [`recall_at_m`] |
//! | point labels ↔ regions | [`ranges_from_points`], [`points_from_regions`] (label files are read by `anomaly-data`) |
//! | tables | [`Table`], [`TableRow`] (mean ± std across seeds, markdown) |
//!
//! Conventions: features are 0-based `usize`; scores are any [`ScoreValue`]
//! (`f32`, `f64`, small integers) and all arithmetic is in `f64`; every score
//! is a fraction in [0, 1]. NaN or infinite scores are errors naming their
//! index, never silently wrong numbers, and no function panics on user input.
//! `docs/metrics.md` in the repository gives every definition precisely
//! enough to recompute any number by hand.
//!
//! ```
//! use loc_metrics::{Protocol, Region, Selection, SetScore, Table};
//! use ndarray::array;
//!
//! // Attribution scores, time × sensors, and one labelled region.
//! let scores = array![
//!     [0.1_f32, 0.0, 0.2, 0.0],
//!     [0.9, 0.1, 0.7, -0.2],
//!     [0.7, 0.0, 0.9, -0.1],
//! ];
//! let regions = vec![Region::new(1, 3, vec![0, 2])?];
//!
//! let protocol = Protocol::paper();
//! let report = protocol.evaluate_regions(scores.view(), &regions)?;
//! let chance = protocol.chance(&regions, 4)?;
//!
//! let mut table = Table::new(report.column_labels());
//! table.push(report.table_row("my method"))?;
//! table.push(chance.table_row("chance"))?;
//! assert!(table.to_markdown().starts_with("| method | GT@120% IoU |"));
//! # Ok::<(), loc_metrics::MetricsError>(())
//! ```

pub mod chance;
mod error;
mod input;
mod normalization;
mod pixel;
mod protocol;
mod rank_metrics;
mod ranking;
mod recall_at_m;
mod region;
mod selection;
mod set_scores;
mod stats;
mod table;

pub use error::{MetricsError, Result};
pub use input::ScoreValue;
pub use normalization::Normalization;
pub use pixel::{
    auroc, average_precision, PixelGroup, PixelScores, RankedPixels, PAPER_THRESHOLDS,
};
pub use protocol::{Column, Protocol, RegionResult, Report, VectorScores};
pub use rank_metrics::{
    evaluate_pointwise, hit_rate_at, ndcg_at, PointwiseReport, RankMetric, RankOptions, Rounding,
};
pub use ranking::{RankSpan, Ranking, Ties};
pub use recall_at_m::{recall_at_m, RecallCurve};
pub use region::{points_from_regions, ranges_from_points, region_mean, region_means, Region};
pub use selection::{Selection, MASS_TOLERANCE};
pub use set_scores::{Overlap, SetScore};
pub use stats::median;
pub use table::{Cell, Table, TableRow};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
