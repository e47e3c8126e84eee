//! One constructor style for every rule — `new(..)`, then `with_stabilizer(..)` — and every
//! constructor checks its values and names them when it refuses.

use lrp_ae::rule::{Rule, DEFAULT_STABILIZER};
use lrp_ae::rules::{Epsilon, Flat, Gamma, WSquare, ZBox, ZPlus};
use lrp_ae::{Bound, LrpError, Preset};

fn message<T: std::fmt::Debug>(r: Result<T, LrpError>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn every_stabilizer_is_checked_and_named() {
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        let shown = bad.to_string();
        for (rule, e) in [
            ("z+", message(ZPlus::new().with_stabilizer(bad))),
            ("w2", message(WSquare::new().with_stabilizer(bad))),
            ("flat", message(Flat::new().with_stabilizer(bad))),
            (
                "gamma",
                message(Gamma::new(0.25).unwrap().with_stabilizer(bad)),
            ),
            (
                "z-box",
                message(ZBox::new(0.0, 1.0).unwrap().with_stabilizer(bad)),
            ),
        ] {
            assert_eq!(
                e,
                format!("{rule}: stabilizer = {shown} must be finite and ≥ 0")
            );
        }
        assert_eq!(
            message(Epsilon::new(bad)),
            format!("epsilon: eps = {shown} must be finite and ≥ 0")
        );
        assert_eq!(
            message(Gamma::new(bad)),
            format!("gamma: gamma = {shown} must be finite and ≥ 0")
        );
    }
}

#[test]
fn stabilizers_are_kept_read_back_and_shown_in_names() {
    let z = ZPlus::new().with_stabilizer(1e-3).unwrap();
    assert_eq!(
        (z.stabilizer(), z.name()),
        (1e-3, "z+(stabilizer=0.001)".to_string())
    );
    assert_eq!(ZPlus::new().stabilizer(), DEFAULT_STABILIZER);
    assert_eq!(ZPlus::new().name(), "z+");
    assert_eq!(
        WSquare::new().with_stabilizer(0.0).unwrap().name(),
        "w2(stabilizer=0)"
    );
    assert_eq!(Flat::new().with_stabilizer(0.5).unwrap().stabilizer(), 0.5);
    let g = Gamma::new(0.5).unwrap().with_stabilizer(1e-2).unwrap();
    assert_eq!((g.gamma(), g.stabilizer()), (0.5, 1e-2));
    assert_eq!(g.name(), "gamma(0.5)(stabilizer=0.01)");
    let b = ZBox::new(-1.0, 1.0).unwrap().with_stabilizer(0.1).unwrap();
    assert_eq!(b.name(), "z-box[-1, 1](stabilizer=0.1)");
    assert_eq!(Epsilon::new(0.25).unwrap().eps(), 0.25);
}

#[test]
fn z_box_checks_scalar_and_tensor_bounds_alike() {
    assert_eq!(
        message(ZBox::new(1.0, 0.0)),
        "z-box: bounds = [1, 0] must be finite with low ≤ high"
    );
    assert!(message(ZBox::new(f64::NAN, 1.0)).contains("[NaN, 1]"));
    // Tensor bounds: the same rule, checked where the bounds meet after broadcasting.
    let low = Bound::new(vec![1, 3], vec![0.0, 0.5, -1.0]).unwrap();
    let high = Bound::new(vec![1, 3, 2], vec![1.0, 1.0, 1.0, 0.25, 0.0, 0.0]).unwrap();
    assert_eq!(
        message(ZBox::with_bounds(low.clone(), high)),
        "z-box: bounds = low 0.5 > high 0.25 at [0, 1, 1] must satisfy low ≤ high everywhere"
    );
    let e = message(ZBox::with_bounds(
        low.clone(),
        Bound::new(vec![1, 2], vec![1.0, 1.0]).unwrap(),
    ));
    assert!(
        e.contains("broadcast") && e.contains("[1, 2]") && e.contains("[1, 3]"),
        "{e}"
    );
    assert!(ZBox::with_bounds(low.clone(), Bound::scalar(1.0)).is_ok());
    assert!(matches!(
        Bound::new(vec![1, 2], vec![0.0, f64::INFINITY]),
        Err(LrpError::NonFinite { index: 1, .. })
    ));
    // The rule's name shows the values (a summary when there are many), not just shapes.
    let z = ZBox::with_bounds(low, Bound::scalar(1.0)).unwrap();
    assert_eq!(z.name(), "z-box[[1, 3]: [0, 0.5, -1], 1]");
    let many = Bound::new(
        vec![1, 2, 4, 4],
        (0..32).map(|i| i as f64 / 100.0 - 0.1).collect(),
    )
    .unwrap();
    let z = ZBox::with_bounds(many, Bound::scalar(1.0)).unwrap();
    assert_eq!(
        z.name(),
        "z-box[[1, 2, 4, 4]: 32 values in [-0.1, 0.21], 1]"
    );
    assert_eq!(z.low().values().len(), 32);
}

#[test]
fn presets_with_bounds_are_checked_like_the_rule() {
    let e = "epsilon-gamma-box:1:0".parse::<Preset>().unwrap_err();
    assert!(e.to_string().contains("[1, 0]"), "{e}");
    let bad = Preset::EpsilonGammaBox {
        low: 2.0,
        high: 1.0,
    };
    assert!(bad.composite().is_err());
    assert_eq!(
        "epsilon-gamma-box:-1:1".parse::<Preset>().unwrap(),
        Preset::EpsilonGammaBox {
            low: -1.0,
            high: 1.0
        }
    );
}
