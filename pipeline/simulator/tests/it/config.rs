//! Bad parameters are refused before anything runs, with the parameter named.

use chrono::NaiveDate;
use simulator::{BehaviourMix, NoiseMix, SimConfig, SimError};

fn parameter_of(config: SimConfig) -> &'static str {
    match config.check() {
        Ok(_) => panic!("bad config accepted"),
        Err(e) => e.parameter(),
    }
}

#[test]
fn check_refuses_bad_parameters_naming_the_parameter() {
    assert_eq!(
        parameter_of(SimConfig {
            debtors: 0,
            ..SimConfig::default()
        }),
        "debtors"
    );
    assert_eq!(
        parameter_of(SimConfig {
            months: 0,
            ..SimConfig::default()
        }),
        "months"
    );
    assert_eq!(
        parameter_of(SimConfig {
            months: 121,
            ..SimConfig::default()
        }),
        "months"
    );
    assert_eq!(
        parameter_of(SimConfig {
            start: NaiveDate::from_ymd_opt(1800, 1, 1).expect("date"),
            ..SimConfig::default()
        }),
        "start"
    );
    assert_eq!(
        parameter_of(SimConfig {
            noise: NoiseMix {
                structured_reference: 0.6,
                ..NoiseMix::default()
            },
            ..SimConfig::default()
        }),
        "noise"
    );
    assert_eq!(
        parameter_of(SimConfig {
            noise: NoiseMix {
                unknown_payer: -0.005,
                ..NoiseMix::default()
            },
            ..SimConfig::default()
        }),
        "noise.unknown_payer"
    );
    assert_eq!(
        parameter_of(SimConfig {
            behaviours: BehaviourMix {
                turning_bad: 0.2,
                ..BehaviourMix::default()
            },
            ..SimConfig::default()
        }),
        "behaviours"
    );
}

#[test]
fn shares_that_do_not_add_up_say_what_they_add_up_to() {
    let err = SimConfig {
        noise: NoiseMix {
            structured_reference: 0.65,
            ..NoiseMix::default()
        },
        ..SimConfig::default()
    }
    .check()
    .expect_err("refused");
    match err {
        SimError::SharesDoNotSumToOne { parameter, sum } => {
            assert_eq!(parameter, "noise");
            assert!((sum - 1.1).abs() < 1e-9);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn the_default_config_is_valid_and_documented_values_hold() {
    let config = SimConfig::default();
    assert_eq!((config.seed, config.debtors, config.months), (42, 1000, 12));
    assert_eq!(
        config.start,
        NaiveDate::from_ymd_opt(2025, 1, 1).expect("date")
    );
    assert!(config.tick_daily);
    assert_eq!(config.noise, NoiseMix::default());
    assert!(config.check().is_ok());
}
