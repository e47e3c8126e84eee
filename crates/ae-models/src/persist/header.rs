//! Reading a safetensors file's header without reading its tensors.
//!
//! A safetensors file is an 8-byte little-endian header length `n`, `n` bytes of JSON that
//! map each tensor name to its dtype, shape and byte range in the data section, then the
//! data section. Reading only the header lets a loader compare names, shapes and dtypes
//! with the manifest, and find a truncated file, before it allocates anything: the sizes
//! it then trusts are bounded by the file's real length.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use crate::error::{ModelError, Result};

/// The largest header the safetensors format allows (the reference implementation's
/// limit), so a corrupt length cannot make us allocate gigabytes.
const MAX_HEADER_BYTES: u64 = 100_000_000;

/// One tensor as the header describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TensorInfo {
    /// The safetensors dtype tag (`"F32"`, `"F64"`, ...).
    pub(crate) dtype: String,
    /// The shape.
    pub(crate) shape: Vec<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    dtype: String,
    shape: Vec<u64>,
    data_offsets: [u64; 2],
}

fn corrupt(file: &Path, reason: String) -> ModelError {
    ModelError::CorruptFile {
        path: file.display().to_string(),
        reason,
    }
}

/// Bytes per element of every dtype the safetensors format defines.
fn element_bytes(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" => 1,
        "U16" | "I16" | "F16" | "BF16" => 2,
        "U32" | "I32" | "F32" => 4,
        "U64" | "I64" | "F64" => 8,
        _ => return None,
    })
}

/// Reads and checks the header of the safetensors file `file`: every entry well formed,
/// its byte range exactly the size its dtype and shape need, and the data section exactly
/// as long as the ranges say (a shorter one is a truncated file).
///
/// # Errors
/// [`ModelError::Io`] if the file cannot be opened or read; [`ModelError::CorruptFile`]
/// naming the file and what is wrong with it.
pub(crate) fn read_header(file: &Path) -> Result<BTreeMap<String, TensorInfo>> {
    let io = |source| ModelError::Io {
        path: file.display().to_string(),
        source,
    };
    let mut f = File::open(file).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    if len < 8 {
        return Err(corrupt(
            file,
            format!("{len} bytes, too short to hold the 8-byte header length"),
        ));
    }
    let mut n = [0u8; 8];
    f.read_exact(&mut n).map_err(io)?;
    let n = u64::from_le_bytes(n);
    if n > len - 8 {
        return Err(corrupt(
            file,
            format!(
                "the header length says {n} bytes, but only {} follow it (the file was cut short)",
                len - 8
            ),
        ));
    }
    if n > MAX_HEADER_BYTES {
        return Err(corrupt(
            file,
            format!("a header of {n} bytes is over the format's limit of {MAX_HEADER_BYTES}"),
        ));
    }
    let mut text = vec![0u8; n as usize];
    f.read_exact(&mut text).map_err(io)?;
    let raw: BTreeMap<String, serde_json::Value> = serde_json::from_slice(&text)
        .map_err(|e| corrupt(file, format!("the header is not valid JSON: {e}")))?;
    let data_len = len - 8 - n;
    let mut end_of_data = 0u64;
    let mut tensors = BTreeMap::new();
    for (name, value) in raw {
        if name == "__metadata__" {
            continue;
        }
        let e: RawEntry = serde_json::from_value(value)
            .map_err(|e| corrupt(file, format!("tensor {name}: malformed entry: {e}")))?;
        let bytes = element_bytes(&e.dtype)
            .ok_or_else(|| corrupt(file, format!("tensor {name}: unknown dtype {:?}", e.dtype)))?;
        let need = e
            .shape
            .iter()
            .try_fold(bytes, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| {
                corrupt(
                    file,
                    format!("tensor {name}: shape {:?} overflows", e.shape),
                )
            })?;
        let [start, end] = e.data_offsets;
        if end < start || end - start != need {
            return Err(corrupt(
                file,
                format!(
                    "tensor {name}: dtype {} and shape {:?} need {need} bytes, its offsets [{start}, {end}] do not span that",
                    e.dtype, e.shape
                ),
            ));
        }
        end_of_data = end_of_data.max(end);
        let shape = e
            .shape
            .iter()
            .map(|&d| i64::try_from(d))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| {
                corrupt(
                    file,
                    format!("tensor {name}: shape {:?} overflows", e.shape),
                )
            })?;
        tensors.insert(
            name,
            TensorInfo {
                dtype: e.dtype,
                shape,
            },
        );
    }
    if end_of_data > data_len {
        return Err(corrupt(
            file,
            format!(
                "the header promises {end_of_data} bytes of tensor data, the file holds {data_len} (the file was cut short)"
            ),
        ));
    }
    if end_of_data < data_len {
        return Err(corrupt(
            file,
            format!(
                "{} bytes after the last tensor that the header does not account for",
                data_len - end_of_data
            ),
        ));
    }
    Ok(tensors)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A safetensors file from its header JSON and data length.
    fn file(tag: &str, header: &str, data: usize) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "ae-models-header-{tag}-{}.safetensors",
            std::process::id()
        ));
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend(header.as_bytes());
        bytes.extend(vec![0u8; data]);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn reason(tag: &str, header: &str, data: usize) -> String {
        let path = file(tag, header, data);
        let r = read_header(&path);
        std::fs::remove_file(&path).ok();
        match r {
            Err(ModelError::CorruptFile { path: p, reason }) => {
                assert!(p.ends_with(".safetensors"), "{p}");
                reason
            }
            other => panic!("{tag}: expected CorruptFile, got {other:?}"),
        }
    }

    #[test]
    fn a_well_formed_header_is_read() {
        let path = file(
            "ok",
            r#"{"__metadata__": {"a": "b"}, "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, "b": {"dtype": "F64", "shape": [2], "data_offsets": [24, 40]}}"#,
            40,
        );
        let h = read_header(&path).unwrap();
        std::fs::remove_file(&path).ok();
        assert_eq!(h["w"].shape, vec![2, 3]);
        assert_eq!(h["b"].dtype, "F64");
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn every_defect_is_named() {
        let w = r#"{"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}"#;
        assert!(reason("short-data", w, 20)
            .contains("promises 24 bytes of tensor data, the file holds 20"));
        assert!(reason("long-data", w, 30).contains("6 bytes after the last tensor"));
        assert!(reason("json", "{not json", 0).contains("not valid JSON"));
        let big = r#"{"w": {"dtype": "F32", "shape": [100000000000, 2], "data_offsets": [0, 800000000000]}}"#;
        assert!(reason("huge", big, 8).contains("promises 800000000000 bytes"));
        let odd = r#"{"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}}"#;
        assert!(reason("span", odd, 20).contains("need 24 bytes"));
        let dt = r#"{"w": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 1]}}"#;
        assert!(reason("dtype", dt, 1).contains("unknown dtype \"Q4\""));
        let ovf = r#"{"w": {"dtype": "F32", "shape": [18446744073709551615, 2], "data_offsets": [0, 8]}}"#;
        assert!(reason("overflow", ovf, 8).contains("overflows"));
        // The header itself cut short, and a file too short for the length field.
        let path = file("cut", w, 24);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..30]).unwrap();
        let err = read_header(&path).unwrap_err().to_string();
        assert!(err.contains("only 22 follow it"), "{err}");
        std::fs::write(&path, [1u8, 2]).unwrap();
        let err = read_header(&path).unwrap_err().to_string();
        assert!(err.contains("2 bytes, too short"), "{err}");
        std::fs::remove_file(&path).ok();
    }
}
