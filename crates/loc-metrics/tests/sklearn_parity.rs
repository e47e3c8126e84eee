//! NDCG, AP and AUROC against scikit-learn 1.9.1 (numpy 2.4.6) on fixed vectors.
//!
//! The reference numbers were printed by this script
//! (`python3 -m venv /tmp/skl && /tmp/skl/bin/pip install scikit-learn numpy`,
//! then `/tmp/skl/bin/python script.py`):
//!
//! ```python
//! import numpy as np
//! from sklearn.metrics import ndcg_score, average_precision_score, roc_auc_score
//! s1 = np.array([0.12, 0.85, 0.33, 0.85, 0.05, 0.61, 0.47, 0.33, 0.90, 0.20])
//! y1 = np.array([0, 1, 1, 0, 0, 1, 0, 1, 0, 0])
//! s2 = np.array([0.7, -0.2, 0.15, 0.9, 0.4, -0.05, 0.3, 0.55])
//! y2 = np.array([1, 0, 0, 0, 1, 1, 0, 0])
//! for name, s, y in [("s1", s1, y1), ("s2", s2, y2)]:
//!     for k in (1, 2, 3, 4, 5, 6, len(s)):
//!         print(name, k, repr(ndcg_score(y.reshape(1, -1), s.reshape(1, -1), k=k)))
//! p = np.array([0.9, 0.8, 0.8, 0.7, 0.6, 0.6, 0.6, 0.5, 0.4, 0.35,
//!               0.3, 0.3, 0.2, 0.1, 0.05, 0.0, -0.1, -0.2, 0.8, 0.6])
//! l = np.array([1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1])
//! print(repr(average_precision_score(l, p)), repr(roc_auc_score(l, p)))
//! print(repr(average_precision_score(y1, s1)), repr(roc_auc_score(y1, s1)))
//!
//! # The LRP paper's AP at n evenly spaced thresholds, written out in numpy.
//! def ap_thresholds(scores, labels, n=1000):
//!     t = np.linspace(scores.min(), scores.max(), n)[::-1]
//!     P = labels.sum(); ap = 0.0; last = 0.0
//!     for ti in t:
//!         pred = scores > ti
//!         tp = (pred & (labels == 1)).sum(); fp = (pred & (labels == 0)).sum()
//!         if tp == 0: continue
//!         r = tp / P; ap += (r - last) * tp / (tp + fp); last = r
//!     return ap
//! print(repr(ap_thresholds(p, l)), repr(ap_thresholds(p, l, 7)))
//! ```
//!
//! s1 and `p` contain ties, which scikit-learn's NDCG averages (`ignore_ties=False`),
//! as does [`Ties::Average`].

use loc_metrics::{auroc, average_precision, ndcg_at, PixelGroup, Ties};
use ndarray::aview1;

const S1: [f64; 10] = [0.12, 0.85, 0.33, 0.85, 0.05, 0.61, 0.47, 0.33, 0.90, 0.20];
const Y1: [u8; 10] = [0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
const S2: [f64; 8] = [0.7, -0.2, 0.15, 0.9, 0.4, -0.05, 0.3, 0.55];
const Y2: [u8; 8] = [1, 0, 0, 0, 1, 1, 0, 0];
const P: [f64; 20] = [
    0.9, 0.8, 0.8, 0.7, 0.6, 0.6, 0.6, 0.5, 0.4, 0.35, 0.3, 0.3, 0.2, 0.1, 0.05, 0.0, -0.1, -0.2,
    0.8, 0.6,
];
const L: [u8; 20] = [1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1];

fn truth(y: &[u8]) -> Vec<usize> {
    y.iter()
        .enumerate()
        .filter(|(_, &v)| v == 1)
        .map(|(i, _)| i)
        .collect()
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() < 1e-12,
        "{what}: {got} vs scikit-learn {want}"
    );
}

#[test]
fn ndcg_matches_scikit_learn_with_ties() {
    let want = [
        (1, 0.0),
        (2, 0.19342640361727076),
        (3, 0.2653606369886217),
        (4, 0.38887374313950784),
        (5, 0.38887374313950784),
        (6, 0.5279299226502836),
        (10, 0.6580566059809841),
    ];
    for (k, w) in want {
        close(
            ndcg_at(aview1(&S1), &truth(&Y1), k, Ties::Average).unwrap(),
            w,
            &format!("s1 k={k}"),
        );
    }
}

#[test]
fn ndcg_matches_scikit_learn_without_ties() {
    let want = [
        (1, 0.0),
        (2, 0.3868528072345415),
        (3, 0.2960819109658652),
        (4, 0.49818925746641274),
        (5, 0.49818925746641274),
        (6, 0.49818925746641274),
        (8, 0.6546154994739983),
    ];
    for (k, w) in want {
        // Without ties the tie rule must not matter.
        for ties in [Ties::Average, Ties::LowerIndexFirst] {
            close(
                ndcg_at(aview1(&S2), &truth(&Y2), k, ties).unwrap(),
                w,
                &format!("s2 k={k}"),
            );
        }
    }
}

#[test]
fn average_precision_and_auroc_match_scikit_learn() {
    close(
        average_precision(aview1(&P), aview1(&L), 1.0).unwrap(),
        0.6477124183006536,
        "AP p",
    );
    close(
        auroc(aview1(&P), aview1(&L), 1.0).unwrap(),
        0.7239583333333334,
        "AUROC p",
    );
    close(
        average_precision(aview1(&S1), aview1(&Y1), 1.0).unwrap(),
        0.494047619047619,
        "AP s1",
    );
    close(
        auroc(aview1(&S1), aview1(&Y1), 1.0).unwrap(),
        0.6041666666666666,
        "AUROC s1",
    );
}

#[test]
fn thresholded_average_precision_matches_the_numpy_reference() {
    let mut g = PixelGroup::new(0.5).unwrap();
    g.push(aview1(&P), aview1(&L)).unwrap();
    let r = g.rank();
    close(
        r.average_precision_thresholds(1000).unwrap(),
        0.6477124183006536,
        "AP@1000",
    );
    close(
        r.average_precision_thresholds(7).unwrap(),
        0.602209595959596,
        "AP@7",
    );
}
