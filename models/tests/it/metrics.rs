use models::metrics::{auc, brier, calibration_table, evaluate, ks, log_loss, roc_curve};

#[test]
fn auc_matches_a_hand_count_with_ties_as_halves() {
    // scikit-learn's roc_auc_score documentation example: 0.75.
    let scores = [0.1, 0.4, 0.35, 0.8];
    let labels = [false, false, true, true];
    assert!((auc(&scores, &labels).expect("auc") - 0.75).abs() < 1e-12);
    // One tie between a late and an on-time row counts a half: pairs (late, on time):
    // (0.5, 0.5) tie, (0.5, 0.2) win, (0.9, 0.5) win, (0.9, 0.2) win → 3.5 / 4.
    let scores = [0.5, 0.5, 0.2, 0.9];
    let labels = [true, false, false, true];
    assert!((auc(&scores, &labels).expect("auc") - 0.875).abs() < 1e-12);
    // Reversed scores give 1 − AUC.
    let reversed: Vec<f64> = scores.iter().map(|s| 1.0 - s).collect();
    assert!((auc(&reversed, &labels).expect("auc") - 0.125).abs() < 1e-12);
}

#[test]
fn ks_brier_and_log_loss_by_hand() {
    let scores = [0.1, 0.4, 0.35, 0.8];
    let labels = [false, false, true, true];
    // Ascending: 0.1 (on time) → gap 0.5; 0.35 (late) → |0.5 − 0.5| = 0; 0.4 (on time)
    // → |0.5 − 1| = 0.5; 0.8 → 0. Largest gap 0.5.
    assert!((ks(&scores, &labels).expect("ks") - 0.5).abs() < 1e-12);
    let b = (0.01 + 0.16 + 0.65_f64.powi(2) + 0.04) / 4.0;
    assert!((brier(&scores, &labels) - b).abs() < 1e-12);
    let l = -((0.9_f64).ln() + (0.6_f64).ln() + (0.35_f64).ln() + (0.8_f64).ln()) / 4.0;
    assert!((log_loss(&scores, &labels) - l).abs() < 1e-12);
}

#[test]
fn calibration_bands_count_rows_and_late_shares() {
    let scores = [0.05, 0.08, 0.55, 0.51, 0.59, 1.0];
    let labels = [false, true, true, false, true, true];
    let table = calibration_table(&scores, &labels, 10);
    assert_eq!(table.len(), 3);
    assert_eq!((table[0].rows, table[0].observed), (2, 0.5));
    assert_eq!(table[1].rows, 3);
    assert!((table[1].observed - 2.0 / 3.0).abs() < 1e-12);
    assert!((table[1].mean_predicted - 0.55).abs() < 1e-12);
    assert_eq!((table[2].lower, table[2].rows), (0.9, 1));
}

#[test]
fn roc_runs_from_origin_to_corner_and_evaluation_refuses_one_class() {
    let scores: Vec<f64> = (0..100).map(|i| f64::from(i) / 100.0).collect();
    let labels: Vec<bool> = (0..100).map(|i| i % 3 == 0).collect();
    let roc = roc_curve(&scores, &labels, 10).expect("roc");
    assert_eq!((roc[0].fpr, roc[0].tpr), (0.0, 0.0));
    let last = roc.last().expect("points");
    assert_eq!((last.fpr, last.tpr), (1.0, 1.0));
    assert!(roc.len() <= 12);
    assert!(
        roc.windows(2)
            .all(|w| w[0].fpr <= w[1].fpr && w[0].tpr <= w[1].tpr)
    );
    let e = evaluate(&scores, &labels, 0.34, 10).expect("evaluate");
    assert_eq!((e.rows, e.positives), (100, 34));
    assert!(evaluate(&scores, &[false; 100], 0.3, 10).is_err());
    assert!(auc(&[0.1, f64::NAN], &[true, false]).is_err());
}
