use linfa::prelude::*;
use models::{ClassWeight, LogisticParams, ModelError};

use crate::support::{ibm_ar, logistic_table};

/// scikit-learn 1.9.1, `reference/ibm_ar_logistic.py`: StandardScaler + LogisticRegression
/// (C=1, lbfgs, tol 1e-12) on the IBM sample.
const SKLEARN_NONE: ([f64; 7], f64) = (
    [
        0.07451301,
        0.78745777,
        -0.42926151,
        0.12287623,
        0.26765687,
        0.06055029,
        0.12584403,
    ],
    -0.67037689,
);
const SKLEARN_BALANCED: ([f64; 7], f64) = (
    [
        0.07652819, 0.78104617, -0.4182731, 0.1328283, 0.26736993, 0.0622643, 0.14142155,
    ],
    -0.07484465,
);

fn assert_close(got: &[f64], want: &[f64], tolerance: f64) {
    for (j, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tolerance,
            "coefficient {j}: got {g}, scikit-learn {w}"
        );
    }
}

#[test]
fn fitted_coefficients_match_scikit_learn_on_the_ibm_sample() {
    let (x, labels) = ibm_ar();
    assert_eq!(x.nrows(), 2466);
    assert_eq!(labels.iter().filter(|&&l| l).count(), 877);
    let data = Dataset::new(x, ndarray::Array1::from(labels));
    for (weight, (coefficients, intercept)) in [
        (ClassWeight::None, SKLEARN_NONE),
        (ClassWeight::Balanced, SKLEARN_BALANCED),
    ] {
        // scikit-learn fits the values as they are: so does this reference fit.
        let model = LogisticParams::new()
            .class_weight(weight)
            .winsorize(false)
            .fit(&data)
            .expect("fit");
        assert!(model.converged, "{weight:?} converged");
        assert_close(&model.coefficients, &coefficients, 1e-5);
        assert!(
            (model.intercept - intercept).abs() <= 1e-5,
            "{weight:?} intercept {} against {intercept}",
            model.intercept
        );
    }
}

#[test]
fn probability_is_that_of_the_late_class() {
    // A feature that raises lateness must give late rows the higher probability.
    let (x, labels, _) = logistic_table(5_000, &[2.0], -0.5, 7);
    let model = LogisticParams::new()
        .fit(&Dataset::new(
            x.clone(),
            ndarray::Array1::from(labels.clone()),
        ))
        .expect("fit");
    assert!(model.coefficients[0] > 1.5, "{:?}", model.coefficients);
    let p: ndarray::Array1<f64> = model.predict(&x);
    let auc = models::metrics::auc(p.as_slice().expect("contiguous"), &labels).expect("auc");
    assert!(auc > 0.8, "AUC {auc} (a reversed orientation gives < 0.2)");
}

#[test]
fn recovers_the_generating_coefficients_on_a_large_sample() {
    let beta = [1.0, -0.5, 0.25, 0.0, 2.0];
    let (x, labels, _) = logistic_table(200_000, &beta, -1.0, 11);
    let model = LogisticParams::new()
        .class_weight(ClassWeight::None)
        .c(f64::INFINITY)
        .fit(&Dataset::new(x, ndarray::Array1::from(labels)))
        .expect("fit");
    // The table's columns have standard deviation 1+j around mean j, so the standardised
    // coefficients are the generating ones.
    assert_close(&model.coefficients, &beta, 0.03);
    assert!((model.intercept + 1.0).abs() < 0.03, "{}", model.intercept);
}

#[test]
fn result_does_not_depend_on_the_thread_count() {
    let (x, labels, _) = logistic_table(30_000, &[0.7, -0.3, 0.1], 0.2, 3);
    let data = Dataset::new(x, ndarray::Array1::from(labels));
    let one = LogisticParams::new().threads(1).fit(&data).expect("fit");
    let three = LogisticParams::new().threads(3).fit(&data).expect("fit");
    assert_eq!(one, three);
}

#[test]
fn batch_and_single_row_scores_agree_and_missing_values_count_as_the_mean() {
    let (x, labels, _) = logistic_table(2_000, &[1.0, 0.5], 0.0, 5);
    let model = LogisticParams::new()
        .fit(&Dataset::new(x.clone(), ndarray::Array1::from(labels)))
        .expect("fit");
    let batch = model.probabilities(x.view()).expect("shape");
    for i in 0..x.nrows() {
        let row = x.row(i).to_vec();
        assert!(
            (batch[i] - model.probability(&row)).abs() < 1e-12,
            "row {i}"
        );
    }
    // A value far beyond anything in training counts as the training edge (winsorised),
    // in both paths.
    let mut far = x.row(5).to_vec();
    far[0] = 1e6;
    let mut edge = far.clone();
    edge[0] = model.scaler.upper[0];
    let rows = ndarray::Array2::from_shape_vec((1, 2), far.clone()).expect("shape");
    assert!(
        (model.probabilities(rows.view()).expect("shape")[0] - model.probability(&edge)).abs()
            < 1e-12
    );
    assert_eq!(model.probability(&far), model.probability(&edge));
    let mut missing = x.row(3).to_vec();
    missing[1] = f64::NAN;
    let mut at_mean = missing.clone();
    at_mean[1] = model.scaler.mean[1];
    let rows = ndarray::Array2::from_shape_vec((1, 2), missing).expect("shape");
    let p = model.probabilities(rows.view()).expect("shape")[0];
    assert!((p - model.probability(&at_mean)).abs() < 1e-12);
    let wrong = ndarray::Array2::<f64>::zeros((1, 3));
    assert!(matches!(
        model.probabilities(wrong.view()),
        Err(ModelError::Shape {
            expected: 2,
            got: 3
        })
    ));
}

#[test]
fn bad_parameters_and_data_are_refused_by_name() {
    let err = LogisticParams::new().c(0.0).check().expect_err("c = 0");
    assert!(
        matches!(err, ModelError::Parameter { name: "c", .. }),
        "{err}"
    );
    let err = LogisticParams::new()
        .tolerance(f64::NAN)
        .check()
        .expect_err("NaN tolerance");
    assert!(matches!(
        err,
        ModelError::Parameter {
            name: "tolerance",
            ..
        }
    ));
    let x = ndarray::Array2::<f64>::zeros((4, 2));
    let one_class = Dataset::new(x, ndarray::Array1::from(vec![true; 4]));
    let err = LogisticParams::new()
        .fit(&one_class)
        .expect_err("one class");
    assert!(err.to_string().contains("one class"), "{err}");
    let mut x = ndarray::Array2::<f64>::zeros((2, 1));
    x[[1, 0]] = f64::INFINITY;
    let err = LogisticParams::new()
        .fit(&Dataset::new(x, ndarray::Array1::from(vec![true, false])))
        .expect_err("infinite");
    assert!(err.to_string().contains("row 1, feature 0"), "{err}");
}

#[test]
fn fitted_model_survives_a_serde_round_trip() {
    let (x, labels, _) = logistic_table(1_000, &[1.0, -1.0], 0.3, 9);
    let model = LogisticParams::new()
        .fit(&Dataset::new(x, ndarray::Array1::from(labels)))
        .expect("fit");
    let json = serde_json::to_string(&model).expect("serialise");
    let back: models::LogisticModel = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(model, back);
}
