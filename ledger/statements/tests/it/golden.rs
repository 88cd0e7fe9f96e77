//! The import plan of every sample and fixture, as a person reads it, against a golden
//! file in `tests/golden/`. After a deliberate change, `UPDATE_GOLDEN=1 cargo test -p
//! statements --test it golden` rewrites them and the diff is reviewed.

use std::fmt::Write as _;

use statements::{ImportPlan, StatementFile};

use crate::support::*;

fn render(file: &StatementFile, plan: &ImportPlan) -> String {
    let mut out = String::new();
    let version = file.version.as_deref().unwrap_or("-");
    writeln!(out, "format {} {version}", file.format.as_str()).unwrap();
    for s in &file.statements {
        let balance = |b: Option<statements::SignedAmount>| {
            b.map_or("-".to_owned(), |b| {
                format!("{} {} on {}", b.amount, b.currency, b.date)
            })
        };
        writeln!(
            out,
            "statement {} account {} line {}: opening {}, closing {}, {} entries, credits {}, debits {}, {:?}",
            s.id,
            s.account,
            s.line,
            balance(s.opening_balance),
            balance(s.closing_balance),
            s.entries.len(),
            s.credit_sum(),
            s.debit_sum(),
            s.balance_check()
        )
        .unwrap();
    }
    for e in &plan.events {
        writeln!(out, "event {}", String::from_utf8_lossy(&e.to_json())).unwrap();
    }
    for s in &plan.skipped {
        let part = s
            .transaction
            .map_or(String::new(), |t| format!(" transaction {t}"));
        writeln!(
            out,
            "skipped line {}: {}{part}: {} {} {:?}: {}",
            s.line, s.entry, s.amount, s.currency, s.direction, s.reason
        )
        .unwrap();
    }
    for w in &plan.balance_warnings {
        writeln!(out, "balance warning: {w}").unwrap();
    }
    for w in &plan.warnings {
        writeln!(out, "warning: {w}").unwrap();
    }
    out
}

#[test]
fn import_plans_match_their_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let dir = manifest_dir().join("tests/golden");
    let mut stale = Vec::new();
    for (name, bytes) in all_good_files() {
        let (file, plan) = import(&bytes);
        let actual = render(&file, &plan);
        let path = dir.join(format!("{}.txt", name.replace('/', "__")));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        if expected != actual {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "plans differ from (or have no) golden files; review with UPDATE_GOLDEN=1: {stale:#?}"
    );
}
