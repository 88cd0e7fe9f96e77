//! Keeps `docs/events.md` honest.
//!
//! - The examples, the dead-letter table and the partition example live between
//!   `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` markers and are written by
//!   this code: `UPDATE_GOLDEN=1 cargo test -p events --test it docs` rewrites them, and
//!   the diff is reviewed.
//! - Every ```json block must be an input event that decodes or an output that reads back.
//! - Each field table names exactly the fields the code has, with the right "required".

use std::path::PathBuf;

use events::subjects::{
    HEADER_DLQ_DETAIL, HEADER_DLQ_REASON, HEADER_DLQ_SEQUENCE, HEADER_DLQ_SUBJECT,
};
use events::*;
use serde::Serialize;
use serde_json::{Value, json};

use crate::examples::*;

fn doc_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/events.md")
}

fn read_doc() -> String {
    std::fs::read_to_string(doc_path()).expect("docs/events.md")
}

fn json_block(value: &impl Serialize) -> String {
    let pretty = serde_json::to_string_pretty(value).expect("JSON");
    format!("```json\n{pretty}\n```")
}

fn output_type(output: &Output) -> &'static str {
    match output {
        Output::Alert(_) => "alert",
        Output::Action(_) => "action",
        Output::Task(_) => "task",
        Output::ScoreUpdate(_) => "score_update",
    }
}

/// One refused example per reason: (when, the change to a valid message, the bytes).
fn dead_letter_cases() -> Vec<(DeadLetterReason, &'static str, String, Vec<u8>)> {
    use DeadLetterReason as R;
    let invoice = EventKind::InvoiceIssued;
    let mut oversized = full(invoice).to_json();
    oversized.resize(LIMIT + 1, b' ');
    let mut truncated = full(invoice).to_json();
    truncated.truncate(60);
    vec![
        (
            R::Oversized,
            "the message is larger than the configured limit (default 65536 bytes)",
            "65537 bytes".to_owned(),
            oversized,
        ),
        (
            R::MalformedJson,
            "not UTF-8, not JSON, not a JSON object (also `data`), or a field given twice",
            "the message cut off after 60 bytes".to_owned(),
            truncated,
        ),
        (
            R::UnsupportedSchemaVersion,
            "`schema_version` is not a version this build reads (only the number 1)",
            "`\"schema_version\": \"1\"`".to_owned(),
            with(invoice, "/schema_version", json!("1")),
        ),
        (
            R::UnknownEventType,
            "`type` is not one of the input kinds",
            "`\"type\": \"invoice_paid\"`".to_owned(),
            with(invoice, "/type", json!("invoice_paid")),
        ),
        (
            R::MissingField,
            "a required field is absent (in the envelope, `null` counts as absent)",
            "invoice without `due_date`".to_owned(),
            without(invoice, "/data/due_date"),
        ),
        (
            R::InvalidAmount,
            "an amount is not a decimal string, is zero where it must be positive, has more \
             than 6 decimals or is above 10^12",
            "`\"amount\": \"12,50\"`".to_owned(),
            with(invoice, "/data/amount", json!("12,50")),
        ),
        (
            R::NegativeAmount,
            "an amount is below zero",
            "`\"amount\": \"-1250.00\"`".to_owned(),
            with(invoice, "/data/amount", json!("-1250.00")),
        ),
        (
            R::UnknownCurrency,
            "`currency` is not an active ISO 4217 code in upper case",
            "`\"currency\": \"EURO\"`".to_owned(),
            with(invoice, "/data/currency", json!("EURO")),
        ),
        (
            R::InvalidValue,
            "any other broken rule: a bad date or time, a value of the wrong JSON type, an \
             unknown enum value, an id that is empty or too long, a due date before the issue \
             date, a bad reason code ...",
            "`\"due_date\": \"2025-02-28\"` (issued 2025-03-01)".to_owned(),
            with(invoice, "/data/due_date", json!("2025-02-28")),
        ),
    ]
}

fn dead_letter_table() -> String {
    let mut table = String::from(
        "| reason | when | example | detail, as the decoder writes it |\n|---|---|---|---|\n",
    );
    for (reason, when, example, bytes) in dead_letter_cases() {
        let e = decode(&bytes).expect_err("a refusal");
        assert_eq!(e.reason, reason, "{e}");
        let detail = e.detail.replace('|', "\\|");
        table.push_str(&format!(
            "| `{}` | {when} | {example} | {detail} |\n",
            reason.as_str()
        ));
    }
    table.trim_end().to_owned()
}

fn dead_letter_example() -> String {
    let subjects = Subjects::default();
    // Spoilt in place, so the payload reads as a producer would have written it.
    let valid = String::from_utf8(full(EventKind::InvoiceIssued).to_json()).expect("UTF-8");
    let bytes = valid
        .replace("\"amount\":\"1250.00\"", "\"amount\":\"12,50\"")
        .into_bytes();
    let e = decode(&bytes).expect_err("a refusal");
    let original = subjects.input(Some(DEBTOR), EventKind::InvoiceIssued);
    format!(
        "```text\nsubject  {}\nheaders  {HEADER_DLQ_REASON}: {}\n         {HEADER_DLQ_DETAIL}: {}\n         {HEADER_DLQ_SUBJECT}: {original}\n         {HEADER_DLQ_SEQUENCE}: 48213\npayload  {}\n```",
        subjects.dead_letter(e.reason),
        e.reason.as_str(),
        e.detail,
        String::from_utf8_lossy(&bytes),
    )
}

fn partition_example() -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in DEBTOR.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let partition = partition_of(DEBTOR, 16);
    assert_eq!(u64::from(partition), hash % 16);
    format!(
        "For the debtor id `{DEBTOR}` (bytes `{}`) the FNV-1a 64 hash is `0x{hash:016x}` \
         ({hash}); with 16 partitions that is partition **{partition}** ({hash} mod 16), so \
         its invoices go to `{}`.",
        DEBTOR
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" "),
        Subjects::default().input(Some(DEBTOR), EventKind::InvoiceIssued),
    )
}

/// Every generated section: (marker name, content).
fn generated() -> Vec<(String, String)> {
    let mut sections = Vec::new();
    for kind in EventKind::ALL {
        sections.push((format!("input:{}", kind.as_str()), json_block(&full(kind))));
    }
    for output in outputs() {
        sections.push((
            format!("output:{}", output_type(&output.output)),
            json_block(&output),
        ));
    }
    sections.push(("partition-example".to_owned(), partition_example()));
    sections.push(("dead-letter-reasons".to_owned(), dead_letter_table()));
    sections.push(("dead-letter-example".to_owned(), dead_letter_example()));
    sections
}

/// Replaces the content between the markers of `name`; `None` when the markers are absent.
fn replace_section(doc: &str, name: &str, content: &str) -> Option<String> {
    let open = format!("<!-- generated:{name} -->");
    let close = format!("<!-- /generated:{name} -->");
    let start = doc.find(&open)? + open.len();
    let end = start + doc[start..].find(&close)?;
    Some(format!("{}\n{content}\n{}", &doc[..start], &doc[end..]))
}

/// The doc as it is once its generated sections are up to date: the other checks read this,
/// so they do not depend on (or race with) `UPDATE_GOLDEN` rewriting the file.
fn current_doc() -> String {
    let mut doc = read_doc();
    for (name, content) in generated() {
        if let Some(updated) = replace_section(&doc, &name, &content) {
            doc = updated;
        }
    }
    doc
}

#[test]
fn generated_sections_of_the_docs_are_up_to_date() {
    let doc = read_doc();
    let mut updated = doc.clone();
    for (name, content) in generated() {
        updated = replace_section(&updated, &name, &content)
            .unwrap_or_else(|| panic!("docs/events.md lacks the markers of `{name}`"));
    }
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        if updated != doc {
            std::fs::write(doc_path(), &updated).expect("write docs/events.md");
        }
    } else {
        assert!(
            updated == doc,
            "docs/events.md is out of date: run `UPDATE_GOLDEN=1 cargo test -p events --test it \
             docs` and review the diff"
        );
    }
}

/// The ```json blocks of the doc, with their line numbers.
fn json_blocks(doc: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in doc.lines().enumerate() {
        match (&mut current, line.trim()) {
            (None, "```json") => current = Some((n + 1, String::new())),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some((_, text)), _) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(current.is_none(), "a ```json block is not closed");
    blocks
}

#[test]
fn every_json_block_in_the_docs_is_a_valid_event() {
    let doc = current_doc();
    let blocks = json_blocks(&doc);
    let (mut inputs, mut outputs) = (Vec::new(), Vec::new());
    for (line, text) in blocks {
        let value: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("docs/events.md:{line}: not JSON: {e}"));
        if value.get("output_id").is_some() {
            let output: OutputEnvelope = serde_json::from_value(value)
                .unwrap_or_else(|e| panic!("docs/events.md:{line}: not an output: {e}"));
            outputs.push(output_type(&output.output));
        } else {
            let envelope = decode(text.as_bytes())
                .unwrap_or_else(|e| panic!("docs/events.md:{line}: refused: {e}"));
            inputs.push(envelope.event.kind());
        }
    }
    for kind in EventKind::ALL {
        assert!(inputs.contains(&kind), "no example of {kind:?}");
    }
    for t in ["alert", "action", "task", "score_update"] {
        assert!(outputs.contains(&t), "no example of {t}");
    }
}

/// The rows of the first table in the section under `heading`: (field, required).
fn field_table(doc: &str, heading: &str) -> Vec<(String, bool)> {
    let start = doc
        .lines()
        .position(|l| l.trim() == heading)
        .unwrap_or_else(|| panic!("docs/events.md lacks the heading {heading}"));
    doc.lines()
        .skip(start + 1)
        .take_while(|l| !l.starts_with('#'))
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|row| {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let field = cells[1].trim_matches('`').to_owned();
            let required = match cells[3] {
                "yes" => true,
                "no" => false,
                other => panic!("{heading}: `{field}`: required is `{other}`, not yes/no"),
            };
            (field, required)
        })
        .collect()
}

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

#[track_caller]
fn assert_table(heading: &str, table: &[(String, bool)], full: &Value, minimal: &Value) {
    let mut documented: Vec<String> = table.iter().map(|(f, _)| f.clone()).collect();
    documented.sort();
    assert_eq!(documented, keys(full), "{heading}: documented fields");
    for (field, required) in table {
        assert_eq!(
            *required,
            minimal.get(field).is_some(),
            "{heading}: is `{field}` required?"
        );
    }
}

#[test]
fn the_field_tables_match_the_code() {
    let doc = current_doc();
    // The envelope.
    let table = field_table(&doc, "## The envelope");
    let envelope = message(EventKind::InvoiceIssued);
    assert_table("envelope", &table, &envelope, &envelope);
    // Input data, kind by kind: required means the decoder refuses its absence.
    for kind in EventKind::ALL {
        let heading = format!("### `{}`", kind.as_str());
        let table = field_table(&doc, &heading);
        let full_data = message(kind)["data"].clone();
        let mut required = full_data.clone();
        if let Some(o) = required.as_object_mut() {
            o.retain(|k, _| !optional_fields(kind).contains(&k.as_str()));
        }
        if kind == EventKind::ClockTick {
            assert!(table.is_empty(), "clock_tick has no fields");
            continue;
        }
        assert_table(&heading, &table, &full_data, &required);
    }
    // Outputs: required means always written.
    let table = field_table(&doc, "## Output events");
    let full_out: Value = serde_json::from_slice(&outputs()[0].to_json()).expect("JSON");
    let min_out: Value = serde_json::from_slice(&minimal_outputs()[0].to_json()).expect("JSON");
    assert_table("output envelope", &table, &full_out, &min_out);
    for (full, minimal) in outputs().iter().zip(minimal_outputs()) {
        let t = output_type(&full.output);
        let heading = format!("### `{t}`");
        let table = field_table(&doc, &heading);
        let mut full: Value = serde_json::from_slice(&full.to_json()).expect("JSON");
        // Fields the first example cannot carry come from the further examples.
        for more in more_outputs()
            .iter()
            .filter(|o| output_type(&o.output) == t)
        {
            let more: Value = serde_json::from_slice(&more.to_json()).expect("JSON");
            if let (Some(into), Some(from)) =
                (full["data"].as_object_mut(), more["data"].as_object())
            {
                for (k, v) in from {
                    into.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        let minimal: Value = serde_json::from_slice(&minimal.to_json()).expect("JSON");
        assert_table(&heading, &table, &full["data"], &minimal["data"]);
    }
}

#[test]
fn the_docs_name_every_reason_kind_family_and_header() {
    let doc = current_doc();
    let names = DeadLetterReason::ALL
        .iter()
        .map(|r| r.as_str())
        .chain(EventKind::ALL.iter().map(|k| k.as_str()))
        .chain(OutputFamily::ALL.iter().map(|f| f.as_str()))
        .chain([
            HEADER_DLQ_REASON,
            HEADER_DLQ_DETAIL,
            HEADER_DLQ_SUBJECT,
            HEADER_DLQ_SEQUENCE,
        ]);
    for name in names {
        assert!(
            doc.contains(&format!("`{name}`")),
            "docs/events.md never names `{name}`"
        );
    }
    for kind in [
        AlertKind::ReversalReceived,
        AlertKind::DisputeOpened,
        AlertKind::ExposureAboveLimit,
        AlertKind::PromiseBroken,
    ] {
        assert!(doc.contains(&format!("`{}`", kind.as_str())), "{kind:?}");
    }
    for kind in [
        ActionKind::Reminder,
        ActionKind::CreditHold,
        ActionKind::CreditHoldReleased,
    ] {
        assert!(doc.contains(&format!("`{}`", kind.as_str())), "{kind:?}");
    }
    for kind in [
        TaskKind::UnmatchedPayment,
        TaskKind::UnknownReversal,
        TaskKind::CurrencyMismatch,
    ] {
        assert!(doc.contains(&format!("`{}`", kind.as_str())), "{kind:?}");
    }
    assert!(
        doc.contains("## Streams and consumers\n\nSee docs/operations.md.\n"),
        "the streams section points to operations.md"
    );
}
