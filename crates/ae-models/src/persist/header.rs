//! Reading a safetensors file: its header first, without its tensors, then its tensors.
//!
//! A safetensors file is an 8-byte little-endian header length `n`, `n` bytes of JSON that
//! map each tensor name to its dtype, shape and byte range in the data section, then the
//! data section. The header is parsed by the `safetensors` crate (its `Metadata`, with the
//! format's dtypes and the same 100 MB limit); this module reads only the header's bytes,
//! so a loader can compare names, shapes and dtypes with the manifest, and find a
//! truncated file, before it allocates anything: the sizes it then trusts are bounded by
//! the file's real length. Every defect is one sentence naming the file
//! ([`ModelError::CorruptFile`]), never the crate's bare error name.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use safetensors::tensor::Metadata;
use safetensors::{Dtype, SafeTensorError, SafeTensors};
use tch::{Kind, Tensor};

use crate::checks::check_finite;
use crate::error::{ModelError, Result};

/// The largest header the safetensors format allows (the `safetensors` crate's limit),
/// so a corrupt length cannot make us allocate gigabytes.
const MAX_HEADER_BYTES: u64 = 100_000_000;

/// One tensor as the header describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TensorInfo {
    /// The safetensors dtype tag (`"F32"`, `"F64"`, ...).
    pub(crate) dtype: String,
    /// The shape.
    pub(crate) shape: Vec<i64>,
}

fn corrupt(file: &Path, reason: String) -> ModelError {
    ModelError::CorruptFile {
        path: file.display().to_string(),
        reason,
    }
}

/// The header length `n` and the header's bytes, read after checking `n` against the
/// file's length and the format's limit.
fn header_bytes(file: &Path) -> Result<(u64, Vec<u8>, u64)> {
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
                "the header length says {n} bytes, but only {} follow it (the file was cut short, or it is not a safetensors file)",
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
    Ok((n, text, len))
}

/// The header parsed by the `safetensors` crate, in one sentence when it cannot be.
fn parse_metadata(file: &Path, text: &[u8]) -> Result<Metadata> {
    let text = std::str::from_utf8(text).map_err(|e| {
        corrupt(
            file,
            format!("the header is not UTF-8 text ({e}): not a safetensors file"),
        )
    })?;
    if !text.starts_with('{') {
        return Err(corrupt(
            file,
            "the header does not start with `{`: not a safetensors file".into(),
        ));
    }
    serde_json::from_str(text).map_err(|e| {
        corrupt(
            file,
            format!("the header is not a valid safetensors header: {e}"),
        )
    })
}

/// Reads and checks the header of the safetensors file `file`: every entry well formed,
/// the tensors' byte ranges back to back, each exactly the size its dtype and shape need,
/// and the data section exactly as long as the ranges say (a shorter one is a truncated
/// file). The tensors' data is not read.
///
/// # Errors
/// [`ModelError::Io`] if the file cannot be opened or read; [`ModelError::CorruptFile`]
/// naming the file and what is wrong with it.
pub(crate) fn read_header(file: &Path) -> Result<BTreeMap<String, TensorInfo>> {
    let (n, text, len) = header_bytes(file)?;
    let metadata = parse_metadata(file, &text)?;
    let data_len = len - 8 - n;
    let mut tensors: Vec<_> = metadata.tensors().into_iter().collect();
    tensors.sort_by_key(|(_, t)| t.data_offsets);
    let mut end_of_data = 0u64;
    let mut out = BTreeMap::new();
    for (name, t) in tensors {
        let overflows = || {
            corrupt(
                file,
                format!("tensor {name}: shape {:?} overflows", t.shape),
            )
        };
        let need = t
            .shape
            .iter()
            .try_fold(t.dtype.size() as u64, |acc, &d| acc.checked_mul(d as u64))
            .ok_or_else(overflows)?;
        let (start, end) = (t.data_offsets.0 as u64, t.data_offsets.1 as u64);
        if start != end_of_data {
            return Err(corrupt(
                file,
                format!(
                    "tensor {name}: its data starts at byte {start}, the previous tensor ends at {end_of_data} (the ranges must be back to back)"
                ),
            ));
        }
        if end < start || end - start != need {
            return Err(corrupt(
                file,
                format!(
                    "tensor {name}: dtype {:?} and shape {:?} need {need} bytes, its offsets [{start}, {end}] do not span that",
                    t.dtype, t.shape
                ),
            ));
        }
        end_of_data = end;
        let shape = t
            .shape
            .iter()
            .map(|&d| i64::try_from(d))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| overflows())?;
        out.insert(
            name,
            TensorInfo {
                dtype: format!("{:?}", t.dtype),
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
    Ok(out)
}

/// The libtorch kind of a safetensors dtype, `None` for the unsigned types libtorch lacks.
fn kind_of(dtype: Dtype) -> Option<Kind> {
    Some(match dtype {
        Dtype::BOOL => Kind::Bool,
        Dtype::U8 => Kind::Uint8,
        Dtype::I8 => Kind::Int8,
        Dtype::I16 => Kind::Int16,
        Dtype::I32 => Kind::Int,
        Dtype::I64 => Kind::Int64,
        Dtype::F16 => Kind::Half,
        Dtype::BF16 => Kind::BFloat16,
        Dtype::F32 => Kind::Float,
        Dtype::F64 => Kind::Double,
        _ => return None,
    })
}

/// Reads every tensor of the safetensors file `file` (after [`read_header`] has checked
/// it) onto the CPU, and checks every floating-point value is finite.
///
/// # Errors
/// As [`read_header`]; [`ModelError::CorruptFile`] for a dtype libtorch has no type for
/// (`U16`, `U32`, `U64`); [`ModelError::NonFinite`] naming the file, the tensor and the
/// first NaN or infinite value's flat index.
pub(crate) fn read_tensors(file: &Path) -> Result<BTreeMap<String, Tensor>> {
    read_header(file)?;
    let bytes = std::fs::read(file).map_err(|source| ModelError::Io {
        path: file.display().to_string(),
        source,
    })?;
    // The header was checked above; the file can only have changed in between.
    let st = SafeTensors::deserialize(&bytes).map_err(|e| {
        corrupt(
            file,
            format!("the file changed while it was read ({})", describe(&e)),
        )
    })?;
    let mut out = BTreeMap::new();
    for (name, view) in st.tensors() {
        let kind = kind_of(view.dtype()).ok_or_else(|| {
            corrupt(
                file,
                format!(
                    "tensor {name} is stored as {:?}, which libtorch cannot hold",
                    view.dtype()
                ),
            )
        })?;
        let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
        let t = Tensor::f_from_data_size(view.data(), &shape, kind)?;
        if matches!(
            kind,
            Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16
        ) {
            check_finite(&t, &format!("{}: parameter {name}", file.display()))?;
        }
        out.insert(name, t);
    }
    Ok(out)
}

/// One sentence for an error of the `safetensors` crate.
fn describe(e: &SafeTensorError) -> String {
    match e {
        SafeTensorError::MetadataIncompleteBuffer => {
            "the tensors' byte ranges do not end where the file ends".into()
        }
        SafeTensorError::InvalidOffset(name) => format!("tensor {name} has invalid byte offsets"),
        SafeTensorError::TensorInvalidInfo => {
            "a tensor's byte range does not match its dtype and shape".into()
        }
        SafeTensorError::HeaderTooLarge => "the header is over the format's size limit".into(),
        SafeTensorError::HeaderTooSmall | SafeTensorError::InvalidHeaderLength => {
            "the header length does not fit the file".into()
        }
        other => format!("{other:?}"),
    }
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
        assert!(reason("json", "{not json", 0).contains("not a valid safetensors header"));
        assert!(reason("start", "[1, 2]", 0).contains("does not start with `{`"));
        let big = r#"{"w": {"dtype": "F32", "shape": [100000000000, 2], "data_offsets": [0, 800000000000]}}"#;
        assert!(reason("huge", big, 8).contains("promises 800000000000 bytes"));
        let odd = r#"{"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}}"#;
        assert!(reason("span", odd, 20).contains("need 24 bytes"));
        let dt = r#"{"w": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 1]}}"#;
        let msg = reason("dtype", dt, 1);
        assert!(
            msg.contains("not a valid safetensors header") && msg.contains("Q4"),
            "{msg}"
        );
        let gap = r#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#;
        assert!(reason("gap", gap, 8).contains("starts at byte 4, the previous tensor ends at 0"));
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
