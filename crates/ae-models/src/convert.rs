//! Conversions between `ndarray` arrays and `tch` tensors (f32, any dimension).
//!
//! The data pipeline (scaling, windowing, metrics) lives in `ndarray`; models run on
//! `tch`. These two functions are the only bridge, so shapes are checked once, here.

use ndarray::{ArrayD, ArrayViewD, Dimension, IxDyn};
use tch::{Device, Kind, Tensor};

use crate::checks::check_finite_array;
use crate::error::{ModelError, Result};

/// Copies an f32 array of any dimension into a new tensor on `device`.
///
/// Non-contiguous views (e.g. transposed or sliced arrays) are handled by copying them
/// into standard layout first.
///
/// ```
/// use ndarray::array;
/// use ae_models::convert::{array_to_tensor, tensor_to_array};
/// let a = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
/// let t = array_to_tensor(&a.view().into_dyn(), tch::Device::Cpu)?;
/// assert_eq!(t.size(), vec![2, 3]);
/// let back = tensor_to_array(&t)?;
/// assert_eq!(back, a.into_dyn());
/// # Ok::<(), ae_models::ModelError>(())
/// ```
pub fn array_to_tensor(a: &ArrayViewD<'_, f32>, device: Device) -> Result<Tensor> {
    let shape: Vec<i64> = a.shape().iter().map(|&d| d as i64).collect();
    let t = match a.as_slice() {
        Some(s) => Tensor::f_from_slice(s)?,
        None => {
            let owned: Vec<f32> = a.iter().copied().collect();
            Tensor::f_from_slice(&owned)?
        }
    };
    Ok(t.f_reshape(&shape)?.f_to_device(device)?)
}

/// Copies a tensor (any float dtype, any device) into an f32 array of the same shape.
///
/// Integer and boolean tensors are rejected rather than silently converted, because in
/// this workspace they are always masks or indices, never data.
pub fn tensor_to_array(t: &Tensor) -> Result<ArrayD<f32>> {
    match t.kind() {
        Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16 => {}
        k => {
            return Err(ModelError::UnsupportedDtype {
                what: "tensor_to_array",
                dtype: format!("{k:?}"),
            })
        }
    }
    let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
    let flat = t
        .f_to_device(Device::Cpu)?
        .f_to_kind(Kind::Float)?
        .f_contiguous()?
        .f_view([-1])?;
    let n = flat.size()[0] as usize;
    let mut data = vec![0f32; n];
    flat.f_copy_data(&mut data, n)?;
    ArrayD::from_shape_vec(IxDyn(&shape), data).map_err(|_| ModelError::ShapeMismatch {
        what: "tensor_to_array".into(),
        expected: format!("{} elements", shape.iter().product::<usize>()),
        got: vec![n as i64],
    })
}

/// The values of a tensor of any dtype and device, flattened row-major, as `f64`: for
/// the small per-sample results (scores, sums, deltas) that leave libtorch.
pub fn tensor_to_f64s(t: &Tensor) -> Result<Vec<f64>> {
    Ok(Vec::<f64>::try_from(
        &t.f_to_kind(Kind::Double)?
            .f_to_device(Device::Cpu)?
            .f_flatten(0, -1)?,
    )?)
}

/// Like [`array_to_tensor`] but also requires the array to have exactly `expected`
/// dimensions and finite values, naming `what` in the error.
pub fn checked_array_to_tensor<D: Dimension>(
    what: &str,
    a: &ndarray::ArrayView<'_, f32, D>,
    expected_ndim: usize,
    device: Device,
) -> Result<Tensor> {
    if a.ndim() != expected_ndim {
        return Err(ModelError::ShapeMismatch {
            what: what.into(),
            expected: format!("{expected_ndim} dimensions"),
            got: a.shape().iter().map(|&d| d as i64).collect(),
        });
    }
    check_finite_array(a, what)?;
    array_to_tensor(&a.view().into_dyn(), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array3, ShapeBuilder};

    #[test]
    fn round_trip_keeps_values_and_shape_in_every_dimension() {
        for shape in [vec![5], vec![2, 3], vec![2, 3, 4], vec![1, 2, 1, 3, 2]] {
            let n: usize = shape.iter().product();
            let a = ArrayD::from_shape_vec(IxDyn(&shape), (0..n).map(|i| i as f32 * 0.5).collect())
                .unwrap();
            let t = array_to_tensor(&a.view(), Device::Cpu).unwrap();
            assert_eq!(
                t.size(),
                shape.iter().map(|&d| d as i64).collect::<Vec<_>>()
            );
            assert_eq!(tensor_to_array(&t).unwrap(), a);
        }
    }

    #[test]
    fn non_contiguous_views_are_copied_in_logical_order() {
        let a = Array3::from_shape_fn((2, 3, 4).f(), |(i, j, k)| (i * 100 + j * 10 + k) as f32);
        let t = array_to_tensor(&a.view().into_dyn(), Device::Cpu).unwrap();
        assert_eq!(t.double_value(&[1, 2, 3]), 123.0);
        let back = tensor_to_array(&t).unwrap();
        assert_eq!(back, a.into_dyn());
    }

    #[test]
    fn double_tensors_convert_and_integer_tensors_are_rejected() {
        let t = Tensor::from_slice(&[1.5f64, 2.5]);
        assert_eq!(
            tensor_to_array(&t).unwrap().as_slice().unwrap(),
            &[1.5f32, 2.5]
        );
        let err = tensor_to_array(&Tensor::from_slice(&[1i64, 2])).unwrap_err();
        assert!(err.to_string().contains("Int64"), "{err}");
    }

    #[test]
    fn checked_conversion_names_bad_shapes_and_nan() {
        let a = ndarray::array![[1.0f32, f32::NAN]];
        let err = checked_array_to_tensor("x", &a.view(), 2, Device::Cpu).unwrap_err();
        assert!(
            matches!(err, ModelError::NonFinite { index: 1, .. }),
            "{err}"
        );
        let err = checked_array_to_tensor("x", &a.view(), 3, Device::Cpu).unwrap_err();
        assert!(err.to_string().contains("3 dimensions"), "{err}");
    }
}
