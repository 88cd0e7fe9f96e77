//! The feature definitions: windows, partial aggregates and features, read from TOML
//! (`features/definitions.toml` is built in) and checked as a whole before anything runs.
//! Whether the SQL compiles is checked by [`crate::engine`], which names the definition.

use std::collections::BTreeSet;

use events::lines::line_of;
use serde::Deserialize;
use toml::Spanned;

use crate::error::FeatureError;

/// The built-in definitions (`features/definitions.toml`).
pub const DEFAULT_DEFINITIONS: &str = include_str!("../definitions.toml");

/// Name the built-in definitions go by in error messages.
pub const DEFAULT_DEFINITIONS_NAME: &str = "features/definitions.toml";

/// Most windows accepted.
pub const MAX_WINDOWS: usize = 8;

/// Longest window accepted, in days (ten years).
pub const MAX_WINDOW_DAYS: u32 = 3660;

/// Most hop periods one window may span (bounds the state kept per debtor).
pub const MAX_PERIODS_PER_WINDOW: u32 = 64;

/// Most aggregates accepted (64 money aggregates fill a tile of
/// [`crate::tiles::MAX_TILE_WORDS`] words).
pub const MAX_AGGREGATES: usize = 64;

/// Periods start on Mondays: day 4 since 1970-01-01 (1970-01-05) was one.
pub const PERIOD_OFFSET_DAYS: i32 = 3;

/// How a windowed aggregate's value is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregateType {
    /// A non-negative count (32 bits, saturating).
    Count,
    /// An integer number of days, or a day (32 bits, saturating).
    Days,
    /// Money, exact: Decimal128(38, 6).
    Money,
}

impl AggregateType {
    /// 32-bit words one value takes in a tile.
    pub fn words(self) -> usize {
        match self {
            AggregateType::Count | AggregateType::Days => 1,
            AggregateType::Money => 4,
        }
    }
}

/// How partial results of one aggregate combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Merge {
    /// Added up (0 over no facts).
    Sum,
    /// The largest (NULL over no facts).
    Max,
    /// The smallest (NULL over no facts).
    Min,
}

/// A sliding window of event time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Name, used as column suffix (`30d`).
    pub name: String,
    /// Nominal length in days.
    pub days: u32,
    /// Length of the periods the window slides by, in days.
    pub hop_days: u32,
}

impl Window {
    /// Hop periods the window spans (the current one included).
    pub fn periods(&self) -> u32 {
        self.days.div_ceil(self.hop_days)
    }

    /// The hop period that holds `day` (days since 1970-01-01).
    pub fn period(&self, day: i32) -> i32 {
        (day + PERIOD_OFFSET_DAYS).div_euclid(self.hop_days as i32)
    }

    /// Whether a fact of `day` counts in the window on `today`.
    pub fn contains(&self, day: i32, today: i32) -> bool {
        day <= today && self.period(day) > self.period(today) - self.periods() as i32
    }

    /// The first day on which a fact of period `period` no longer counts.
    pub fn expiry_day(&self, period: i32) -> i32 {
        (period + self.periods() as i32) * self.hop_days as i32 - PERIOD_OFFSET_DAYS
    }

    /// The SQL predicate of [`Window::contains`] over a `day` column, for full
    /// recomputations.
    pub fn sql_predicate(&self, today: i32) -> String {
        let h = self.hop_days;
        format!(
            "day <= {today} AND (day + {PERIOD_OFFSET_DAYS}) / {h} > {} ",
            self.period(today) - self.periods() as i32
        )
    }
}

/// A partial aggregate over facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    /// Name (column name in the feature inputs, with the window's suffix when windowed).
    pub name: String,
    /// How the value is kept.
    pub kind: AggregateType,
    /// How partial results combine.
    pub merge: Merge,
    /// Kept over all time rather than per window.
    pub lifetime: bool,
    /// One SQL aggregate expression over `facts`.
    pub sql: String,
    /// Line of the definition in its file.
    pub line: usize,
}

/// A feature: one SQL expression over the aggregates and the standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    /// Name (the output column).
    pub name: String,
    /// SQL expression.
    pub sql: String,
    /// Line of the definition in its file.
    pub line: usize,
}

/// Every definition, checked, with `{w}` features expanded per window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definitions {
    /// Where they were read from.
    pub source: String,
    /// Windows, in file order.
    pub windows: Vec<Window>,
    /// Aggregates, in file order.
    pub aggregates: Vec<Aggregate>,
    /// Features, in file order, expanded.
    pub features: Vec<Feature>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    window: Vec<Spanned<WindowToml>>,
    #[serde(default)]
    aggregate: Vec<Spanned<AggregateToml>>,
    #[serde(default)]
    feature: Vec<Spanned<FeatureToml>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowToml {
    name: String,
    days: u32,
    hop_days: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AggregateToml {
    name: String,
    #[serde(rename = "type")]
    kind: AggregateType,
    merge: Merge,
    #[serde(default)]
    lifetime: bool,
    sql: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeatureToml {
    name: String,
    sql: String,
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Column names of the standing that features can read (see `definitions.toml`); the
/// per-window `overdue_balance_<window>` columns come on top.
pub const STANDING_COLUMNS: [&str; 11] = [
    "today",
    "open_balance",
    "overdue_balance",
    "unapplied_credit",
    "open_items",
    "overdue_items",
    "oldest_overdue_days",
    "credit_limit",
    "bureau_rating",
    "bureau_pd",
    "debtor_type",
];

impl Definitions {
    /// The built-in definitions.
    pub fn builtin() -> Result<Definitions, FeatureError> {
        Definitions::parse(DEFAULT_DEFINITIONS_NAME, DEFAULT_DEFINITIONS)
    }

    /// Reads and checks definitions; `source` names the file in errors.
    pub fn parse(source: &str, text: &str) -> Result<Definitions, FeatureError> {
        let invalid =
            |line: Option<usize>, field: String, reason: String| FeatureError::InvalidDefinitions {
                file: source.to_owned(),
                line,
                field,
                reason,
            };
        let file: File = toml::from_str(text).map_err(|e| {
            invalid(
                e.span().map(|s| line_of(text, s.start)),
                "(syntax)".into(),
                e.message().to_owned(),
            )
        })?;
        if file.window.is_empty() {
            return Err(invalid(None, "window".into(), "no window declared".into()));
        }
        if file.window.len() > MAX_WINDOWS {
            return Err(invalid(
                None,
                "window".into(),
                format!("{} windows; at most {MAX_WINDOWS}", file.window.len()),
            ));
        }
        let mut names = BTreeSet::new();
        let mut windows = Vec::new();
        for w in &file.window {
            let line = line_of(text, w.span().start);
            let w = w.get_ref();
            let field = |f: &str| format!("window `{}`: {f}", w.name);
            if !is_identifier(&format!("_{}", w.name)) || w.name.is_empty() {
                return Err(invalid(
                    Some(line),
                    field("name"),
                    "must be lowercase letters, digits and underscores".into(),
                ));
            }
            if !names.insert(w.name.clone()) {
                return Err(invalid(Some(line), field("name"), "declared twice".into()));
            }
            if !(1..=MAX_WINDOW_DAYS).contains(&w.days) {
                return Err(invalid(
                    Some(line),
                    field("days"),
                    format!("{} is outside 1..={MAX_WINDOW_DAYS}", w.days),
                ));
            }
            if w.hop_days == 0 || w.hop_days > w.days {
                return Err(invalid(
                    Some(line),
                    field("hop_days"),
                    format!("{} is outside 1..={}", w.hop_days, w.days),
                ));
            }
            if w.days.div_ceil(w.hop_days) > MAX_PERIODS_PER_WINDOW {
                return Err(invalid(
                    Some(line),
                    field("hop_days"),
                    format!(
                        "{} days in hops of {} make {} periods; at most {MAX_PERIODS_PER_WINDOW}",
                        w.days,
                        w.hop_days,
                        w.days.div_ceil(w.hop_days)
                    ),
                ));
            }
            windows.push(Window {
                name: w.name.clone(),
                days: w.days,
                hop_days: w.hop_days,
            });
        }

        let mut columns: BTreeSet<String> =
            STANDING_COLUMNS.iter().map(|s| s.to_string()).collect();
        for w in &windows {
            columns.insert(format!("overdue_balance_{}", w.name));
        }
        let mut aggregates = Vec::new();
        for a in &file.aggregate {
            let line = line_of(text, a.span().start);
            let a = a.get_ref();
            let field = |f: &str| format!("aggregate `{}`: {f}", a.name);
            if !is_identifier(&a.name) {
                return Err(invalid(
                    Some(line),
                    field("name"),
                    "must start with a lowercase letter or underscore and hold only lowercase letters, digits and underscores".into(),
                ));
            }
            if a.sql.trim().is_empty() {
                return Err(invalid(Some(line), field("sql"), "is empty".into()));
            }
            if a.kind == AggregateType::Count && a.merge != Merge::Sum {
                return Err(invalid(
                    Some(line),
                    field("merge"),
                    "a count can only be merged with `sum`".into(),
                ));
            }
            let produced: Vec<String> = if a.lifetime {
                vec![a.name.clone()]
            } else {
                windows
                    .iter()
                    .map(|w| format!("{}_{}", a.name, w.name))
                    .collect()
            };
            for c in produced {
                if !columns.insert(c.clone()) {
                    return Err(invalid(
                        Some(line),
                        field("name"),
                        format!("column `{c}` is declared twice (or is a standing column)"),
                    ));
                }
            }
            aggregates.push(Aggregate {
                name: a.name.clone(),
                kind: a.kind,
                merge: a.merge,
                lifetime: a.lifetime,
                sql: a.sql.clone(),
                line,
            });
        }
        if aggregates.len() > MAX_AGGREGATES {
            return Err(invalid(
                None,
                "aggregate".into(),
                format!("{} aggregates; at most {MAX_AGGREGATES}", aggregates.len()),
            ));
        }
        if aggregates.is_empty() {
            return Err(invalid(
                None,
                "aggregate".into(),
                "no aggregate declared".into(),
            ));
        }

        let mut features = Vec::new();
        let mut feature_names = BTreeSet::new();
        for f in &file.feature {
            let line = line_of(text, f.span().start);
            let f = f.get_ref();
            let expanded: Vec<(String, String)> = if f.name.contains("{w}") {
                windows
                    .iter()
                    .map(|w| {
                        (
                            f.name.replace("{w}", &w.name),
                            f.sql.replace("{w}", &w.name),
                        )
                    })
                    .collect()
            } else if f.sql.contains("{w}") {
                return Err(invalid(
                    Some(line),
                    format!("feature `{}`: sql", f.name),
                    "uses `{w}` but the name does not".into(),
                ));
            } else {
                vec![(f.name.clone(), f.sql.clone())]
            };
            for (name, sql) in expanded {
                if !is_identifier(&name) {
                    return Err(invalid(
                        Some(line),
                        format!("feature `{name}`: name"),
                        "must start with a lowercase letter or underscore and hold only lowercase letters, digits and underscores".into(),
                    ));
                }
                if name == "debtor_id" || name == "as_of" || !feature_names.insert(name.clone()) {
                    return Err(invalid(
                        Some(line),
                        format!("feature `{name}`: name"),
                        "declared twice (or reserved: debtor_id, as_of)".into(),
                    ));
                }
                if sql.trim().is_empty() {
                    return Err(invalid(
                        Some(line),
                        format!("feature `{name}`: sql"),
                        "is empty".into(),
                    ));
                }
                features.push(Feature { name, sql, line });
            }
        }
        if features.is_empty() {
            return Err(invalid(
                None,
                "feature".into(),
                "no feature declared".into(),
            ));
        }
        Ok(Definitions {
            source: source.to_owned(),
            windows,
            aggregates,
            features,
        })
    }

    /// What the per-debtor state depends on: windows and aggregates (not features, which
    /// are computed on read). States of equal layouts are interchangeable.
    pub fn state_layout(&self) -> String {
        let windows: Vec<String> = self
            .windows
            .iter()
            .map(|w| format!("{}:{}:{}", w.name, w.days, w.hop_days))
            .collect();
        let aggregates: Vec<String> = self
            .aggregates
            .iter()
            .map(|a| {
                format!(
                    "{}:{:?}:{:?}:{}:{}",
                    a.name, a.kind, a.merge, a.lifetime, a.sql
                )
            })
            .collect();
        format!("{}|{}", windows.join(","), aggregates.join(","))
    }

    /// Aggregates kept per window.
    pub fn windowed(&self) -> impl Iterator<Item = &Aggregate> {
        self.aggregates.iter().filter(|a| !a.lifetime)
    }

    /// Aggregates kept over all time.
    pub fn lifetime(&self) -> impl Iterator<Item = &Aggregate> {
        self.aggregates.iter().filter(|a| a.lifetime)
    }
}
