//! Paths of the shared sample data and of this crate's own fixtures, and small helpers.

use std::path::PathBuf;

use events::{InputEvent, PaymentReceived, PaymentReversed};
use rust_decimal::Decimal;
use statements::{ImportPlan, StatementFile};

/// The camt samples of `testdata/camt`.
pub const CAMT_SAMPLES: &[&str] = &[
    "camt_parser_053_valid_example.xml",
    "camt_parser_053_valid_example_with_debit.xml",
    "camt_parser_053_valid_example_with_batch.xml",
    "camt_parser_053_valid_example_v4.xml",
    "camt_parser_054_valid_example.xml",
    "genkgo-camt_camt053.v2.multi.statement.xml",
    "genkgo-camt_camt053.v2.five.decimals.xml",
    "genkgo-camt_camt053.v4.xml",
    "genkgo-camt_camt054.v2.xml",
    "genkgo-camt_camt054.v4.xml",
];

/// The MT940 samples of `testdata/mt940`.
pub const MT940_SAMPLES: &[&str] = &[
    "jejik-mt940_commerzbank.txt",
    "jejik-mt940_deutschebank.txt",
    "jejik-mt940_paribas.txt",
    "jejik-mt940_volksbankenraiffeisenbanken.txt",
    "php-mt940_Abn_sample",
    "php-mt940_Rabo_sample",
    "php-mt940_Spk_sample",
    "wolph-mt940_ASNB_mt940.txt",
    "wolph-mt940_citi_mt940.txt",
    "wolph-mt940_self-provided_gv_codes.sta",
    "wolph-mt940_self-provided_multiline.sta",
];

/// This crate's fixtures that are read without error.
pub const GOOD_FIXTURES: &[&str] = &["camt053_v08_batch_of_three.xml"];

/// The crate's directory.
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file of the repository's test data (`testdata/<folder>/<name>`, copies of the public
/// samples with their licences and SOURCE.txt). A missing file fails the test.
pub fn shared(folder: &str, name: &str) -> Vec<u8> {
    let path = manifest_dir()
        .join("../../testdata")
        .join(folder)
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("shared test data {}: {e}", path.display()))
}

/// A camt sample.
pub fn camt(name: &str) -> Vec<u8> {
    shared("camt", name)
}

/// An MT940 sample.
pub fn mt940(name: &str) -> Vec<u8> {
    shared("mt940", name)
}

/// A fixture of this crate (`tests/fixtures/<name>`).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = manifest_dir().join("tests/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// Every file that must be read without error: (label, bytes).
pub fn all_good_files() -> Vec<(String, Vec<u8>)> {
    let camt = CAMT_SAMPLES.iter().map(|n| (format!("camt/{n}"), camt(n)));
    let mt = MT940_SAMPLES
        .iter()
        .map(|n| (format!("mt940/{n}"), mt940(n)));
    let own = GOOD_FIXTURES
        .iter()
        .map(|n| (format!("fixtures/{n}"), fixture(n)));
    camt.chain(mt).chain(own).collect()
}

/// Parses and plans a file that must be read without error.
pub fn import(bytes: &[u8]) -> (StatementFile, ImportPlan) {
    let file = statements::parse(bytes).unwrap();
    let plan = statements::to_events(&file).unwrap();
    (file, plan)
}

/// A decimal from its text.
pub fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// The `payment_received` events of a plan.
pub fn received(plan: &ImportPlan) -> Vec<&PaymentReceived> {
    plan.events
        .iter()
        .filter_map(|e| match &e.event {
            InputEvent::PaymentReceived(p) => Some(p),
            _ => None,
        })
        .collect()
}

/// The `payment_reversed` events of a plan.
pub fn reversed(plan: &ImportPlan) -> Vec<&PaymentReversed> {
    plan.events
        .iter()
        .filter_map(|e| match &e.event {
            InputEvent::PaymentReversed(p) => Some(p),
            _ => None,
        })
        .collect()
}
