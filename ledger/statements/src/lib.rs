//! Bank statement import: ISO 20022 camt.053 / camt.054 XML and SWIFT MT940 files into
//! creditstream `payment_received` and `payment_reversed` events. A pure library: bytes
//! in, typed statements and events out; no file, network or clock.
//!
//! Layout:
//! - [`detect`](mod@detect): [`Format`] and [`detect()`], from the content;
//! - `source` (private): byte-order mark, UTF-8 (Latin-1 fallback for MT940), lines;
//! - `xml` (private): an element tree built with quick-xml, with lines, by local name;
//! - `camt` (private): camt.053 `Stmt` / camt.054 `Ntfctn` → [`Statement`];
//! - `mt940` (private): MT940 fields → [`Statement`]; `field86` reads its `:86:`;
//! - `amount`, `identifiers` (private): exact amounts; IBAN, RF, reason codes;
//! - [`model`]: [`StatementFile`], [`Statement`], [`Entry`], [`Transaction`], balances;
//! - [`events`](mod@events): [`to_events()`] → [`ImportPlan`] (events, skipped bookings,
//!   balance warnings);
//! - [`error`]: [`StatementError`], the one error type; every variant names a line.
//!
//! Data flows: bytes → [`parse()`] ([`detect()`] → `camt` or `mt940` → [`StatementFile`],
//! refused whole on the first error) → [`to_events()`] → [`ImportPlan`] whose events an
//! importer publishes (each with a deterministic id, so a second import of the same file
//! publishes nothing new) after remembering [`StatementFile::digest`].
//!
//! ```
//! let mt940 = b":20:REF\n:25:NL81ASNB9999999999\n:28C:1/1\n:60F:C200101EUR10,00\n\
//! :61:2001010101C5,00NTRFNONREF//B1\n:86:Invoice 2025-0042\n:62F:C200101EUR15,00\n-\n";
//! let file = statements::parse(mt940)?;
//! let plan = statements::to_events(&file)?;
//! assert_eq!(plan.events.len(), 1);
//! assert!(plan.balance_warnings.is_empty());
//! # Ok::<(), statements::StatementError>(())
//! ```

mod amount;
mod camt;
pub mod detect;
pub mod error;
pub mod events;
mod field86;
mod identifiers;
pub mod model;
mod mt940;
mod source;
mod xml;

use std::collections::HashMap;

use sha2::{Digest, Sha256};

pub use crate::detect::{Format, detect};
pub use crate::error::StatementError;
pub use crate::events::{ImportPlan, SkipReason, Skipped, to_events};
pub use crate::model::{
    Balance, BalanceCheck, Direction, Entry, SignedAmount, Statement, StatementFile, Transaction,
};

/// Reads a statement file in any supported format (see [`detect()`]). The file is refused
/// as a whole on the first error: nothing of it may be published.
pub fn parse(bytes: &[u8]) -> Result<StatementFile, StatementError> {
    let format = detect(bytes).ok_or_else(|| StatementError::NotAStatement {
        detail: detect::describe(bytes),
    })?;
    let body = source::strip_bom(bytes);
    let (version, statements, warnings) = match format {
        Format::Camt053 | Format::Camt054 => {
            let text = source::utf8(body)
                .map_err(|(line, detail)| StatementError::Encoding { line, detail })?;
            let root = xml::parse(text, &source::LineIndex::new(text))?;
            let version = detect::sniff_xml(text).and_then(|(_, v)| v);
            (version, camt::statements(&root, format)?, Vec::new())
        }
        Format::Mt940 => {
            let text = source::utf8_or_latin1(body);
            let (statements, warnings) = mt940::statements(&text)?;
            (None, statements, warnings)
        }
    };
    Ok(StatementFile {
        format,
        version,
        digest: sha256_hex(bytes),
        statements: distinct_ids(statements),
        warnings,
    })
}

/// SHA-256 of the bytes in lower-case hex.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A statement id given twice for one account in a file gets `~2`, `~3` ... on the later
/// ones, so that the ids made from it stay unique.
fn distinct_ids(mut statements: Vec<Statement>) -> Vec<Statement> {
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for s in &mut statements {
        let count = seen.entry((s.account.clone(), s.id.clone())).or_default();
        *count += 1;
        if *count > 1 {
            s.id = format!("{}~{count}", s.id);
        }
    }
    statements
}
