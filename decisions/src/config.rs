//! Decision configuration.

use events::Channel;
use serde::{Deserialize, Serialize};

/// How decisions are made. [`Default`] gives the documented defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DecisionConfig {
    /// Channel for messages when the strategy says "preferred" and the debtor's master
    /// data names none (default e-mail). Schedules, tones and terms are the strategy's.
    pub default_channel: Channel,
    /// Publish a score update only when the standing differs meaningfully from the last
    /// one published for the debtor (see `scores::is_meaningful_change`; default true).
    pub score_updates_only_on_change: bool,
    /// A new model score is published when its probability of paying late moved at least
    /// this much since the last one published for the debtor (default 0.02), or its risk
    /// class, recommended limit or model version changed.
    pub min_probability_change: f64,
    /// A `limit_change_recommended` alert is raised when the recommended limit lies more
    /// than this share above or below the limit in force (default 0.25).
    pub limit_change_alert_share: rust_decimal::Decimal,
    /// Risk classes counted as high risk: a new debtor whose first score falls in one of
    /// them raises `new_debtor_high_risk` (default D and E).
    pub high_risk_classes: Vec<String>,
    /// After a `risk_class_changed` or `limit_change_recommended` alert, the next one of
    /// that kind for the debtor waits this many days of event time (a move into a
    /// high-risk class does not wait). Default 30.
    pub alert_quiet_days: i64,
    /// A limit set by hand above this amount opens a `limit_override_review` task for a
    /// second person (default 50,000).
    pub limit_override_authority: rust_decimal::Decimal,
    /// Closed tasks stay listed this many days of event time (default 90).
    pub closed_task_retention_days: u32,
}

impl Default for DecisionConfig {
    fn default() -> Self {
        DecisionConfig {
            default_channel: Channel::Email,
            score_updates_only_on_change: true,
            min_probability_change: 0.02,
            limit_change_alert_share: rust_decimal::Decimal::new(25, 2),
            high_risk_classes: vec!["D".into(), "E".into()],
            alert_quiet_days: 30,
            limit_override_authority: rust_decimal::Decimal::new(50_000, 0),
            closed_task_retention_days: 90,
        }
    }
}
