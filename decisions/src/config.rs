//! Decision configuration.

use events::{Channel, Tone};
use serde::{Deserialize, Serialize};

/// How decisions are made. [`Default`] gives the documented defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DecisionConfig {
    /// Tone of the first reminder (default friendly).
    pub reminder_tone: Tone,
    /// Channel for reminders when the debtor's master data names none (default e-mail).
    pub default_channel: Channel,
    /// Publish a score update only when the standing differs meaningfully from the last
    /// one published for the debtor (see `scores::is_meaningful_change`; default true).
    pub score_updates_only_on_change: bool,
    /// A new model score is published when its probability of paying late moved at least
    /// this much since the last one published for the debtor (default 0.02), or its risk
    /// class, recommended limit or model version changed.
    pub min_probability_change: f64,
}

impl Default for DecisionConfig {
    fn default() -> Self {
        DecisionConfig {
            reminder_tone: Tone::Friendly,
            default_channel: Channel::Email,
            score_updates_only_on_change: true,
            min_probability_change: 0.02,
        }
    }
}
