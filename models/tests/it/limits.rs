use models::limits::money;
use models::{LimitInputs, LimitPolicy, ModelError, RiskClasses};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

fn inputs(
    class: usize,
    monthly: &str,
    current: Option<&str>,
    rating: &str,
    kind: &str,
) -> LimitInputs {
    LimitInputs {
        risk_class: class,
        risk_class_name: RiskClasses::default().labels()[class].clone(),
        monthly_invoicing: d(monthly),
        exposure: d("18000"),
        current_limit: current.map(d),
        bureau_rating: Some(rating.to_owned()),
        debtor_type: Some(kind.to_owned()),
    }
}

#[test]
fn a_recommendation_shows_every_step() {
    let policy = LimitPolicy::builtin().expect("built-in policy");
    policy
        .check_classes(&RiskClasses::default())
        .expect("five classes");
    let r = policy
        .recommend(&inputs(1, "12000", Some("10000"), "BB", "business"))
        .expect("recommend");
    let steps: Vec<(String, Decimal)> = r
        .steps
        .iter()
        .map(|s| (s.reason.clone(), s.amount))
        .collect();
    assert_eq!(
        steps,
        vec![
            (
                "typical monthly invoicing 12,000.00 × 2 months for risk class B".to_owned(),
                d("24000")
            ),
            ("bureau rating BB: × 0.85".to_owned(), d("20400")),
            (
                "raised by at most 50 % of the current limit 10,000.00 in one review".to_owned(),
                d("15000")
            ),
        ]
    );
    assert_eq!(r.limit, d("15000"));
    assert!(r.exposure_above_limit, "owes 18,000 against 15,000");
    assert!(r.text().contains("already owes more"));
}

#[test]
fn floors_caps_and_rounding_apply_per_debtor_type() {
    let policy = LimitPolicy::builtin().expect("policy");
    // Worst class: no months of credit, but a top customer keeps its floor.
    let r = policy
        .recommend(&inputs(4, "50000", None, "BBB", "top_customer"))
        .expect("recommend");
    assert_eq!(r.limit, d("10000"));
    // A consumer is capped.
    let r = policy
        .recommend(&inputs(0, "10000", None, "AAA", "consumer"))
        .expect("recommend");
    assert_eq!(r.limit, d("5000"));
    assert!(
        r.steps
            .iter()
            .any(|s| s.reason == "lowered to the cap for consumer debtors")
    );
    // Rounded down to 500; an unknown type uses the default bounds.
    let r = policy
        .recommend(&inputs(2, "8230.45", None, "unrated", "charity"))
        .expect("recommend");
    assert_eq!(r.limit, d("12000"));
    assert_eq!(
        r.steps.last().map(|s| s.reason.as_str()),
        Some("rounded down to a multiple of 500.00")
    );
    // The cap wins over the bound on the change.
    let r = policy
        .recommend(&inputs(0, "1000", Some("2000000"), "AAA", "business"))
        .expect("recommend");
    assert_eq!(r.limit, d("250000"));
    assert_eq!(money(d("-1234567.891")), "-1,234,567.89");
    // Amounts beyond the decimal range are refused, not a crash.
    let huge = LimitInputs {
        monthly_invoicing: Decimal::MAX / Decimal::TWO,
        ..inputs(0, "1", None, "AAA", "business")
    };
    assert!(policy.recommend(&huge).is_err());
}

#[test]
fn a_bad_policy_is_refused_with_file_line_and_field() {
    let good = models::limits::DEFAULT_POLICY;
    let cases = [
        (
            good.replace(
                r#"months_of_invoicing = ["3", "2", "1.5", "1", "0"]"#,
                r#"months_of_invoicing = ["3", "-2"]"#,
            ),
            "months_of_invoicing",
            "negative",
        ),
        (
            good.replace(r#"rounding = "500""#, r#"rounding = "0""#),
            "rounding",
            "not > 0",
        ),
        (
            good.replace("[debtor_type.default]", "[debtor_type.other]"),
            "debtor_type.default",
            "missing",
        ),
        (
            good.replace(r#"cap = "5000""#, r#"cap = "-1""#),
            "debtor_type.consumer",
            "floor 0 must be",
        ),
        (
            good.replace("rounding =", "roundin ="),
            "(syntax)",
            "unknown field",
        ),
    ];
    for (text, field, says) in cases {
        let err = LimitPolicy::parse("limits.toml", &text).expect_err(field);
        let ModelError::Config {
            file,
            line,
            field: f,
            reason,
        } = &err
        else {
            panic!("{err}")
        };
        assert_eq!(file, "limits.toml");
        assert_eq!(f, field, "{err}");
        assert!(reason.contains(says), "{err}");
        if field != "debtor_type.default" {
            let line = line.expect("line named");
            let key = field.split('.').next_back().unwrap_or(field);
            let at = text.lines().nth(line - 1).unwrap_or_default();
            assert!(
                at.contains(key.trim_start_matches('(').trim_end_matches(')'))
                    || field == "(syntax)",
                "{err}: line {line} is {at:?}"
            );
        }
    }
    let err = LimitPolicy::builtin()
        .expect("policy")
        .check_classes(&RiskClasses::new(vec!["A".into(), "B".into()], vec![0.2]).expect("classes"))
        .expect_err("5 values for 2 classes");
    assert!(
        err.to_string().contains("5 values for 2 risk classes"),
        "{err}"
    );
}

/// Any debtor the built-in policy may see: every class, rating and type, with or without
/// a limit in force.
fn any_inputs() -> impl Strategy<Value = LimitInputs> {
    (
        0_usize..5,
        0_i64..10_000_000,
        0_i64..5_000_000,
        proptest::option::of(0_i64..5_000_000),
        prop::sample::select(vec!["AAA", "BB", "D", "none"]),
        prop::sample::select(vec![
            "top_customer",
            "business",
            "consumer",
            "government",
            "other",
        ]),
    )
        .prop_map(
            |(class, monthly, exposure, current, rating, kind)| LimitInputs {
                risk_class: class,
                risk_class_name: "X".into(),
                monthly_invoicing: Decimal::new(monthly, 2),
                exposure: Decimal::new(exposure, 0),
                current_limit: current.map(|c| Decimal::new(c, 0)),
                bureau_rating: Some(rating.to_owned()),
                debtor_type: Some(kind.to_owned()),
            },
        )
}

proptest! {
    #[test]
    fn the_limit_stays_within_floor_and_cap(d in any_inputs()) {
        let policy = LimitPolicy::builtin().expect("policy");
        let r = policy.recommend(&d).expect("in range");
        let kind = d.debtor_type.as_deref().unwrap_or("default");
        let bounds = policy.debtor_type.get(kind).copied().unwrap_or(policy.debtor_type["default"]);
        prop_assert!(r.limit >= bounds.floor && r.limit <= bounds.cap, "{:?}", r);
        prop_assert_eq!(r.steps.last().map(|s| s.amount), Some(r.limit));
    }

    #[test]
    fn the_limit_without_words_is_the_recommended_one(d in any_inputs()) {
        let policy = LimitPolicy::builtin().expect("policy");
        let explained = policy.recommend(&d).expect("in range");
        let plain = policy.limit(&d).expect("in range");
        prop_assert_eq!(plain.limit, explained.limit);
        prop_assert_eq!(plain.exposure_above_limit, explained.exposure_above_limit);
        prop_assert!(plain.steps.is_empty());
        prop_assert!(!explained.steps.is_empty());
    }
}

#[test]
fn a_limit_out_of_range_is_refused_with_or_without_words() {
    let policy = LimitPolicy::builtin().expect("policy");
    let mut huge = inputs(0, "1000", None, "AAA", "business");
    huge.monthly_invoicing = Decimal::MAX;
    assert!(policy.recommend(&huge).is_err());
    assert!(policy.limit(&huge).is_err());
}
