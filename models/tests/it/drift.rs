use models::drift::FeatureProfile;

use crate::support::Rng;

#[test]
fn psi_is_zero_for_the_training_rows_and_as_counted_by_hand_for_a_shift() {
    // A 0/1 feature, half and half in training: bins "≤ 0", "≤ 1", "> 1", missing.
    let training: Vec<f64> = (0..100).map(|i| f64::from(u8::from(i >= 50))).collect();
    let p = FeatureProfile::of(training.iter().copied());
    assert_eq!(p.edges, vec![0.0, 1.0]);
    assert_eq!(p.shares, vec![0.5, 0.5, 0.0, 0.0]);
    assert_eq!(p.psi(training.iter().copied()), 0.0);
    // Now 20 % zeros, 80 % ones: (0.2−0.5)·ln(0.2/0.5) + (0.8−0.5)·ln(0.8/0.5).
    let now: Vec<f64> = (0..100).map(|i| f64::from(u8::from(i >= 20))).collect();
    let by_hand = (0.2_f64 - 0.5) * (0.2_f64 / 0.5).ln() + (0.8_f64 - 0.5) * (0.8_f64 / 0.5).ln();
    assert!((p.psi(now.iter().copied()) - by_hand).abs() < 1e-12);
    // Missing values are a bin of their own.
    let gone: Vec<f64> = (0..100)
        .map(|i| if i < 50 { f64::NAN } else { 1.0 })
        .collect();
    assert!(p.psi(gone.iter().copied()) > 1.0);
}

#[test]
fn a_shifted_population_scores_above_the_alarm_line_and_a_resample_below_it() {
    let mut rng = Rng::new(8);
    let training: Vec<f64> = (0..20_000).map(|_| rng.normal()).collect();
    let p = FeatureProfile::of(training.iter().copied());
    assert_eq!(p.shares.len(), 11, "ten deciles and the missing bin");
    let same: Vec<f64> = (0..20_000).map(|_| rng.normal()).collect();
    let shifted: Vec<f64> = (0..20_000).map(|_| rng.normal() + 0.75).collect();
    assert!(p.psi(same.iter().copied()) < 0.01);
    assert!(p.psi(shifted.iter().copied()) > 0.25);
}
