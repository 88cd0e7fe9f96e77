//! Credit limits: a transparent policy that recommends each debtor's limit from its risk
//! class (the model's part), its typical monthly invoicing, its bureau rating and its type,
//! with floors, caps, a bound on the change per review and rounding — and says, step by
//! step, how it got there. The policy is a TOML file analysts edit (`models/limits.toml`
//! is built in), checked as a whole when read. Amounts are exact decimals.

use std::collections::BTreeMap;

use events::lines::line_of;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::ModelError;

/// The built-in policy's text.
pub const DEFAULT_POLICY: &str = include_str!("../limits.toml");
/// The built-in policy's name in errors.
pub const DEFAULT_POLICY_NAME: &str = "models/limits.toml (built in)";

/// The policy as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyToml {
    months_of_invoicing: Spanned<Vec<Decimal>>,
    rounding: Spanned<Decimal>,
    max_change: Option<Spanned<Decimal>>,
    #[serde(default)]
    rating_factor: BTreeMap<String, Spanned<Decimal>>,
    debtor_type: BTreeMap<String, Spanned<TypeLimits>>,
}

/// Floor and cap of one debtor type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeLimits {
    /// The lowest limit recommended.
    pub floor: Decimal,
    /// The highest limit recommended.
    pub cap: Decimal,
}

/// A checked credit-limit policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitPolicy {
    /// Months of typical monthly invoicing per risk class, best class first.
    pub months_of_invoicing: Vec<Decimal>,
    /// The limit is rounded down to a multiple of this.
    pub rounding: Decimal,
    /// Largest change per review as a share of the current limit.
    pub max_change: Option<Decimal>,
    /// Multiplier per bureau rating (1 when not listed).
    pub rating_factor: BTreeMap<String, Decimal>,
    /// Floor and cap per debtor type, with `default` for the others.
    pub debtor_type: BTreeMap<String, TypeLimits>,
}

/// What the policy needs to know of a debtor.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitInputs {
    /// Risk class index (0 is the best), from the calibrated probability.
    pub risk_class: usize,
    /// The risk class's name, for the reasons.
    pub risk_class_name: String,
    /// Typical monthly invoiced amount (e.g. the last 90 days' invoicing / 3).
    pub monthly_invoicing: Decimal,
    /// What the debtor owes now.
    pub exposure: Decimal,
    /// The limit in force, if any.
    pub current_limit: Option<Decimal>,
    /// Latest bureau rating, if any.
    pub bureau_rating: Option<String>,
    /// Debtor type (`business`, `consumer`, ...), if known.
    pub debtor_type: Option<String>,
}

/// A recommended limit and how it was reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitRecommendation {
    /// The recommended limit.
    pub limit: Decimal,
    /// The steps, in order, each with the amount after it.
    pub steps: Vec<LimitStep>,
    /// Whether the debtor already owes more than the recommended limit.
    pub exposure_above_limit: bool,
}

/// One step of a recommendation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitStep {
    /// What the step did, in words.
    pub reason: String,
    /// The amount after the step.
    pub amount: Decimal,
}

impl LimitPolicy {
    /// The built-in policy.
    pub fn builtin() -> Result<LimitPolicy, ModelError> {
        LimitPolicy::parse(DEFAULT_POLICY_NAME, DEFAULT_POLICY)
    }

    /// Reads and checks a policy; `source` names the file in errors, which give the line
    /// and field.
    pub fn parse(source: &str, text: &str) -> Result<LimitPolicy, ModelError> {
        let invalid = |offset: Option<usize>, field: &str, reason: String| ModelError::Config {
            file: source.to_owned(),
            line: offset.map(|o| line_of(text, o)),
            field: field.to_owned(),
            reason,
        };
        let p: PolicyToml = toml::from_str(text).map_err(|e| {
            invalid(
                e.span().map(|s| s.start),
                "(syntax)",
                e.message().to_owned(),
            )
        })?;
        let at = |s: std::ops::Range<usize>| Some(s.start);
        if p.months_of_invoicing.get_ref().is_empty() {
            return Err(invalid(
                at(p.months_of_invoicing.span()),
                "months_of_invoicing",
                "one value per risk class is needed".into(),
            ));
        }
        if let Some(m) = p
            .months_of_invoicing
            .get_ref()
            .iter()
            .find(|m| m.is_sign_negative())
        {
            return Err(invalid(
                at(p.months_of_invoicing.span()),
                "months_of_invoicing",
                format!("{m} is negative"),
            ));
        }
        if *p.rounding.get_ref() <= Decimal::ZERO {
            return Err(invalid(
                at(p.rounding.span()),
                "rounding",
                format!("{} is not > 0", p.rounding.get_ref()),
            ));
        }
        if let Some(m) = &p.max_change
            && *m.get_ref() < Decimal::ZERO
        {
            return Err(invalid(
                at(m.span()),
                "max_change",
                format!("{} is negative", m.get_ref()),
            ));
        }
        for (rating, f) in &p.rating_factor {
            if f.get_ref().is_sign_negative() {
                return Err(invalid(
                    at(f.span()),
                    &format!("rating_factor.{rating}"),
                    format!("{} is negative", f.get_ref()),
                ));
            }
        }
        if !p.debtor_type.contains_key("default") {
            return Err(invalid(
                None,
                "debtor_type.default",
                "floor and cap for the types not listed are missing".into(),
            ));
        }
        for (name, t) in &p.debtor_type {
            let l = t.get_ref();
            if l.floor.is_sign_negative() || l.floor > l.cap {
                return Err(invalid(
                    at(t.span()),
                    &format!("debtor_type.{name}"),
                    format!("floor {} must be ≥ 0 and ≤ cap {}", l.floor, l.cap),
                ));
            }
        }
        Ok(LimitPolicy {
            months_of_invoicing: p.months_of_invoicing.into_inner(),
            rounding: p.rounding.into_inner(),
            max_change: p.max_change.map(Spanned::into_inner),
            rating_factor: p
                .rating_factor
                .into_iter()
                .map(|(k, v)| (k, v.into_inner()))
                .collect(),
            debtor_type: p
                .debtor_type
                .into_iter()
                .map(|(k, v)| (k, v.into_inner()))
                .collect(),
        })
    }

    /// Refuses a policy that does not give one value per risk class.
    pub fn check_classes(&self, classes: &crate::RiskClasses) -> Result<(), ModelError> {
        if self.months_of_invoicing.len() == classes.labels().len() {
            Ok(())
        } else {
            Err(ModelError::parameter(
                "months_of_invoicing",
                format!(
                    "{} values for {} risk classes ({})",
                    self.months_of_invoicing.len(),
                    classes.labels().len(),
                    classes.labels().join(", ")
                ),
            ))
        }
    }

    /// Recommends a limit, step by step: months of invoicing for the risk class, the
    /// bureau rating's factor, the bound on the change from the current limit, then the
    /// type's floor and cap (which win over the change bound), then rounding down (never
    /// below the floor).
    pub fn recommend(&self, d: &LimitInputs) -> Result<LimitRecommendation, ModelError> {
        self.walk(d, true)
    }

    /// The limit [`LimitPolicy::recommend`] gives, without putting its steps into words
    /// (`steps` is empty): for scoring many debtors of whom few are published.
    pub fn limit(&self, d: &LimitInputs) -> Result<LimitRecommendation, ModelError> {
        self.walk(d, false)
    }

    /// The recommendation, with its steps in words when `explain`.
    fn walk(&self, d: &LimitInputs, explain: bool) -> Result<LimitRecommendation, ModelError> {
        let mut steps = Vec::new();
        let class = d.risk_class.min(self.months_of_invoicing.len() - 1);
        let months = self.months_of_invoicing[class];
        let monthly = d.monthly_invoicing.max(Decimal::ZERO);
        let mut amount = mul(monthly, months)?;
        note(
            &mut steps,
            explain,
            || {
                format!(
                    "typical monthly invoicing {} × {} month{} for risk class {}",
                    money(monthly),
                    months.normalize(),
                    if months == Decimal::ONE { "" } else { "s" },
                    d.risk_class_name
                )
            },
            amount,
        );
        if let Some(rating) = &d.bureau_rating {
            let factor = self
                .rating_factor
                .get(rating)
                .copied()
                .unwrap_or(Decimal::ONE);
            if factor != Decimal::ONE {
                amount = mul(amount, factor)?;
                note(
                    &mut steps,
                    explain,
                    || format!("bureau rating {rating}: × {}", factor.normalize()),
                    amount,
                );
            }
        }
        if let (Some(share), Some(current)) = (self.max_change, d.current_limit) {
            let most = mul(current, Decimal::ONE + share)?;
            let least = mul(current, Decimal::ONE - share)?.max(Decimal::ZERO);
            if amount > most {
                amount = most;
                note(
                    &mut steps,
                    explain,
                    || {
                        format!(
                            "raised by at most {} % of the current limit {} in one review",
                            (share * Decimal::ONE_HUNDRED).normalize(),
                            money(current)
                        )
                    },
                    amount,
                );
            } else if amount < least {
                amount = least;
                note(
                    &mut steps,
                    explain,
                    || {
                        format!(
                            "lowered by at most {} % of the current limit {} in one review",
                            (share * Decimal::ONE_HUNDRED).normalize(),
                            money(current)
                        )
                    },
                    amount,
                );
            }
        }
        let type_name = d.debtor_type.as_deref().unwrap_or("default");
        let (shown, bounds) = match self.debtor_type.get(type_name) {
            Some(b) => (type_name, *b),
            None => ("default", self.debtor_type["default"]),
        };
        if amount < bounds.floor {
            amount = bounds.floor;
            note(
                &mut steps,
                explain,
                || format!("raised to the floor for {shown} debtors"),
                amount,
            );
        }
        if amount > bounds.cap {
            amount = bounds.cap;
            note(
                &mut steps,
                explain,
                || format!("lowered to the cap for {shown} debtors"),
                amount,
            );
        }
        let rounded = mul(
            amount
                .checked_div(self.rounding)
                .ok_or_else(|| too_large(amount, self.rounding))?
                .round_dp_with_strategy(0, RoundingStrategy::ToZero),
            self.rounding,
        )?;
        if rounded != amount && rounded >= bounds.floor {
            amount = rounded;
            note(
                &mut steps,
                explain,
                || format!("rounded down to a multiple of {}", money(self.rounding)),
                amount,
            );
        }
        // A limit is money: whole cents (the steps keep their exact amounts).
        let limit = amount
            .round_dp_with_strategy(2, RoundingStrategy::ToZero)
            .normalize();
        Ok(LimitRecommendation {
            limit,
            exposure_above_limit: d.exposure > limit,
            steps,
        })
    }
}

/// Adds a step, put into words, when the recommendation is explained.
fn note(
    steps: &mut Vec<LimitStep>,
    explain: bool,
    reason: impl FnOnce() -> String,
    amount: Decimal,
) {
    if explain {
        steps.push(LimitStep {
            reason: reason(),
            amount,
        });
    }
}

fn too_large(a: Decimal, b: Decimal) -> ModelError {
    ModelError::Data(format!(
        "credit limit arithmetic out of range with {a} and {b}"
    ))
}

/// `a × b`, refused when out of the decimal range.
fn mul(a: Decimal, b: Decimal) -> Result<Decimal, ModelError> {
    a.checked_mul(b).ok_or_else(|| too_large(a, b))
}

/// An amount with two decimals and thousands separators.
pub fn money(v: Decimal) -> String {
    let v = v.round_dp(2);
    let s = format!("{:.2}", v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!(
        "{}{grouped}.{frac}",
        if v.is_sign_negative() && !v.is_zero() {
            "-"
        } else {
            ""
        }
    )
}

impl LimitRecommendation {
    /// The steps as sentences, with the exposure warning.
    pub fn text(&self) -> String {
        let mut out = format!("Recommended credit limit {}:\n", money(self.limit));
        for s in &self.steps {
            out.push_str(&format!("  - {}: {}\n", s.reason, money(s.amount)));
        }
        if self.exposure_above_limit {
            out.push_str("  ! the debtor already owes more than this limit\n");
        }
        out
    }
}
