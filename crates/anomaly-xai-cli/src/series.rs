//! Where `fit` and `explain` read a series: one machine of an SMD directory (its training
//! half as the normal series, its test half as the live one) or a CSV file with a header
//! of sensor names.

use std::path::{Path, PathBuf};

use clap::Args;

use anomaly_xai::data::{NamedSeries, SmdMachine};
use anomaly_xai::ndarray::Array2;

use crate::error::{CliError, Result};

/// The series flags: `--data-dir` with `--machine`, or `--csv`.
#[derive(Args, Debug, Clone)]
pub struct SeriesArgs {
    /// Directory in the SMD layout (with --machine)
    #[arg(long, requires = "machine", conflicts_with = "csv")]
    pub data_dir: Option<PathBuf>,
    /// The machine of --data-dir
    #[arg(long, requires = "data_dir")]
    pub machine: Option<String>,
    /// A CSV file: a header of sensor names, then one row of values per step
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

/// Which half of an SMD machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    /// The training half (normal data).
    Train,
    /// The test half (the live series).
    Test,
}

/// A series read from the flags.
pub struct Series {
    /// Its name (the machine, or the file's stem).
    pub name: String,
    /// The sensors' names, when the source has them.
    pub names: Option<Vec<String>>,
    /// The values `[steps, sensors]`.
    pub values: Array2<f32>,
}

impl SeriesArgs {
    /// Checks that the flags name one series whose files exist, before any work.
    ///
    /// # Errors
    /// [`CliError::Arg`] naming the flag.
    pub fn check(&self) -> Result<()> {
        match (&self.data_dir, &self.machine, &self.csv) {
            (Some(dir), Some(machine), None) => {
                SmdMachine::files(dir, machine).map_err(|e| CliError::Arg {
                    arg: "--machine",
                    value: machine.clone(),
                    rule: e.to_string(),
                })?;
                Ok(())
            }
            (None, None, Some(csv)) if csv.is_file() => Ok(()),
            (None, None, Some(csv)) => Err(CliError::Arg {
                arg: "--csv",
                value: csv.display().to_string(),
                rule: "is not a file".into(),
            }),
            _ => Err(CliError::Arg {
                arg: "--data-dir/--machine/--csv",
                value: "none".into(),
                rule: "give a series: --data-dir DIR --machine NAME, or --csv FILE".into(),
            }),
        }
    }

    /// Reads the series (`half` of an SMD machine).
    ///
    /// # Errors
    /// The data's, naming the file and line.
    pub fn read(&self, half: Half) -> Result<Series> {
        if let (Some(dir), Some(name)) = (&self.data_dir, &self.machine) {
            let m = SmdMachine::load(dir, name).map_err(anomaly_xai::Error::from)?;
            return Ok(Series {
                name: name.clone(),
                names: None,
                values: match half {
                    Half::Train => m.train,
                    Half::Test => m.test,
                },
            });
        }
        let path = self.csv.as_deref().unwrap_or(Path::new(""));
        let s = NamedSeries::load(path).map_err(anomaly_xai::Error::from)?;
        Ok(Series {
            name: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "series".into()),
            names: Some(s.names),
            values: s.values,
        })
    }
}
