use models::{ModelError, RiskClasses};

#[test]
fn probabilities_fall_into_the_configured_bands() {
    let classes = RiskClasses::default();
    assert_eq!(classes.label_of(0.0), "A");
    assert_eq!(classes.label_of(0.049), "A");
    assert_eq!(classes.label_of(0.05), "B");
    assert_eq!(classes.label_of(0.3), "D");
    assert_eq!(classes.label_of(0.99), "E");
    assert_eq!(classes.worst(), 4);
    assert_eq!(
        classes.class_of(f64::NAN),
        4,
        "not a number: the worst class"
    );
    let table = classes.table(&[0.01, 0.02, 0.2, 0.7], &[false, true, true, true]);
    assert_eq!(table.len(), 5);
    assert_eq!((table[0].rows, table[0].late), (2, 1));
    assert_eq!((table[2].from, table[2].to, table[2].rows), (0.15, 0.30, 1));
    assert_eq!(table[4].rows, 1);
}

#[test]
fn bad_cut_offs_are_refused_when_read() {
    let err = RiskClasses::new(vec!["A".into(), "B".into()], vec![1.2]).expect_err("> 1");
    assert!(matches!(
        err,
        ModelError::Parameter {
            name: "cutoffs",
            ..
        }
    ));
    let err = serde_json::from_str::<RiskClasses>(
        r#"{"labels": ["A", "B", "C"], "cutoffs": [0.3, 0.1]}"#,
    )
    .expect_err("falling");
    assert!(err.to_string().contains("rise strictly"), "{err}");
    let err = serde_json::from_str::<RiskClasses>(r#"{"labels": ["A", "A"], "cutoffs": [0.3]}"#)
        .expect_err("twice");
    assert!(err.to_string().contains("twice"), "{err}");
    let classes = RiskClasses::default();
    let json = serde_json::to_string(&classes).expect("serialise");
    assert_eq!(
        serde_json::from_str::<RiskClasses>(&json).expect("read"),
        classes
    );
}
