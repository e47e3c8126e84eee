//! The bridge between image arrays and model tensors: a batch of `N` images of `H × W`
//! becomes one `[N, 1, H, W]` float tensor (channels-first, one gray channel), and maps
//! (attributions, residuals) come back as `[H, W]` arrays.

use std::borrow::Borrow;

use anomaly_xai::image::{ImageError, ImageSample};
use anomaly_xai::models::convert::{checked_array_to_tensor, tensor_to_array};
use anomaly_xai::{Error, Result};
use ndarray::{Array2, Array3, Axis, Ix3};
use tch::{Device, Tensor};

/// Stacks same-sized images into a `[N, 1, H, W]` tensor on `device`.
///
/// Errors on an empty list, images of different sizes ([`Error::Image`]) or a non-finite
/// pixel ([`Error::Model`]).
///
/// ```
/// use ndarray::Array2;
/// use anomaly_xai_repro::image::tensor::{images_to_tensor, tensor_to_maps};
/// let imgs = vec![Array2::from_elem((4, 5), 0.5f32), Array2::zeros((4, 5))];
/// let t = images_to_tensor(&imgs, tch::Device::Cpu)?;
/// assert_eq!(t.size(), vec![2, 1, 4, 5]);
/// assert_eq!(tensor_to_maps(&t)?, imgs);
/// # Ok::<(), anomaly_xai::Error>(())
/// ```
pub fn images_to_tensor<A: Borrow<Array2<f32>>>(images: &[A], device: Device) -> Result<Tensor> {
    let first = images.first().ok_or_else(|| {
        Error::from(ImageError::ShapeMismatch {
            what: "images_to_tensor".into(),
            expected: "at least one image".into(),
            got: vec![0],
        })
    })?;
    let (h, w) = first.borrow().dim();
    let mut stack = Array3::<f32>::zeros((images.len(), h, w));
    for (i, img) in images.iter().enumerate() {
        let img = img.borrow();
        if img.dim() != (h, w) {
            return Err(ImageError::ShapeMismatch {
                what: format!("images_to_tensor: image {i}"),
                expected: format!("[{h}, {w}] like image 0"),
                got: img.shape().to_vec(),
            }
            .into());
        }
        stack.index_axis_mut(Axis(0), i).assign(img);
    }
    let stack = stack.insert_axis(Axis(1));
    Ok(checked_array_to_tensor(
        "images_to_tensor",
        &stack.view(),
        4,
        device,
    )?)
}

/// The images of samples as a `[N, 1, H, W]` tensor.
pub fn samples_to_tensor(samples: &[ImageSample], device: Device) -> Result<Tensor> {
    let imgs: Vec<&Array2<f32>> = samples.iter().map(|s| &s.image).collect();
    images_to_tensor(&imgs, device)
}

/// The masks of samples as a `[N, 1, H, W]` tensor (all zero for defect-free samples).
pub fn masks_to_tensor(samples: &[ImageSample], device: Device) -> Result<Tensor> {
    let masks: Vec<Array2<f32>> = samples.iter().map(ImageSample::mask_or_zeros).collect();
    images_to_tensor(&masks, device)
}

/// Splits a `[N, 1, H, W]` or `[N, H, W]` float tensor into `N` arrays of `[H, W]`.
pub fn tensor_to_maps(t: &Tensor) -> Result<Vec<Array2<f32>>> {
    let size = t.size();
    let flat = match size.as_slice() {
        [n, 1, h, w] => t.f_reshape([*n, *h, *w])?,
        [_, _, _] => t.shallow_clone(),
        _ => {
            return Err(ImageError::ShapeMismatch {
                what: "tensor_to_maps".into(),
                expected: "[N, 1, H, W] or [N, H, W]".into(),
                got: size.iter().map(|&d| d as usize).collect(),
            }
            .into())
        }
    };
    let a = tensor_to_array(&flat)?
        .into_dimensionality::<Ix3>()
        .map_err(|_| ImageError::ShapeMismatch {
            what: "tensor_to_maps".into(),
            expected: "3 dimensions after reshape".into(),
            got: size.iter().map(|&d| d as usize).collect(),
        })
        .map_err(Error::from)?;
    Ok(a.outer_iter().map(|m| m.to_owned()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensors_keep_pixel_positions() {
        let a = Array2::from_shape_fn((3, 4), |(r, c)| (r * 4 + c) as f32);
        let b = a.mapv(|v| -v);
        let t = images_to_tensor(&[a.clone(), b.clone()], Device::Cpu).unwrap();
        assert_eq!(t.double_value(&[0, 0, 2, 1]), 9.0);
        assert_eq!(t.double_value(&[1, 0, 1, 3]), -7.0);
        assert_eq!(tensor_to_maps(&t.squeeze_dim(1)).unwrap(), vec![a, b]);
    }

    #[test]
    fn bad_batches_are_named() {
        let e = images_to_tensor::<Array2<f32>>(&[], Device::Cpu).unwrap_err();
        assert!(e.to_string().contains("at least one image"), "{e}");
        let e = images_to_tensor(&[Array2::zeros((2, 2)), Array2::zeros((2, 3))], Device::Cpu)
            .unwrap_err();
        assert!(e.to_string().contains("image 1"), "{e}");
        let e = images_to_tensor(&[Array2::from_elem((1, 2), f32::NAN)], Device::Cpu).unwrap_err();
        assert!(e.to_string().contains("non-finite"), "{e}");
        let e = tensor_to_maps(&Tensor::zeros(
            [2, 3, 4, 4],
            (tch::Kind::Float, Device::Cpu),
        ))
        .unwrap_err();
        assert!(e.to_string().contains("[2, 3, 4, 4]"), "{e}");
    }

    #[test]
    fn masks_of_defect_free_samples_are_zero() {
        let s = ImageSample {
            name: "a".into(),
            image: Array2::zeros((2, 2)),
            mask: None,
            group: "good".into(),
        };
        let t = masks_to_tensor(&[s], Device::Cpu).unwrap();
        assert_eq!(t.size(), vec![1, 1, 2, 2]);
        assert_eq!(t.abs().sum(tch::Kind::Double).double_value(&[]), 0.0);
    }
}
