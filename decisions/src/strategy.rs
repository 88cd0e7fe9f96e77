//! Strategies per segment: which dunning schedule, payment plan and credit hold a debtor
//! gets, by its debtor type and risk class. Analysts write them as a TOML file
//! (`decisions/strategies/segmented.toml` is built in and documented in
//! `docs/strategies.md`); a version takes effect through a `strategy_activated` event in
//! the log, so a replay applies it at the same point as the live run. A file is checked
//! as a whole when read: any error refuses it, naming the file, the line and the field.

use events::lines::line_of;
use events::{Channel, DebtorType, Tone};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::DecisionError;

/// The built-in strategy's text.
pub const BUILTIN_STRATEGY: &str = include_str!("../strategies/segmented.toml");
/// The built-in strategy's name in errors.
pub const BUILTIN_STRATEGY_NAME: &str = "decisions/strategies/segmented.toml (built in)";
/// A one-size-fits-all schedule (every debtor the same), to compare strategies against.
pub const STATIC_STRATEGY: &str = include_str!("../strategies/static.toml");

/// Longest look-ahead of `combine_within_days`: a step brought forward by more than a
/// month would no longer be the step the schedule meant.
pub const MAX_COMBINE_DAYS: u32 = 31;

/// Risk-class name that matches debtors without a model score.
pub const UNSCORED: &str = "unscored";

/// A checked strategy config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Strategy {
    /// The version's name, quoted in every action's reason.
    pub version: String,
    /// Segments in order; a debtor follows the first one it belongs to. The last one
    /// takes every debtor.
    pub segments: Vec<Segment>,
}

/// What one segment of debtors gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Name, quoted in the reasons.
    pub name: String,
    /// Debtor types it takes (`None`: every type).
    pub debtor_types: Option<Vec<DebtorType>>,
    /// Risk classes it takes, [`UNSCORED`] for debtors without a score (`None`: every
    /// class).
    pub risk_classes: Option<Vec<String>>,
    /// Reminder steps by days past due, in increasing order.
    pub dunning: Vec<DunningStep>,
    /// Days past due at which still-open items go to the collection agency.
    pub collection_after_days: Option<u32>,
    /// One message per debtor: when a step goes out, the debtor's other overdue items
    /// whose next step on the same channel falls due within this many days go with it
    /// (`None`: every item's steps go out on their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combine_within_days: Option<u32>,
    /// When to block new orders.
    pub credit_hold: CreditHoldRule,
    /// The payment plan offered to debtors who paid late or in parts last cycle.
    pub payment_plan: Option<PlanPolicy>,
}

/// Where a reminder goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepChannel {
    /// The debtor's preferred channel from its master data.
    Preferred,
    /// E-mail.
    Email,
    /// Text message.
    Sms,
    /// Letter.
    Letter,
    /// A phone call by a person: a task, not an automated message.
    Phone,
}

impl StepChannel {
    /// The channel, with `preferred` resolved.
    pub fn resolve(self, preferred: Channel) -> Channel {
        match self {
            StepChannel::Preferred => preferred,
            StepChannel::Email => Channel::Email,
            StepChannel::Sms => Channel::Sms,
            StepChannel::Letter => Channel::Letter,
            StepChannel::Phone => Channel::Phone,
        }
    }
}

/// One step of a dunning schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DunningStep {
    /// Days past due on which the step falls.
    pub day: u32,
    /// Channel.
    pub channel: StepChannel,
    /// Tone of voice.
    pub tone: Tone,
    /// Payment term offered in the message, in days.
    #[serde(default)]
    pub payment_term_days: Option<u32>,
}

/// When a segment's debtors are put on credit hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditHoldRule {
    /// Hold while the open balance is above the credit limit (default true).
    #[serde(default = "yes")]
    pub above_limit: bool,
    /// Hold while the debtor's risk class is one of these (default none).
    #[serde(default)]
    pub risk_classes: Vec<String>,
}

fn yes() -> bool {
    true
}

impl Default for CreditHoldRule {
    fn default() -> Self {
        CreditHoldRule {
            above_limit: true,
            risk_classes: Vec::new(),
        }
    }
}

/// The payment plan a segment offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanPolicy {
    /// Number of installments (2 to 24).
    pub installments: u32,
    /// Days between installments; the first falls on the invoice's due date.
    pub interval_days: u32,
    /// Only invoices of at least this amount get a plan (default 0).
    #[serde(default)]
    pub min_amount: Decimal,
    /// After a missed installment, an SMS goes out this many days before the next one
    /// falls due (default 3; less than `interval_days`).
    #[serde(default = "three")]
    pub sms_days_before_next: u32,
    /// A definitive plan is broken (a task for a person, dunning resumes) at this many
    /// missed installments (default 2).
    #[serde(default = "two")]
    pub break_after_missed: u32,
}

fn three() -> u32 {
    3
}

fn two() -> u32 {
    2
}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StrategyToml {
    version: Spanned<String>,
    #[serde(rename = "segment", default)]
    segments: Vec<Spanned<SegmentToml>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SegmentToml {
    name: Spanned<String>,
    debtor_types: Option<Spanned<Vec<DebtorType>>>,
    risk_classes: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    dunning: Vec<Spanned<DunningStep>>,
    collection_after_days: Option<Spanned<u32>>,
    combine_within_days: Option<Spanned<u32>>,
    #[serde(default)]
    credit_hold: Option<CreditHoldRule>,
    payment_plan: Option<Spanned<PlanPolicy>>,
}

impl Strategy {
    /// The built-in strategy.
    pub fn builtin() -> Strategy {
        // The built-in file is part of the build; a test proves it reads.
        Strategy::parse(BUILTIN_STRATEGY_NAME, BUILTIN_STRATEGY)
            .expect("the built-in strategy is valid")
    }

    /// Reads and checks a strategy config; `source` names the file in errors, which give
    /// the line and the field.
    pub fn parse(source: &str, text: &str) -> Result<Strategy, DecisionError> {
        let invalid =
            |offset: Option<usize>, field: String, reason: String| DecisionError::Strategy {
                file: source.to_owned(),
                line: offset.map(|o| line_of(text, o)),
                field,
                reason,
            };
        let t: StrategyToml = toml::from_str(text).map_err(|e| {
            invalid(
                e.span().map(|s| s.start),
                "(syntax)".into(),
                e.message().trim().to_owned(),
            )
        })?;
        let version = t.version.get_ref().trim();
        if version.is_empty() || version.len() > events::envelope::MAX_ID_LEN {
            return Err(invalid(
                Some(t.version.span().start),
                "version".into(),
                format!(
                    "give the version a name of 1 to {} bytes",
                    events::envelope::MAX_ID_LEN
                ),
            ));
        }
        if t.segments.is_empty() {
            return Err(invalid(
                None,
                "segment".into(),
                "at least one [[segment]] is needed".into(),
            ));
        }
        let mut segments: Vec<Segment> = Vec::with_capacity(t.segments.len());
        let last = t.segments.len() - 1;
        for (i, spanned) in t.segments.into_iter().enumerate() {
            let at = spanned.span().start;
            let s = spanned.into_inner();
            let name = s.name.get_ref().trim().to_owned();
            let field = |f: &str| format!("segment[{i}] \"{name}\".{f}");
            if name.is_empty() {
                return Err(invalid(
                    Some(s.name.span().start),
                    format!("segment[{i}].name"),
                    "is empty".into(),
                ));
            }
            if segments.iter().any(|p| p.name == name) {
                return Err(invalid(
                    Some(s.name.span().start),
                    field("name"),
                    "another segment has this name".into(),
                ));
            }
            if let Some(catch_all) = segments.iter().find(|p| p.is_catch_all()) {
                return Err(invalid(
                    Some(at),
                    field("name"),
                    format!(
                        "no debtor reaches it: segment \"{}\" before it takes every debtor",
                        catch_all.name
                    ),
                ));
            }
            for (list_field, empty) in [
                (
                    "debtor_types",
                    s.debtor_types
                        .as_ref()
                        .map(|l| (l.span().start, l.get_ref().is_empty())),
                ),
                (
                    "risk_classes",
                    s.risk_classes
                        .as_ref()
                        .map(|l| (l.span().start, l.get_ref().is_empty())),
                ),
            ] {
                if let Some((offset, true)) = empty {
                    return Err(invalid(
                        Some(offset),
                        field(list_field),
                        "is empty: leave it out to take every value".into(),
                    ));
                }
            }
            let mut previous: Option<u32> = None;
            for (j, step) in s.dunning.iter().enumerate() {
                let d = step.get_ref();
                let offset = Some(step.span().start);
                if let Some(p) = previous
                    && d.day <= p
                {
                    return Err(invalid(
                        offset,
                        field(&format!("dunning[{j}].day")),
                        format!("days must increase: {} comes after {p}", d.day),
                    ));
                }
                if let Some(term) = d.payment_term_days
                    && !(1..=365).contains(&term)
                {
                    return Err(invalid(
                        offset,
                        field(&format!("dunning[{j}].payment_term_days")),
                        format!("{term} is not between 1 and 365"),
                    ));
                }
                if d.channel == StepChannel::Phone && d.payment_term_days.is_some() {
                    return Err(invalid(
                        offset,
                        field(&format!("dunning[{j}].payment_term_days")),
                        "a phone call is a task for a person; it offers no written term".into(),
                    ));
                }
                previous = Some(d.day);
            }
            if let Some(c) = &s.collection_after_days
                && previous.is_some_and(|p| *c.get_ref() <= p)
            {
                return Err(invalid(
                    Some(c.span().start),
                    field("collection_after_days"),
                    format!(
                        "{} is not after the last dunning step (day {})",
                        c.get_ref(),
                        previous.unwrap_or_default()
                    ),
                ));
            }
            if let Some(c) = &s.combine_within_days
                && !(1..=MAX_COMBINE_DAYS).contains(c.get_ref())
            {
                return Err(invalid(
                    Some(c.span().start),
                    field("combine_within_days"),
                    format!(
                        "{} is not between 1 and {MAX_COMBINE_DAYS} (leave it out to send \
                         each item's steps on their own)",
                        c.get_ref()
                    ),
                ));
            }
            if let Some(plan) = &s.payment_plan {
                let p = plan.get_ref();
                let offset = Some(plan.span().start);
                let problem = if !(2..=24).contains(&p.installments) {
                    Some((
                        "installments",
                        format!("{} is not between 2 and 24", p.installments),
                    ))
                } else if !(1..=92).contains(&p.interval_days) {
                    Some((
                        "interval_days",
                        format!("{} is not between 1 and 92", p.interval_days),
                    ))
                } else if p.sms_days_before_next >= p.interval_days {
                    Some((
                        "sms_days_before_next",
                        format!(
                            "{} is not less than interval_days ({})",
                            p.sms_days_before_next, p.interval_days
                        ),
                    ))
                } else if p.min_amount.is_sign_negative() {
                    Some(("min_amount", format!("{} is negative", p.min_amount)))
                } else if p.break_after_missed == 0 || p.break_after_missed > p.installments {
                    Some((
                        "break_after_missed",
                        format!(
                            "{} is not between 1 and installments ({})",
                            p.break_after_missed, p.installments
                        ),
                    ))
                } else {
                    None
                };
                if let Some((f, reason)) = problem {
                    return Err(invalid(offset, field(&format!("payment_plan.{f}")), reason));
                }
            }
            let segment = Segment {
                name: name.clone(),
                debtor_types: s.debtor_types.map(Spanned::into_inner),
                risk_classes: s.risk_classes.map(|l| {
                    l.into_inner()
                        .into_iter()
                        .map(|c| c.trim().into())
                        .collect()
                }),
                dunning: s.dunning.into_iter().map(Spanned::into_inner).collect(),
                collection_after_days: s.collection_after_days.map(Spanned::into_inner),
                combine_within_days: s.combine_within_days.map(Spanned::into_inner),
                credit_hold: s.credit_hold.unwrap_or_default(),
                payment_plan: s.payment_plan.map(Spanned::into_inner),
            };
            if i == last && !segment.is_catch_all() {
                return Err(invalid(
                    Some(at),
                    field("name"),
                    "the last segment must take every debtor (no debtor_types, no \
                     risk_classes), so that no debtor is left without a strategy"
                        .into(),
                ));
            }
            segments.push(segment);
        }
        Ok(Strategy {
            version: version.to_owned(),
            segments,
        })
    }

    /// The segment of a debtor of type `debtor_type` (unknown: only segments without a
    /// type list take it) and risk class `risk_class` (`None`: unscored).
    pub fn segment_for(
        &self,
        debtor_type: Option<DebtorType>,
        risk_class: Option<&str>,
    ) -> &Segment {
        let class = risk_class.unwrap_or(UNSCORED);
        self.segments
            .iter()
            .find(|s| {
                let type_ok = match (&s.debtor_types, debtor_type) {
                    (None, _) => true,
                    (Some(types), Some(t)) => types.contains(&t),
                    (Some(_), None) => false,
                };
                type_ok
                    && s.risk_classes
                        .as_ref()
                        .is_none_or(|classes| classes.iter().any(|c| c == class))
            })
            .unwrap_or_else(|| {
                // `parse` makes the last segment take every debtor.
                self.segments
                    .last()
                    .expect("a checked strategy has segments")
            })
    }
}

impl Strategy {
    /// The segment of this name, if the strategy has one.
    pub fn segment_named(&self, name: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.name == name)
    }
}

impl Segment {
    /// Whether it takes every debtor.
    pub fn is_catch_all(&self) -> bool {
        self.debtor_types.is_none() && self.risk_classes.is_none()
    }

    /// The first step after `done`, if any.
    pub fn next_step(&self, done: Option<u32>) -> Option<&DunningStep> {
        self.dunning.iter().find(|s| done.is_none_or(|d| s.day > d))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn builtin_and_static_strategies_read() {
        let builtin = Strategy::builtin();
        assert!(builtin.segments.len() > 1);
        let fixed = Strategy::parse("static.toml", STATIC_STRATEGY).unwrap();
        assert_eq!(fixed.segments.len(), 1);
        assert!(fixed.segments[0].is_catch_all());
    }

    #[test]
    fn first_matching_segment_wins_and_the_last_takes_the_rest() {
        let s = Strategy::parse(
            "t.toml",
            r#"
version = "v1"
[[segment]]
name = "consumers-bad"
debtor_types = ["consumer"]
risk_classes = ["D", "E"]
[[segment]]
name = "unscored"
risk_classes = ["unscored"]
[[segment]]
name = "rest"
"#,
        )
        .unwrap();
        assert_eq!(
            s.segment_for(Some(DebtorType::Consumer), Some("E")).name,
            "consumers-bad"
        );
        assert_eq!(
            s.segment_for(Some(DebtorType::Business), Some("E")).name,
            "rest"
        );
        assert_eq!(
            s.segment_for(Some(DebtorType::Consumer), None).name,
            "unscored"
        );
        assert_eq!(s.segment_for(None, Some("A")).name, "rest");
    }

    fn refusal(text: &str) -> String {
        Strategy::parse("s.toml", text).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let e = refusal(
            "version = \"v1\"\n[[segment]]\nname = \"all\"\ndunning = [\n  { day = 10, channel = \"email\", tone = \"friendly\" },\n  { day = 5, channel = \"sms\", tone = \"firm\" },\n]\n",
        );
        assert!(
            e.starts_with("s.toml:6: segment[0] \"all\".dunning[1].day:"),
            "{e}"
        );
        let e = refusal(
            "version = \"v1\"\n[[segment]]\nname = \"all\"\ndunning = [{ day = 1, channel = \"fax\", tone = \"friendly\" }]\n",
        );
        assert!(e.starts_with("s.toml:4: (syntax):"), "{e}");
        assert!(e.contains("fax"), "{e}");
        let e = refusal(
            "version = \"v1\"\n[[segment]]\nname = \"consumers\"\ndebtor_types = [\"consumer\"]\n",
        );
        assert!(e.contains("the last segment must take every debtor"), "{e}");
        assert!(e.starts_with("s.toml:2:"), "{e}");
        let e = refusal(
            "version = \"v1\"\n[[segment]]\nname = \"all\"\n[[segment]]\nname = \"more\"\n",
        );
        assert!(e.contains("no debtor reaches it"), "{e}");
        let e = refusal("version = \"v1\"\n[[segment]]\nname = \"all\"\ncolor = \"red\"\n");
        assert!(e.contains("unknown field `color`"), "{e}");
        let e = refusal(
            "version = \"v1\"\n[[segment]]\nname = \"all\"\npayment_plan = { installments = 3, interval_days = 10, sms_days_before_next = 10 }\n",
        );
        assert!(
            e.starts_with("s.toml:4: segment[0] \"all\".payment_plan.sms_days_before_next"),
            "{e}"
        );
        let e = refusal(
            "version = \"v1\"\n[[segment]]\nname = \"all\"\ndunning = [{ day = 30, channel = \"email\", tone = \"firm\" }]\ncollection_after_days = 30\n",
        );
        assert!(e.contains("collection_after_days: 30 is not after"), "{e}");
        let e = refusal("version = \"\"\n[[segment]]\nname = \"all\"\n");
        assert!(e.starts_with("s.toml:1: version"), "{e}");
        for bad in [0, MAX_COMBINE_DAYS + 1] {
            let e = refusal(&format!(
                "version = \"v1\"\n[[segment]]\nname = \"all\"\ncombine_within_days = {bad}\n"
            ));
            assert!(
                e.starts_with(&format!(
                    "s.toml:4: segment[0] \"all\".combine_within_days: {bad} is not between 1 and"
                )),
                "{e}"
            );
        }
        let ok = Strategy::parse(
            "s.toml",
            "version = \"v1\"\n[[segment]]\nname = \"all\"\ncombine_within_days = 7\n",
        )
        .unwrap();
        assert_eq!(ok.segments[0].combine_within_days, Some(7));
    }

    #[test]
    fn next_step_is_the_first_after_the_last_sent() {
        let s = Strategy::builtin();
        let seg = s.segments.last().unwrap();
        let first = seg.dunning[0].day;
        assert_eq!(seg.next_step(None).map(|s| s.day), Some(first));
        assert_eq!(
            seg.next_step(Some(first)).map(|s| s.day),
            seg.dunning.get(1).map(|s| s.day)
        );
        assert!(seg.next_step(seg.dunning.last().map(|s| s.day)).is_none());
    }
}
