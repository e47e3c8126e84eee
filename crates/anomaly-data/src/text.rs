//! Reading text files, plain or xz-compressed.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::error::{DataError, Result};

/// Reads a text file, decompressing it when its name ends in `.xz`.
///
/// # Errors
/// [`DataError::Io`] naming the file, also for corrupt xz data or invalid UTF-8.
pub fn read_text(path: &Path) -> Result<String> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let mut text = String::new();
    if path.extension().is_some_and(|e| e == "xz") {
        xz2::read::XzDecoder::new(BufReader::new(file)).read_to_string(&mut text)
    } else {
        BufReader::new(file).read_to_string(&mut text)
    }
    .map_err(io)?;
    Ok(text)
}

/// The non-empty lines of a names file (one column name a line), trimmed.
pub(crate) fn read_names(path: &Path) -> Result<Vec<String>> {
    Ok(read_text(path)?
        .lines()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect())
}
