//! Feature definitions: the built-in ones compile; bad ones are refused at start with the
//! file, line, definition and DataFusion's message.

use features::{Definitions, Engine, FeatureConfig, FeatureError, FeatureStore};

fn builtin_text() -> &'static str {
    features::definitions::DEFAULT_DEFINITIONS
}

fn refuse(text: &str) -> FeatureError {
    match Definitions::parse("test.toml", text) {
        Err(e) => e,
        Ok(d) => Engine::new(d).expect_err("definitions should be refused"),
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn builtin_definitions_compile_and_expand_per_window() {
    let d = Definitions::builtin().unwrap();
    assert_eq!(d.windows.len(), 3);
    let names: Vec<String> = d.features.iter().map(|f| f.name.clone()).collect();
    for n in [
        "invoice_count_30d",
        "invoice_count_90d",
        "invoice_count_365d",
        "avg_days_late_365d",
        "overdue_balance_over_30d",
        "lateness_trend",
        "debtor_type",
    ] {
        assert!(names.iter().any(|m| m == n), "{n} missing from {names:?}");
    }
    let store = FeatureStore::new(d, FeatureConfig::default()).unwrap();
    let schema = store.engine().output_schema();
    assert_eq!(schema.field(0).name(), "debtor_id");
    assert_eq!(schema.field(1).name(), "as_of");
    assert_eq!(schema.fields().len(), names.len() + 2);
}

#[test]
fn a_feature_that_does_not_compile_is_refused_with_its_name_line_and_datafusions_message() {
    let text = builtin_text().replace(
        "sql = \"today - last_payment_day\"",
        "sql = \"today - last_paymnt_day\"",
    );
    let line = line_of(&text, "name = \"days_since_last_payment\"");
    match refuse(&text) {
        FeatureError::DefinitionSql {
            what,
            name,
            line: l,
            message,
            file,
        } => {
            assert_eq!(
                (what, name.as_str(), file.as_str()),
                ("feature", "days_since_last_payment", "test.toml")
            );
            assert_eq!(l, line - 1, "the line of the [[feature]] header");
            assert!(message.contains("last_paymnt_day"), "{message}");
        }
        e => panic!("unexpected {e}"),
    }
}

#[test]
fn an_aggregate_that_does_not_compile_is_refused_with_its_name() {
    let text = builtin_text().replace(
        "sql = \"count(*) FILTER (WHERE kind = 'reversal')\"",
        "sql = \"count(*) FILTER (WHERE kind = 'reversal'\"",
    );
    let e = refuse(&text);
    assert!(
        matches!(&e, FeatureError::DefinitionSql { what: "aggregate", name, .. } if name == "reversals"),
        "{e}"
    );
    let text = builtin_text().replace(
        "sql = \"sum(amount) FILTER (WHERE kind = 'invoice')\"",
        "sql = \"max(kind)\"",
    );
    let e = refuse(&text);
    assert!(e.to_string().contains("aggregate `invoiced`"), "{e}");
}

#[test]
fn malformed_definitions_name_the_line_and_field() {
    let e = refuse(
        "[[window]]\nname = \"30d\"\ndays = 30\nhop_days = 1\n\n[[aggregate]]\nname = \"x\"\ntype = \"count\"\nmerge = \"sum\"\nsql = \"count(*)\"\ncolour = \"red\"\n",
    );
    let s = e.to_string();
    assert!(s.starts_with("test.toml:"), "{s}");
    assert!(s.contains("colour"), "{s}");

    let e = refuse("[[window]]\nname = \"30d\"\ndays = 30\nhop_days = 0\n");
    assert_eq!(
        e.to_string(),
        "test.toml:1: window `30d`: hop_days: 0 is outside 1..=30"
    );

    let e = refuse(&format!(
        "{}\n[[feature]]\nname = \"utilisation\"\nsql = \"1\"\n",
        builtin_text()
    ));
    assert!(
        e.to_string()
            .contains("feature `utilisation`: name: declared twice"),
        "{e}"
    );

    let e = refuse("[[window]\n");
    assert!(
        matches!(e, FeatureError::InvalidDefinitions { line: Some(1), .. }),
        "{e}"
    );
}

#[test]
fn a_count_cannot_be_merged_with_max() {
    let text = builtin_text().replacen(
        "type = \"count\"\nmerge = \"sum\"",
        "type = \"count\"\nmerge = \"max\"",
        1,
    );
    let e = refuse(&text);
    assert!(e.to_string().contains("aggregate `invoices`: merge"), "{e}");
}

#[test]
fn configuration_out_of_range_is_refused_naming_the_field() {
    let config = FeatureConfig {
        batch_max_events: 0,
        ..FeatureConfig::default()
    };
    let e = FeatureStore::new(Definitions::builtin().unwrap(), config).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid feature configuration: batch_max_events: 0 is outside 1..=1000000"
    );
}
