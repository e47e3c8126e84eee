//! The same explanations under every normalization, side by side: reads the
//! `results.json` of `smd_localization` runs (made with a normalization, so that they
//! kept the reference windows' scores) and scores every method's raw region scores again
//! under each [`Normalization`], with and without GT@120%'s positive filter, and under
//! "rank by the centred score, filter on the raw sign" (a first idea for the default, kept here
//! as a comparison rather than a library setting). No explanation is recomputed.
//!
//! ```sh
//! cargo run --release --example normalization_study -- results/smd-all/results.json \
//!     [--min-truth 10] [--max-truth 9]
//! ```

mod common;

use std::path::PathBuf;
use std::process::ExitCode;

use anomaly_xai::localizer::{LocalizationRun, MethodRun, Normalization};
use anomaly_xai::metrics::{Column, Protocol, RankMetric, Region, Report, Selection, SetScore};
use anomaly_xai::{Error, Result};
use clap::Parser;
use ndarray::{Array2, Axis};

#[derive(Parser, Debug)]
#[command(about = "Every normalization on the same explanations, filtered and unfiltered")]
struct Args {
    /// `results.json` files of `smd_localization` (regions of all of them are pooled)
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Only regions with at least this many labelled sensors
    #[arg(long, default_value_t = 1)]
    min_truth: usize,
    /// Only regions with at most this many labelled sensors
    #[arg(long)]
    max_truth: Option<usize>,
}

const GT: Column = Column::Set {
    selection: Selection::GT_120,
    score: SetScore::Iou,
};
const GT_UNFILTERED: Column = Column::Set {
    selection: Selection::GT_120_UNFILTERED,
    score: SetScore::Iou,
};
const HIT: Column = Column::Rank {
    metric: RankMetric::HIT_150,
};

fn protocol() -> Protocol {
    Protocol::new(
        vec![Selection::GT_120, Selection::GT_120_UNFILTERED],
        vec![SetScore::Iou],
        vec![RankMetric::HIT_150],
    )
}

/// One way of turning raw scores into the scores that are ranked.
#[derive(Clone, Copy)]
enum Variant {
    Plain(Normalization),
    /// The centred normalization's order, the raw attribution's sign: every sensor with
    /// a positive raw score ranks above every other, each group in the normalization's
    /// order (so the positive filter reads the raw sign).
    RawSign(Normalization),
}

impl Variant {
    fn label(self) -> String {
        match self {
            Variant::Plain(n) => n.name().to_string(),
            Variant::RawSign(n) => format!("{} order, raw sign", n.name()),
        }
    }

    fn scores(self, run: &MethodRun) -> Result<Array2<f64>> {
        match self {
            Variant::Plain(n) => run.normalized(n),
            Variant::RawSign(n) => {
                let mut out = run.normalized(n)?;
                for (mut row, raw) in out.rows_mut().into_iter().zip(run.raw_scores.rows()) {
                    let lo = row.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    for (v, &r) in row.iter_mut().zip(raw) {
                        *v = if r > 0.0 {
                            1.0 + *v - lo
                        } else {
                            *v - hi - 1.0
                        };
                    }
                }
                Ok(out)
            }
        }
    }
}

fn main() -> ExitCode {
    common::exit_code(run(Args::parse()))
}

fn run(args: Args) -> Result<()> {
    let mut machines: Vec<LocalizationRun> = Vec::new();
    for path in &args.runs {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let runs: Vec<LocalizationRun> = serde_json::from_str(&text)?;
        machines.extend(runs);
    }
    let keep = |r: &Region| {
        r.features.len() >= args.min_truth && args.max_truth.is_none_or(|m| r.features.len() <= m)
    };
    let variants = [
        Variant::Plain(Normalization::None),
        Variant::Plain(Normalization::Standardize),
        Variant::Plain(Normalization::Robust),
        Variant::Plain(Normalization::Scale),
        Variant::RawSign(Normalization::Standardize),
        Variant::RawSign(Normalization::Robust),
    ];
    let p = protocol();
    let labels: Vec<String> = machines
        .first()
        .map(|m| m.by_method().into_iter().map(|(l, _)| l).collect())
        .unwrap_or_default();
    // reports[method][variant] = the reports of every machine and seed, pooled below.
    let mut reports: Vec<Vec<Vec<Report>>> = Vec::new();
    let mut chances = Vec::new();
    let mut n_regions = 0;
    for machine in &machines {
        let idx: Vec<usize> = (0..machine.regions.len())
            .filter(|&i| keep(&machine.regions[i]))
            .collect();
        if idx.is_empty() {
            continue;
        }
        n_regions += idx.len();
        let regions: Vec<Region> = idx.iter().map(|&i| machine.regions[i].clone()).collect();
        chances.push(p.chance(&regions, machine.runs[0].raw_scores.ncols())?);
        for (m, (label, runs)) in machine.by_method().into_iter().enumerate() {
            if labels.get(m) != Some(&label) {
                return Err(Error::InvalidSetting {
                    setting: "runs",
                    value: label,
                    rule: "every run must hold the same methods in the same order".into(),
                });
            }
            if reports.len() <= m {
                reports.push(vec![Vec::new(); variants.len()]);
            }
            for (v, variant) in variants.iter().enumerate() {
                for run in &runs {
                    let scores = variant.scores(run)?.select(Axis(0), &idx);
                    reports[m][v].push(p.evaluate_vectors(&regions, scores.view())?);
                }
            }
        }
    }
    // results[method][variant] = pooled report over machines and seeds.
    let results: Vec<Vec<Report>> = reports
        .iter()
        .map(|row| row.iter().map(|cell| Report::pool(cell)).collect())
        .collect::<std::result::Result<_, _>>()?;
    if chances.is_empty() {
        return Err(Error::InvalidSetting {
            setting: "--min-truth / --max-truth",
            value: format!("{} / {:?}", args.min_truth, args.max_truth),
            rule: "leave no region".into(),
        });
    }
    let chance = Report::pool(&chances)?;
    println!(
        "{} machines, {} regions (labelled sensors {}..={})\n",
        machines.len(),
        n_regions,
        args.min_truth,
        args.max_truth.map_or("any".into(), |m| m.to_string())
    );
    for (title, column) in [
        ("GT@120% IoU, positive filter", GT),
        ("GT@120% IoU, no filter", GT_UNFILTERED),
        ("HitRate@150%", HIT),
    ] {
        println!("### {title}\n");
        let mut head = String::from("| method |");
        let mut rule = String::from("|---|");
        for v in &variants {
            head.push_str(&format!(" {} |", v.label()));
            rule.push_str("---:|");
        }
        println!("{head}\n{rule}");
        for (label, row) in labels.iter().zip(&results) {
            let cells: Vec<String> = row
                .iter()
                .map(|r| format!("{:.2}", 100.0 * r.mean_of(column).unwrap_or(f64::NAN)))
                .collect();
            println!("| {label} | {} |", cells.join(" | "));
        }
        let c = 100.0 * chance.mean_of(column).unwrap_or(f64::NAN);
        println!(
            "| chance | {} |\n",
            vec![format!("{c:.2}"); variants.len()].join(" | ")
        );
    }
    Ok(())
}
