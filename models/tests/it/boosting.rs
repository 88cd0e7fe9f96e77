use linfa::prelude::*;
use models::{BoostedTrees, BoostingParams, ClassWeight, LogisticParams, ModelError};
use ndarray::{Array1, Array2};

use crate::support::Rng;

/// Late when exactly one of two features is positive (XOR): no linear model can rank it.
fn xor_table(rows: usize, seed: u64) -> (Array2<f64>, Vec<bool>) {
    let mut rng = Rng::new(seed);
    let mut x = Array2::zeros((rows, 3));
    let mut labels = Vec::with_capacity(rows);
    for i in 0..rows {
        let (a, b, noise) = (rng.normal(), rng.normal(), rng.normal());
        x[[i, 0]] = a;
        x[[i, 1]] = b * 10.0 + 3.0;
        x[[i, 2]] = noise;
        let late = (a > 0.0) != (b > 0.0);
        labels.push(if rng.uniform() < 0.1 { !late } else { late });
    }
    (x, labels)
}

fn auc(p: &[f64], labels: &[bool]) -> f64 {
    models::metrics::auc(p, labels).expect("auc")
}

#[test]
fn trees_learn_what_a_linear_model_cannot() {
    let (x, labels) = xor_table(20_000, 1);
    let data = Dataset::new(x.clone(), Array1::from(labels.clone()));
    let (test_x, test_labels) = xor_table(5_000, 2);
    let trees = BoostingParams::new()
        .max_iterations(30)
        .fit(&data)
        .expect("fit");
    let p = trees.probabilities(test_x.view()).expect("score");
    let logistic = LogisticParams::new()
        .class_weight(ClassWeight::None)
        .fit(&data)
        .expect("fit");
    let q = logistic.probabilities(test_x.view()).expect("score");
    let (tree_auc, linear_auc) = (
        auc(&p, &test_labels),
        auc(q.as_slice().expect("contiguous"), &test_labels),
    );
    // 10 % of labels flipped: the best possible AUC is about 0.9.
    assert!(tree_auc > 0.85, "trees {tree_auc}");
    assert!(linear_auc < 0.6, "linear {linear_auc}");
    let importance = trees.feature_importance();
    assert!(importance[2] < 0.1, "noise feature {importance:?}");
    assert!((importance.iter().sum::<f64>() - 1.0).abs() < 1e-9);
}

#[test]
fn missing_values_learn_their_own_direction() {
    // Missing values of feature 0 mean late; present values carry no signal.
    let mut rng = Rng::new(3);
    let n = 10_000;
    let mut x = Array2::zeros((n, 1));
    let mut labels = Vec::new();
    for i in 0..n {
        let missing = rng.uniform() < 0.3;
        x[[i, 0]] = if missing { f64::NAN } else { rng.normal() };
        labels.push(if missing {
            rng.uniform() < 0.8
        } else {
            rng.uniform() < 0.2
        });
    }
    let trees = BoostingParams::new()
        .max_iterations(20)
        .fit(&Dataset::new(x, Array1::from(labels)))
        .expect("fit");
    let p_missing = trees.probability(&[f64::NAN]);
    let p_present = trees.probability(&[0.0]);
    assert!(
        p_missing > 0.7 && p_present < 0.3,
        "{p_missing} {p_present}"
    );
}

#[test]
fn trees_do_not_depend_on_the_thread_count_and_survive_serde() {
    let (x, labels) = xor_table(80_000, 4);
    let data = Dataset::new(x, Array1::from(labels));
    let one = BoostingParams::new()
        .max_iterations(5)
        .threads(1)
        .fit(&data)
        .expect("fit");
    let three = BoostingParams::new()
        .max_iterations(5)
        .threads(3)
        .fit(&data)
        .expect("fit");
    assert_eq!(one, three);
    // A large batch is scored on several threads: the same as row by row.
    let (x, _) = xor_table(40_000, 5);
    let batch = one.probabilities(x.view()).expect("score");
    for i in [0, 19_999, 20_000, 39_999] {
        let row = x.row(i).to_vec();
        assert_eq!(batch[i], one.probability(&row));
    }
    let json = serde_json::to_string(&one).expect("serialise");
    assert_eq!(
        serde_json::from_str::<BoostedTrees>(&json).expect("read"),
        one
    );
}

#[test]
fn boosting_parameters_are_checked_by_name() {
    for (params, name) in [
        (BoostingParams::new().learning_rate(0.0), "learning_rate"),
        (BoostingParams::new().max_leaf_nodes(1), "max_leaf_nodes"),
        (BoostingParams::new().max_bins(256), "max_bins"),
        (
            BoostingParams::new().min_samples_leaf(0),
            "min_samples_leaf",
        ),
    ] {
        let err = params.check().expect_err(name);
        assert!(
            matches!(err, ModelError::Parameter { name: n, .. } if n == name),
            "{err}"
        );
    }
}
