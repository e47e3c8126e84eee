//! Kernel SHAP's error against model evaluations as a PNG: ours with each coalition
//! sampler and Captum 0.9's, one panel per game, from `ours.json` of
//! [`run`](super::run::run) and `captum.json` of `xtask/bench/kernel_shap_curve.py`.
//!
//! A line's x is the mean number of distinct coalitions the estimator evaluated per sample
//! (the full and the empty one included; Captum's repeated coalitions count each time, as
//! it evaluates them), its y the mean relative L2 distance to the true Shapley values.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anomaly_xai::data::DataError;
use anomaly_xai::image::ImageError;
use anomaly_xai::plot::{draw_error_curves, ErrorAxes, ErrorLine, ErrorPanel};
use anomaly_xai::{Error, Result};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use serde::Deserialize;

/// The rows and game descriptions of `ours.json` (and the rows of `captum.json`).
#[derive(Debug, Clone, Deserialize)]
pub struct Measured {
    /// One row per game, estimator and budget.
    pub rows: Vec<Point>,
    /// The games (absent from `captum.json`).
    #[serde(default)]
    pub games: Vec<GameInfo>,
}

/// What the figure reads of a game's description.
#[derive(Debug, Clone, Deserialize)]
pub struct GameInfo {
    /// The game's name.
    pub name: String,
    /// Its number of groups.
    pub groups: usize,
    /// "exact" (all coalitions enumerated) or "reference" (a large-budget estimate).
    #[serde(default)]
    pub truth: Option<String>,
}

/// What the figure reads of a row.
#[derive(Debug, Clone, Deserialize)]
pub struct Point {
    /// The game.
    pub game: String,
    /// The estimator.
    pub estimator: String,
    /// The budget asked for.
    pub budget: usize,
    /// Mean evaluations per sample.
    pub evals: f64,
    /// Mean relative L2 error.
    pub rel_error: f64,
}

fn read(path: &Path) -> Result<Measured> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| {
        DataError::Content {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
        .into()
    })
}

/// `ours` with the rows of `captum` (if given) added.
///
/// # Errors
/// [`Error::Io`] or [`DataError::Content`] naming a file that cannot be read or is not
/// such JSON.
pub fn read_measured(ours: &Path, captum: Option<&Path>) -> Result<Measured> {
    let mut m = read(ours)?;
    if let Some(c) = captum {
        m.rows.extend(read(c)?.rows);
    }
    Ok(m)
}

/// Legend names of the estimators the measurement scripts write.
pub fn label(estimator: &str) -> String {
    match estimator {
        "captum" => "Captum 0.9 KernelShap".into(),
        "ours_captum_scheme" => "ours, Captum's scheme".into(),
        "ours_old_default" => "ours, previous default (independent, paired)".into(),
        "ours_stratified_kernel" => "ours, stratified, kernel allocation".into(),
        "ours_stratified_leverage" => "ours, stratified, leverage (default)".into(),
        other => other.into(),
    }
}

/// One panel per game (`games`, or every game of the rows in order of appearance), one
/// line per estimator (`estimators`, or all in order of appearance) with one point per
/// budget (the last row of a budget wins). Errors of 1e-9 or less (all coalitions
/// enumerated: rounding) are left off the log axis; a line without points is left out.
pub fn panels(m: &Measured, games: &[String], estimators: &[String]) -> Vec<ErrorPanel> {
    let mut all_games: Vec<&String> = Vec::new();
    let mut all_estimators: Vec<&String> = Vec::new();
    for r in &m.rows {
        if !all_games.contains(&&r.game) {
            all_games.push(&r.game);
        }
        if !all_estimators.contains(&&r.estimator) {
            all_estimators.push(&r.estimator);
        }
    }
    let chosen = |given: &'_ [String], all: Vec<&'_ String>| -> Vec<String> {
        if given.is_empty() {
            all.into_iter().cloned().collect()
        } else {
            given.to_vec()
        }
    };
    let estimators = chosen(estimators, all_estimators);
    chosen(games, all_games)
        .iter()
        .map(|game| {
            let mut lines = Vec::new();
            for est in &estimators {
                let mut points: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
                for r in m
                    .rows
                    .iter()
                    .filter(|r| &r.game == game && &r.estimator == est)
                {
                    if r.rel_error > 1e-9 {
                        points.insert(r.budget, (r.evals, r.rel_error));
                    }
                }
                if !points.is_empty() {
                    lines.push(ErrorLine {
                        label: label(est),
                        points: points.into_values().collect(),
                    });
                }
            }
            let title = match m.games.iter().find(|g| &g.name == game) {
                Some(g) if g.truth.as_deref() == Some("reference") => {
                    format!("{}: {} groups, vs reference", g.name, g.groups)
                }
                Some(g) => format!("{}: {} groups, vs exact", g.name, g.groups),
                None => game.clone(),
            };
            ErrorPanel { title, lines }
        })
        .collect()
}

/// Draws `panels` into the PNG `out` (its folder created) of `size` pixels, `columns`
/// panels a row, and re-encodes it at the best compression (plotters compresses lightly;
/// the committed figure is small). Returns the file's size in bytes.
///
/// # Errors
/// [`Error::Plot`] for panels that cannot be drawn; [`Error::Io`] or [`Error::Image`]
/// naming a file that cannot be written or re-encoded.
pub fn draw(panels: &[ErrorPanel], columns: usize, size: (u32, u32), out: &Path) -> Result<u64> {
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let axes = ErrorAxes {
        cost: "model evaluations per sample".into(),
        error: "relative L2 error".into(),
        columns,
    };
    draw_error_curves(out, panels, &axes, size)?;
    let codec = |source| ImageError::Codec {
        path: out.display().to_string(),
        source,
    };
    let rgb = image::open(out).map_err(codec)?.to_rgb8();
    let file = fs::File::create(out).map_err(|e| Error::io(out, e))?;
    let encoder = PngEncoder::new_with_quality(
        std::io::BufWriter::new(file),
        CompressionType::Best,
        FilterType::Adaptive,
    );
    rgb.write_with_encoder(encoder).map_err(codec)?;
    Ok(fs::metadata(out).map_err(|e| Error::io(out, e))?.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured() -> Measured {
        serde_json::from_value(serde_json::json!({
            "games": [
                {"name": "a", "groups": 16, "truth": "exact"},
                {"name": "b", "groups": 38, "truth": "reference"},
            ],
            "rows": [
                {"game": "a", "estimator": "ours_captum_scheme", "budget": 100, "evals": 90.0, "rel_error": 0.2},
                {"game": "a", "estimator": "ours_captum_scheme", "budget": 50, "evals": 48.0, "rel_error": 0.4},
                {"game": "a", "estimator": "captum", "budget": 50, "evals": 50.0, "rel_error": 1e-12},
                {"game": "b", "estimator": "captum", "budget": 50, "evals": 50.0, "rel_error": 0.5},
            ],
        }))
        .unwrap()
    }

    #[test]
    fn a_panel_per_game_a_line_per_estimator_by_budget() {
        let p = panels(&measured(), &[], &[]);
        let titles: Vec<&str> = p.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(
            titles,
            ["a: 16 groups, vs exact", "b: 38 groups, vs reference"]
        );
        // Captum's only point on `a` is rounding: its line is left out.
        assert_eq!(p[0].lines.len(), 1);
        assert_eq!(p[0].lines[0].label, "ours, Captum's scheme");
        assert_eq!(p[0].lines[0].points, vec![(48.0, 0.4), (90.0, 0.2)]);
        assert_eq!(p[1].lines[0].label, "Captum 0.9 KernelShap");
        let only = panels(&measured(), &["b".into()], &["ours_captum_scheme".into()]);
        assert_eq!((only.len(), only[0].lines.len()), (1, 0));
    }

    #[test]
    fn a_missing_or_malformed_file_is_named() {
        let dir = std::env::temp_dir().join(format!("kshap-curve-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.json");
        fs::write(&bad, "{\"rows\": 3}").unwrap();
        let err = read_measured(&bad, None).unwrap_err().to_string();
        assert!(err.contains("bad.json"), "{err}");
        let err = read_measured(&dir.join("absent.json"), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("absent.json"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
