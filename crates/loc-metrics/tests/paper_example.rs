//! Paper 1's worked example (§5.3), through the public API.
//!
//! Scores {3:1.5, 1:0.3, 7:0.23, 6:0.2, 4:0.1, 5:-0.3, 2:-0.35} over 7
//! sensors, ground truth {1, 2, 6, 7}; with every positive feature selected the
//! paper reports IoU = 0.5, F1 = 0.66 (0.667) and Acc = 0.75.

use loc_metrics::{Column, Protocol, Region, Selection, SetScore, Table};
use ndarray::{arr1, Array1};

/// Sensor `s` (1-based, as in the paper) is feature `s - 1`.
fn example() -> (Array1<f32>, Vec<usize>) {
    let by_sensor = [
        (3, 1.5),
        (1, 0.3),
        (7, 0.23),
        (6, 0.2),
        (4, 0.1),
        (5, -0.3),
        (2, -0.35),
    ];
    let mut scores = vec![0.0_f32; 7];
    for (sensor, s) in by_sensor {
        scores[sensor - 1] = s;
    }
    (arr1(&scores), [1, 2, 6, 7].iter().map(|s| s - 1).collect())
}

#[test]
fn all_positive_reproduces_the_papers_numbers() {
    let (scores, truth) = example();
    let p = Protocol::new(vec![Selection::AllPositive], SetScore::ALL.to_vec(), vec![]);
    let v = p.score_vector(scores.view(), &truth).unwrap();
    // Selected sensors 3, 1, 7, 6, 4 in rank order.
    assert_eq!(v.selected[0], vec![2, 0, 6, 5, 3]);
    let [iou, f1, acc, precision, recall] = v.values[..] else {
        panic!("5 values expected")
    };
    assert_eq!(iou, 0.5);
    assert_eq!(format!("{f1:.3}"), "0.667");
    assert_eq!(acc, 0.75);
    // The paper's printed Acc formula |y' ∩ y| / |y'| gives 3/5, which is precision.
    assert_eq!(precision, 0.6);
    assert_eq!(recall, acc);
}

#[test]
fn the_papers_three_strategies_on_the_example() {
    let (scores, truth) = example();
    let p = Protocol::paper();
    let v = p.score_vector(scores.view(), &truth).unwrap();
    // GT@120%: ceil(1.2 · 4) = 5 → the five positives, as AllPositive.
    // AT@80%: 1.5 + 0.3 + 0.23 = 2.03 ≥ 0.8 · 2.33 → sensors 3, 1, 7; hits {1, 7}.
    // AT@5: the five positives.
    assert_eq!(
        v.selected,
        vec![vec![2, 0, 6, 5, 3], vec![2, 0, 6], vec![2, 0, 6, 5, 3]]
    );
    let want = [
        0.5,
        6.0 / 9.0,
        0.75,
        2.0 / 5.0,
        4.0 / 7.0,
        0.5,
        0.5,
        6.0 / 9.0,
        0.75,
    ];
    for ((c, got), w) in p.columns().iter().zip(&v.values).zip(want) {
        assert!((got - w).abs() < 1e-12, "{c}: {got} vs {w}");
    }
}

#[test]
fn example_as_a_table_row() {
    let (scores, truth) = example();
    let regions = [Region::new(0, 1, truth).unwrap()];
    let matrix = scores.insert_axis(ndarray::Axis(0));
    let p = Protocol::paper();
    let report = p.evaluate_regions(matrix.view(), &regions).unwrap();
    let chance = p.chance(&regions, 7).unwrap();
    let mut t = Table::new(report.column_labels());
    t.push(report.table_row("example")).unwrap();
    t.push(chance.table_row("chance")).unwrap();
    let md = t.to_markdown();
    assert!(
        md.contains(
            "| example | 50.00 | 66.67 | 75.00 | 40.00 | 57.14 | 50.00 | 50.00 | 66.67 | 75.00 |"
        ),
        "{md}"
    );
    // Chance for GT@120% with n = 4 of D = 7: a random 5-set, recall 5/7.
    let acc = chance
        .mean_of(Column::Set {
            selection: Selection::GT_120,
            score: SetScore::Acc,
        })
        .unwrap();
    assert!((acc - 5.0 / 7.0).abs() < 1e-12);
}
