use models::Calibrator;
use models::calibration::logit;
use models::metrics::evaluate;

use crate::support::Rng;

#[test]
fn platt_scaling_repairs_overconfident_scores() {
    // True probabilities p; the "model" reports σ(3·logit(p) + 1): over-confident and
    // biased. Platt scaling fitted on labelled rows must undo it.
    let mut rng = Rng::new(21);
    let n = 50_000;
    let mut raw = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let p = 0.02 + 0.6 * rng.uniform();
        raw.push(models::logistic::sigmoid(3.0 * logit(p) + 1.0));
        labels.push(rng.uniform() < p);
    }
    let before = evaluate(&raw, &labels, 0.32, 10).expect("evaluate");
    let calibrator = Calibrator::platt(&raw, &labels).expect("platt");
    let Calibrator::Platt { slope, intercept } = calibrator else {
        panic!("Platt expected")
    };
    assert!((slope - 1.0 / 3.0).abs() < 0.02, "slope {slope}");
    assert!(
        (intercept + 1.0 / 3.0).abs() < 0.03,
        "intercept {intercept}"
    );
    let calibrated: Vec<f64> = raw.iter().map(|&p| calibrator.apply(p)).collect();
    let after = evaluate(&calibrated, &labels, 0.32, 10).expect("evaluate");
    assert!(before.expected_calibration_error > 0.08, "{before:?}");
    assert!(after.expected_calibration_error < 0.01, "{after:?}");
    // Monotone: the ranking (AUC) is unchanged.
    assert!((after.auc - before.auc).abs() < 1e-9);
    let json = serde_json::to_string(&calibrator).expect("serialise");
    assert_eq!(
        serde_json::from_str::<Calibrator>(&json).expect("read"),
        calibrator
    );
}
