//! The measurement's output: `ours.json` and `ours.csv` (rows of earlier runs kept, those
//! of the games run now replaced) and a markdown table per game.

use std::fs;
use std::path::{Path, PathBuf};

use anomaly_xai::{Error, Result};
use serde_json::Value;

use super::estimate::Row;
use super::games::GameName;

/// The columns of `ours.csv`, in order.
pub const CSV_COLUMNS: [&str; 9] = [
    "game",
    "estimator",
    "budget",
    "evals",
    "rel_error",
    "rel_error_se",
    "top3",
    "seeds",
    "samples",
];

/// The rows and game descriptions of `ours.json` in an output folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    out: PathBuf,
    rows: Vec<Value>,
    games: Vec<Value>,
}

impl Results {
    /// The results already in `out/ours.json` (none when it cannot be read), less the rows
    /// and descriptions of `games`, which are about to be measured again.
    ///
    /// # Errors
    /// [`Error::Json`] for a file that is not JSON.
    pub fn load(out: &Path, games: &[GameName]) -> Result<Results> {
        let (rows, games) = match fs::read_to_string(out.join("ours.json")) {
            Ok(text) => {
                let old: Value = serde_json::from_str(&text)?;
                let keep = |v: &Value, key: &str| !games.iter().any(|g| v[key] == g.name());
                let entries = |key: &str, name: &str| -> Vec<Value> {
                    old[key]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|v| keep(v, name))
                        .collect()
                };
                (entries("rows", "game"), entries("games", "name"))
            }
            Err(_) => (Vec::new(), Vec::new()),
        };
        Ok(Results {
            out: out.to_path_buf(),
            rows,
            games,
        })
    }

    /// Adds a game's rows and description.
    ///
    /// # Errors
    /// [`Error::Json`] if a row cannot be serialised.
    pub fn add(&mut self, rows: &[Row], game: Value) -> Result<()> {
        for r in rows {
            self.rows.push(serde_json::to_value(r)?);
        }
        self.games.push(game);
        Ok(())
    }

    /// Writes `ours.json` (`{"source": "xai-attrib", "games", "rows"}`) and `ours.csv`
    /// ([`CSV_COLUMNS`]); returns the JSON's path.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file that cannot be written.
    pub fn write(&self) -> Result<PathBuf> {
        let json = serde_json::json!({
            "source": "xai-attrib", "games": self.games, "rows": self.rows,
        });
        let path = self.out.join("ours.json");
        fs::write(&path, serde_json::to_string_pretty(&json)?).map_err(|e| Error::io(&path, e))?;
        let csv_path = self.out.join("ours.csv");
        fs::write(&csv_path, self.csv()).map_err(|e| Error::io(&csv_path, e))?;
        Ok(path)
    }

    /// The rows as CSV with a header.
    pub fn csv(&self) -> String {
        let mut csv = CSV_COLUMNS.join(",") + "\n";
        for r in &self.rows {
            let cells: Vec<String> = CSV_COLUMNS
                .iter()
                .map(|c| match &r[c] {
                    Value::String(s) => s.clone(),
                    v => v.to_string(),
                })
                .collect();
            csv += &(cells.join(",") + "\n");
        }
        csv
    }
}

/// A game's rows as a markdown table: one line per estimator, one column per budget, each
/// cell `rel_error (evals)`.
pub fn markdown_table(rows: &[Row]) -> String {
    let Some(first) = rows.first() else {
        return String::new();
    };
    let mut budgets: Vec<usize> = rows.iter().map(|r| r.budget).collect();
    budgets.sort_unstable();
    budgets.dedup();
    let mut t = format!("| {} | estimator |", first.game);
    budgets.iter().for_each(|b| t += &format!(" {b} |"));
    t += "\n|---|---|";
    budgets.iter().for_each(|_| t += "---|");
    t += "\n";
    let mut names: Vec<&str> = rows.iter().map(|r| r.estimator.as_str()).collect();
    names.dedup();
    for name in names {
        t += &format!("| | {name} |");
        for b in &budgets {
            if let Some(r) = rows.iter().find(|r| r.estimator == name && r.budget == *b) {
                t += &format!(" {:.4} ({:.0}) |", r.rel_error, r.evals);
            }
        }
        t += "\n";
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(game: &str, estimator: &str, budget: usize, rel_error: f64) -> Row {
        Row {
            game: game.into(),
            estimator: estimator.into(),
            budget,
            evals: budget as f64 - 0.4,
            rel_error,
            rel_error_se: 0.0,
            top3: 1.0,
            seeds: 2,
            samples: 1,
        }
    }

    #[test]
    fn table_has_a_column_per_budget() {
        let rows = [
            row("g", "a", 100, 0.5),
            row("g", "a", 50, 0.25),
            row("g", "b", 50, 0.125),
        ];
        let want = "| g | estimator | 50 | 100 |\n|---|---|---|---|\n\
                    | | a | 0.2500 (50) | 0.5000 (100) |\n| | b | 0.1250 (50) |\n";
        assert_eq!(markdown_table(&rows), want);
        assert_eq!(markdown_table(&[]), "");
    }

    #[test]
    fn a_new_run_replaces_its_games_and_keeps_the_others() {
        let dir = std::env::temp_dir().join(format!("kshap-report-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let mlp = GameName::SyntheticMlp;
        let mut r = Results::load(&dir, &[mlp]).unwrap();
        r.add(
            &[row("synthetic_mlp", "a", 50, 0.5)],
            serde_json::json!({"name": "synthetic_mlp"}),
        )
        .unwrap();
        r.add(
            &[row("lstm_smd_seeded", "a", 50, 0.0)],
            serde_json::json!({"name": "lstm_smd_seeded"}),
        )
        .unwrap();
        r.write().unwrap();
        let mut again = Results::load(&dir, &[mlp]).unwrap();
        assert_eq!((again.rows.len(), again.games.len()), (1, 1));
        again
            .add(
                &[row("synthetic_mlp", "a", 50, 0.25)],
                serde_json::json!({"name": "synthetic_mlp"}),
            )
            .unwrap();
        again.write().unwrap();
        let csv = fs::read_to_string(dir.join("ours.csv")).unwrap();
        assert_eq!(
            csv,
            "game,estimator,budget,evals,rel_error,rel_error_se,top3,seeds,samples\n\
             lstm_smd_seeded,a,50,49.6,0.0,0.0,1.0,2,1\n\
             synthetic_mlp,a,50,49.6,0.25,0.0,1.0,2,1\n"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
