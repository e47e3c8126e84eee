//! Label files of the Server Machine Dataset (SMD, OmniAnomaly).
//!
//! * `interpretation_label/machine-X-Y.txt`: one region a line,
//!   `start-end:s1,s2,...`, with `[start, end)` a 0-based, end-exclusive time
//!   range and `s1, s2, ...` **1-based** sensor numbers. On 24 of the 28
//!   machines the union of these ranges is exactly the set of points labelled
//!   1 in `test_label`; reading `end` as inclusive adds one point per region.
//! * `test_label/machine-X-Y.txt`: one `0` or `1` per test time step.
//!
//! Regions come back in file order (the files are not always sorted by time,
//! and machine-3-3 has nested regions), with 0-based features in the order
//! written.

use std::path::{Path, PathBuf};

use loc_metrics::Region;

use crate::error::{DataError, Result};
use crate::text::read_text;

/// Number of sensors of every SMD machine.
pub const SMD_N_SENSORS: usize = 38;

/// Parses the text of an `interpretation_label` file.
///
/// `file` only names the source in error messages. Blank lines are skipped;
/// surrounding whitespace (and `\r`) is ignored.
///
/// ```
/// use anomaly_data::smd_labels::parse_interpretation_label;
///
/// let regions = parse_interpretation_label("15-20:1,38\n", "machine-x.txt", 38)?;
/// assert_eq!((regions[0].start, regions[0].end), (15, 20));
/// assert_eq!(regions[0].features, vec![0, 37]);
///
/// let err = parse_interpretation_label("15-20:1,39\n", "machine-x.txt", 38).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "machine-x.txt: line 1: sensor 39 (1-based) exceeds the feature count 38: \"15-20:1,39\""
/// );
/// # Ok::<(), anomaly_data::DataError>(())
/// ```
///
/// # Errors
/// [`DataError::MalformedLabel`] naming file, line number, text and the
/// reason; [`DataError::SensorOutOfRange`] for a sensor above `n_features`.
pub fn parse_interpretation_label(
    text: &str,
    file: impl AsRef<Path>,
    n_features: usize,
) -> Result<Vec<Region>> {
    let file = file.as_ref();
    let mut regions = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        regions.push(parse_region_line(line, file, i + 1, n_features)?);
    }
    Ok(regions)
}

fn parse_region_line(line: &str, file: &Path, line_no: usize, n_features: usize) -> Result<Region> {
    let bad = |reason: String| DataError::MalformedLabel {
        path: file.to_path_buf(),
        line: line_no,
        text: line.to_string(),
        reason,
    };
    let (range, sensors) = line
        .split_once(':')
        .ok_or_else(|| bad("expected `start-end:s1,s2,...`, found no ':'".into()))?;
    let (start, end) = range
        .split_once('-')
        .ok_or_else(|| bad(format!("time range {range:?} is not `start-end`")))?;
    let number = |what: &str, s: &str| {
        s.trim()
            .parse::<usize>()
            .map_err(|_| bad(format!("{what} {s:?} is not a non-negative integer")))
    };
    let (start, end) = (number("start", start)?, number("end", end)?);
    if start >= end {
        return Err(bad(format!(
            "empty time range: start {start} is not below end {end}"
        )));
    }
    let mut features = Vec::new();
    let mut seen = vec![false; n_features];
    for s in sensors.split(',') {
        let sensor = number("sensor", s)?;
        if sensor == 0 {
            return Err(bad(
                "sensor 0 does not exist: sensor numbers are 1-based".into()
            ));
        }
        if sensor > n_features {
            return Err(DataError::SensorOutOfRange {
                path: file.to_path_buf(),
                line: line_no,
                text: line.to_string(),
                sensor,
                n_features,
            });
        }
        if std::mem::replace(&mut seen[sensor - 1], true) {
            return Err(bad(format!("sensor {sensor} is listed twice")));
        }
        features.push(sensor - 1);
    }
    Ok(Region {
        start,
        end,
        features,
    })
}

/// Reads and parses an `interpretation_label` file.
///
/// # Errors
/// [`DataError::Io`] if the file cannot be read (it may be xz-compressed, named
/// `*.xz`), else as [`parse_interpretation_label`].
pub fn read_interpretation_label(path: impl AsRef<Path>, n_features: usize) -> Result<Vec<Region>> {
    let path = path.as_ref();
    parse_interpretation_label(&read_text(path)?, path, n_features)
}

/// Parses the text of a `test_label` file: one `0` or `1` a line.
///
/// # Errors
/// [`DataError::MalformedLabel`] for any other line, blank lines included
/// (they would shift every later time step).
pub fn parse_test_label(text: &str, file: impl AsRef<Path>) -> Result<Vec<bool>> {
    let file = file.as_ref();
    text.lines()
        .enumerate()
        .map(|(i, raw)| match raw.trim() {
            "0" => Ok(false),
            "1" => Ok(true),
            other => Err(DataError::MalformedLabel {
                path: file.to_path_buf(),
                line: i + 1,
                text: other.to_string(),
                reason: "expected 0 or 1".into(),
            }),
        })
        .collect()
}

/// Reads and parses a `test_label` file.
///
/// # Errors
/// [`DataError::Io`] if the file cannot be read (it may be xz-compressed, named
/// `*.xz`), else as [`parse_test_label`].
pub fn read_test_label(path: impl AsRef<Path>) -> Result<Vec<bool>> {
    let path = path.as_ref();
    parse_test_label(&read_text(path)?, path)
}

/// The label files of one machine under an SMD directory (the one holding
/// `interpretation_label/` and `test_label/`), e.g. `machine-1-2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmdLabelFiles {
    /// `<dir>/interpretation_label/<machine>.txt`.
    pub interpretation: PathBuf,
    /// `<dir>/test_label/<machine>.txt`.
    pub test: PathBuf,
}

impl SmdLabelFiles {
    /// The paths of `machine`'s label files (not checked for existence).
    pub fn new(smd_dir: impl AsRef<Path>, machine: &str) -> Self {
        let dir = smd_dir.as_ref();
        SmdLabelFiles {
            interpretation: dir
                .join("interpretation_label")
                .join(format!("{machine}.txt")),
            test: dir.join("test_label").join(format!("{machine}.txt")),
        }
    }

    /// Reads the regions (with [`SMD_N_SENSORS`] features) and the point labels.
    ///
    /// # Errors
    /// As [`read_interpretation_label`] and [`read_test_label`].
    pub fn read(&self) -> Result<(Vec<Region>, Vec<bool>)> {
        Ok((
            read_interpretation_label(&self.interpretation, SMD_N_SENSORS)?,
            read_test_label(&self.test)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason_of(text: &str) -> (usize, String, String) {
        match parse_interpretation_label(text, "f.txt", 38).unwrap_err() {
            DataError::MalformedLabel {
                path,
                line,
                text,
                reason,
            } => {
                assert_eq!(path, PathBuf::from("f.txt"));
                (line, text, reason)
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn parses_regions_in_file_order_with_0_based_features() {
        let text = "4629-4688:9,10,11\r\n\n5486-5491:18\n  100-200 : 2 , 1 \n";
        let r = parse_interpretation_label(text, "m.txt", 38).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(
            r[0],
            Region {
                start: 4629,
                end: 4688,
                features: vec![8, 9, 10]
            }
        );
        assert_eq!(
            r[1],
            Region {
                start: 5486,
                end: 5491,
                features: vec![17]
            }
        );
        assert_eq!(
            r[2],
            Region {
                start: 100,
                end: 200,
                features: vec![1, 0]
            }
        );
    }

    #[test]
    fn malformed_lines_name_line_text_and_reason() {
        let (line, text, reason) = reason_of("1-2:1\n\n3-4 5\n");
        assert_eq!((line, text.as_str()), (3, "3-4 5"));
        assert!(reason.contains("no ':'"), "{reason}");
        assert!(reason_of("3:5").2.contains("not `start-end`"));
        assert!(reason_of("a-4:5").2.contains("start \"a\""));
        assert!(reason_of("3-4:5,x").2.contains("sensor \"x\""));
        assert!(reason_of("3-4:").2.contains("sensor \"\""));
        assert!(reason_of("3-4:5,").2.contains("sensor \"\""));
        assert!(reason_of("4-4:5").2.contains("empty time range"));
        assert!(reason_of("3-4:0").2.contains("1-based"));
        assert!(reason_of("3-4:5,6,5")
            .2
            .contains("sensor 5 is listed twice"));
        assert!(reason_of("-3-4:5").2.contains("start \"\""));
    }

    #[test]
    fn sensors_beyond_the_feature_count_are_errors() {
        let err = parse_interpretation_label("1-2:3,4,5", "f.txt", 4).unwrap_err();
        assert!(matches!(
            err,
            DataError::SensorOutOfRange {
                line: 1,
                sensor: 5,
                n_features: 4,
                ..
            }
        ));
    }

    #[test]
    fn test_labels() {
        assert_eq!(
            parse_test_label("0\n1\r\n1\n0\n", "t").unwrap(),
            vec![false, true, true, false]
        );
        let err = parse_test_label("0\n0.5\n", "t.txt").unwrap_err();
        assert_eq!(err.to_string(), "t.txt: line 2: expected 0 or 1: \"0.5\"");
        assert!(parse_test_label("0\n\n1\n", "t").is_err());
    }

    #[test]
    fn missing_file_is_an_io_error_naming_the_path() {
        let err = read_test_label("/nonexistent/machine-0-0.txt").unwrap_err();
        assert!(matches!(err, DataError::Io { .. }));
        assert!(err.to_string().contains("/nonexistent/machine-0-0.txt"));
    }
}
