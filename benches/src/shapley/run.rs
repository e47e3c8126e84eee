//! One run of the measurement: every game of the settings built, measured and written.

use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use anomaly_xai::attrib::ErrorScorer;
use anomaly_xai::models::ErrorNorm;
use anomaly_xai::{Error, Result};
use serde_json::Value;
use tch::{Device, Kind, Tensor};

use super::estimate::{measure_table, Row};
use super::game::Game;
use super::games::{dense, lstm, lstm_meta, mlp, mlp_description, Export, GameName};
use super::large::{measure_large, LargeGame, LargeRuns};
use super::report::Results;
use super::settings::Settings;
use crate::reference::Size;

/// Checks `settings`, then builds and measures every game in turn, handing each game's
/// rows to `done` as it finishes, and writes `ours.json`, `ours.csv` and the games' files
/// into `settings.out`. Returns the path of `ours.json`. Progress goes to stderr.
///
/// # Errors
/// [`Settings::check`]'s; [`Error::Io`] naming an output file or folder that cannot be
/// written; a loader's error for missing data; the models' and estimators' errors.
pub fn run(settings: &Settings, mut done: impl FnMut(&[Row])) -> Result<PathBuf> {
    settings.check()?;
    fs::create_dir_all(&settings.out).map_err(|e| Error::io(&settings.out, e))?;
    let mut results = Results::load(&settings.out, &settings.games)?;
    for &name in &settings.games {
        let (rows, meta) = run_game(name, settings)?;
        done(&rows);
        results.add(&rows, meta)?;
    }
    let path = results.write()?;
    eprintln!("wrote {}", path.display());
    Ok(path)
}

/// Runs one game: its rows and its description for `ours.json`.
fn run_game(name: GameName, s: &Settings) -> Result<(Vec<Row>, Value)> {
    let games_dir = s.out.join("games");
    if name.is_large() {
        return run_large(name, s, &games_dir);
    }
    let cpu = |kind| (kind, Device::Cpu);
    let reused = s.reuse && games_dir.join(format!("{name}.safetensors")).exists();
    let game = if reused {
        Game::read(&games_dir, name.name())?
    } else {
        match name {
            GameName::SyntheticMlp => {
                let (f, _) = mlp(16);
                let x = Tensor::randn([s.samples as i64, 16], cpu(Kind::Double));
                let ids = Tensor::arange(16, cpu(Kind::Int64));
                let note = mlp_description(16);
                Game::tabulate(name.name(), note, &f, &x, &x.zeros_like(), &ids)?
            }
            GameName::DenseBreastCancer => {
                let (model, x, means, note) = dense(&s.breast_cancer, s.samples)?;
                let ids = Tensor::arange(30, cpu(Kind::Int64)).divide_scalar_mode(2, "floor");
                let scorer = ErrorScorer::new(&model, ErrorNorm::L1)?;
                let baseline = means.expand_as(&x).contiguous();
                let note = format!("{note}; 15 groups of two neighbouring features");
                Game::tabulate(name.name(), note, &scorer, &x, &baseline, &ids)?
            }
            _ => {
                let epochs = (name == GameName::LstmSmdTrained).then_some(s.train_epochs);
                let (model, x, means, note) = lstm(&s.smd_dir, epochs, s.samples)?;
                // Sensor s in group ⌊16 s / 38⌋: 16 groups of two or three neighbours.
                let ids = (Tensor::arange(Size::PAPER1.sensors, cpu(Kind::Int64)) * 16)
                    .divide_scalar_mode(Size::PAPER1.sensors, "floor")
                    .expand(Size::PAPER1.sample(), false)
                    .contiguous();
                let scorer = ErrorScorer::new(&model, ErrorNorm::L1)?;
                let baseline = means.expand_as(&x).contiguous();
                let note = format!("{note}; sensors in 16 groups of neighbours");
                Game::tabulate(name.name(), note, &scorer, &x, &baseline, &ids)?
            }
        }
    };
    eprintln!(
        "{}: {} groups, {} samples, {} coalitions each, ready in {:.1} s",
        game.name,
        game.m,
        game.values.len(),
        1usize << game.m,
        game.seconds
    );
    if !reused {
        game.write(&games_dir)?;
    }
    let start = Instant::now();
    let rows = measure_table(&game, s.seeds, &s.budgets)?;
    eprintln!("  measured in {:.1} s", start.elapsed().as_secs_f64());
    let meta = serde_json::json!({
        "name": game.name, "groups": game.m, "samples": game.values.len(),
        "description": game.description, "truth": "exact",
    });
    Ok((rows, meta))
}

/// Runs one game too large to enumerate, one group per sensor or feature.
fn run_large(
    name: GameName,
    s: &Settings,
    games_dir: &std::path::Path,
) -> Result<(Vec<Row>, Value)> {
    let cpu = |kind| (kind, Device::Cpu);
    let runs = LargeRuns {
        reference_budget: s.reference_budget,
        seeds: s.large_seeds,
        budgets: &s.large_budgets,
    };
    match name {
        GameName::SyntheticMlp38 => {
            let (f, export) = mlp(38);
            let x = Tensor::randn([s.large_samples as i64, 38], cpu(Kind::Double));
            let ids = Tensor::arange(38, cpu(Kind::Int64));
            let game = LargeGame {
                name: name.name(),
                description: mlp_description(38),
                scorer: &f,
                baseline: x.zeros_like(),
                x,
                ids,
                export,
            };
            measure_large(&game, runs, games_dir)
        }
        GameName::DenseBreastCancer30 => {
            let (model, x, means, note) = dense(&s.breast_cancer, s.large_samples)?;
            let ids = Tensor::arange(30, cpu(Kind::Int64));
            let meta = serde_json::json!({ "kind": "dense_ae", "layers": 2, "norm": "L1" });
            let game = LargeGame {
                name: name.name(),
                description: format!("{note}; one group per feature"),
                scorer: &ErrorScorer::new(&model, ErrorNorm::L1)?,
                baseline: means.expand_as(&x).contiguous(),
                x,
                ids,
                export: Export::of(meta, &model),
            };
            measure_large(&game, runs, games_dir)
        }
        _ => {
            let (model, x, means, note) = lstm(&s.smd_dir, Some(s.train_epochs), s.large_samples)?;
            let ids = Tensor::arange(Size::PAPER1.sensors, cpu(Kind::Int64))
                .expand(Size::PAPER1.sample(), false)
                .contiguous();
            let game = LargeGame {
                name: name.name(),
                description: format!("{note}; one group per sensor"),
                scorer: &ErrorScorer::new(&model, ErrorNorm::L1)?,
                baseline: means.expand_as(&x).contiguous(),
                x,
                ids,
                export: Export::of(lstm_meta(), &model),
            };
            measure_large(&game, runs, games_dir)
        }
    }
}
