//! Output events: what creditstream decides, published for people and downstream systems.
//!
//! Every output carries a deterministic `output_id` built from the input event that caused
//! it and the rule that fired, so a replay or a restart publishes the same id again and the
//! broker's duplicate window (and consumers) drop it.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::input::Channel;
use crate::money::{Currency, Money, amount_str};

/// Severity of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For information.
    Info,
    /// Needs attention soon.
    Warning,
    /// Needs attention now.
    High,
}

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A collected payment was returned or charged back.
    ReversalReceived,
    /// A debtor disputes an invoice.
    DisputeOpened,
    /// Exposure (open balance) rose above the credit limit.
    ExposureAboveLimit,
    /// A promise to pay passed its date without the money.
    PromiseBroken,
    /// A model version took a role in scoring (champion or challenger) or a challenger
    /// stopped.
    ModelActivated,
    /// A model activation was refused (not in the registry, other content, does not fit
    /// the running features); the models in use stay.
    ModelRefused,
    /// A debtor's risk class changed.
    RiskClassChanged,
    /// The recommended credit limit moved away from the limit in force by more than the
    /// configured share: up (a commercial opportunity) or down.
    LimitChangeRecommended,
    /// A debtor new to the pipeline got its first score in a high-risk class.
    NewDebtorHighRisk,
    /// A strategy config version took effect.
    StrategyActivated,
    /// A strategy config version was refused (it does not read or does not validate); the
    /// strategy in force stays.
    StrategyRefused,
}

impl AlertKind {
    /// Label value.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::ReversalReceived => "reversal_received",
            AlertKind::DisputeOpened => "dispute_opened",
            AlertKind::ExposureAboveLimit => "exposure_above_limit",
            AlertKind::PromiseBroken => "promise_broken",
            AlertKind::ModelActivated => "model_activated",
            AlertKind::ModelRefused => "model_refused",
            AlertKind::RiskClassChanged => "risk_class_changed",
            AlertKind::LimitChangeRecommended => "limit_change_recommended",
            AlertKind::NewDebtorHighRisk => "new_debtor_high_risk",
            AlertKind::StrategyActivated => "strategy_activated",
            AlertKind::StrategyRefused => "strategy_refused",
        }
    }
}

/// Tone of voice of a message to a debtor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    /// A kind nudge.
    Friendly,
    /// Matter of fact.
    Neutral,
    /// Last warning.
    Firm,
}

/// What a downstream system should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Send a payment reminder.
    Reminder,
    /// Block new orders (exposure above limit).
    CreditHold,
    /// Lift a credit hold.
    CreditHoldReleased,
    /// Offer the debtor a payment plan for an invoice (installments listed).
    PaymentPlanProposed,
    /// The debtor paid the first installment: the plan is definitive.
    PaymentPlanConfirmed,
    /// A plan ended without being kept (first installment not paid, or installments
    /// missed): the invoice is dunned again.
    PaymentPlanEnded,
    /// Hand the invoices over to the collection agency (end of the dunning schedule).
    CollectionHandover,
    /// An installment of a definitive payment plan was missed: remind the debtor before
    /// the next one falls due.
    InstallmentReminder,
}

impl ActionKind {
    /// Label value.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Reminder => "reminder",
            ActionKind::CreditHold => "credit_hold",
            ActionKind::CreditHoldReleased => "credit_hold_released",
            ActionKind::PaymentPlanProposed => "payment_plan_proposed",
            ActionKind::PaymentPlanConfirmed => "payment_plan_confirmed",
            ActionKind::PaymentPlanEnded => "payment_plan_ended",
            ActionKind::CollectionHandover => "collection_handover",
            ActionKind::InstallmentReminder => "installment_reminder",
        }
    }
}

/// Why a person has to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// A payment no rule could apply (unknown payer, no usable reference).
    UnmatchedPayment,
    /// A reversal of a payment the ledger does not know.
    UnknownReversal,
    /// A payment in another currency than the items it refers to.
    CurrencyMismatch,
    /// The dunning schedule calls for a phone call.
    PhoneCall,
    /// A debtor disputes an invoice: decide whether it stands.
    DisputeReview,
    /// A limit was set by hand above the authority level: a second person confirms it.
    LimitOverrideReview,
    /// A definitive payment plan was broken (installments missed).
    PaymentPlanBroken,
}

impl TaskKind {
    /// Every kind.
    pub const ALL: [TaskKind; 7] = [
        TaskKind::UnmatchedPayment,
        TaskKind::UnknownReversal,
        TaskKind::CurrencyMismatch,
        TaskKind::PhoneCall,
        TaskKind::DisputeReview,
        TaskKind::LimitOverrideReview,
        TaskKind::PaymentPlanBroken,
    ];

    /// Looks a label value up.
    pub fn from_label(label: &str) -> Option<TaskKind> {
        TaskKind::ALL.into_iter().find(|k| k.as_str() == label)
    }

    /// Label value.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::UnmatchedPayment => "unmatched_payment",
            TaskKind::UnknownReversal => "unknown_reversal",
            TaskKind::CurrencyMismatch => "currency_mismatch",
            TaskKind::PhoneCall => "phone_call",
            TaskKind::DisputeReview => "dispute_review",
            TaskKind::LimitOverrideReview => "limit_override_review",
            TaskKind::PaymentPlanBroken => "payment_plan_broken",
        }
    }
}

/// An alert for credit managers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// What it is about.
    pub kind: AlertKind,
    /// How urgent.
    pub severity: Severity,
    /// One sentence a credit manager can read.
    pub summary: String,
    /// Amount concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// Invoice or payment concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// An instruction for a downstream system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// What to do.
    pub kind: ActionKind,
    /// Channel, for messages to the debtor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// Tone, for messages to the debtor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tone: Option<Tone>,
    /// Invoices concerned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invoice_numbers: Vec<String>,
    /// Payment term offered in the message, in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_term_days: Option<u32>,
    /// Installments of a payment plan, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub installments: Vec<Installment>,
    /// One sentence saying why.
    pub summary: String,
    /// Which rule, which strategy version and which score led to it.
    pub reason: ActionReason,
}

/// Why an action was decided: enough for anyone to see why a reminder went out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionReason {
    /// The rule that fired (`dunning`, `payment_plan`, `credit_hold`, `collection`).
    pub rule: String,
    /// The strategy config version in force, for rules the strategy drives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy_version: Option<String>,
    /// The strategy's segment the debtor was in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// The step of the schedule (days past due it is set for), for dunning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_day: Option<u32>,
    /// The debtor's risk class from its last published score, if scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_class: Option<String>,
    /// Its probability of paying late, if scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability_late: Option<f64>,
    /// The model version that scored it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
}

/// One installment of a payment plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Installment {
    /// Date it falls due.
    pub due_date: chrono::NaiveDate,
    /// Amount due.
    pub amount: Money,
}

/// An exception a person must decide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Why.
    pub kind: TaskKind,
    /// One sentence saying what to decide.
    pub summary: String,
    /// Payment concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    /// Amount concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// Candidate debtors or invoices, best first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<String>,
    /// Invoices concerned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invoice_numbers: Vec<String>,
    /// Present when this output closes an earlier task (of the same kind): who closed it
    /// and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure: Option<TaskClosure>,
}

/// A task closed: published on the tasks subject so that every task list learns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskClosure {
    /// The `output_id` of the task closed.
    pub task_id: String,
    /// Who closed it (a person, or the event that settled it, e.g. `dispute_resolved`).
    pub closed_by: String,
    /// What was decided.
    pub reason: String,
}

/// A debtor's current standing: balances from the ledger and, once a model is active, its
/// score and recommended limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreUpdate {
    /// Currency of the amounts below (the debtor's account currency).
    pub currency: Currency,
    /// Sum of open items.
    #[serde(with = "amount_str")]
    pub open_balance: Decimal,
    /// Sum of open items past their due date.
    #[serde(with = "amount_str")]
    pub overdue_balance: Decimal,
    /// Days past due of the oldest overdue item (0 when none).
    pub max_days_past_due: i64,
    /// Payments received but not applied to an item.
    #[serde(with = "amount_str")]
    pub unapplied_credit: Decimal,
    /// Current credit limit; absent while the debtor's master data gives none.
    #[serde(
        default,
        with = "amount_str::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub credit_limit: Option<Decimal>,
    /// Open balance above the limit.
    pub exposure_above_limit: bool,
    /// Probability that the debtor pays late (from the active model), when one is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability_late: Option<f64>,
    /// Risk class, when a model is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_class: Option<String>,
    /// Recommended limit, when a limit policy is active.
    #[serde(
        default,
        with = "amount_str::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub recommended_limit: Option<Decimal>,
    /// Version of the model that gave `probability_late` and `risk_class`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    /// The challenger's score of the same features, when one scores in shadow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenger: Option<ShadowScore>,
    /// Why the update was published, in words: what changed in the standing, or in the
    /// score and what drove it.
    pub reason: String,
}

/// A challenger model's score, recorded beside the champion's; nothing acts on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowScore {
    /// The challenger's version.
    pub model_version: String,
    /// Its probability that the debtor pays late.
    pub probability_late: f64,
    /// Its risk class.
    pub risk_class: String,
}

/// Any output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Output {
    /// For credit managers.
    Alert(Alert),
    /// For downstream systems.
    Action(Action),
    /// For a person's task list.
    Task(Task),
    /// A debtor's standing changed.
    ScoreUpdate(ScoreUpdate),
}

/// Output family, which picks the subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutputFamily {
    /// `alerts`
    Alerts,
    /// `actions`
    Actions,
    /// `tasks`
    Tasks,
    /// `scores`
    Scores,
}

impl OutputFamily {
    /// Every family.
    pub const ALL: [OutputFamily; 4] = [
        OutputFamily::Alerts,
        OutputFamily::Actions,
        OutputFamily::Tasks,
        OutputFamily::Scores,
    ];

    /// Subject token and label value.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFamily::Alerts => "alerts",
            OutputFamily::Actions => "actions",
            OutputFamily::Tasks => "tasks",
            OutputFamily::Scores => "scores",
        }
    }
}

impl Output {
    /// The family (and so the subject) of this output.
    pub fn family(&self) -> OutputFamily {
        match self {
            Output::Alert(_) => OutputFamily::Alerts,
            Output::Action(_) => OutputFamily::Actions,
            Output::Task(_) => OutputFamily::Tasks,
            Output::ScoreUpdate(_) => OutputFamily::Scores,
        }
    }

    /// A bounded label naming the precise kind (`reversal_received`, `reminder`, ...).
    pub fn kind_label(&self) -> &'static str {
        match self {
            Output::Alert(a) => a.kind.as_str(),
            Output::Action(a) => a.kind.as_str(),
            Output::Task(t) => t.kind.as_str(),
            Output::ScoreUpdate(_) => "score_update",
        }
    }
}

/// An output with its identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputEnvelope {
    /// Contract version.
    pub schema_version: u32,
    /// Deterministic id: `<rule>:<cause event id>` (plus a discriminator where one input
    /// causes several outputs of one rule). Also the `Nats-Msg-Id`.
    pub output_id: String,
    /// Event time of the decision (the cause's event time or the watermark).
    pub event_time: DateTime<Utc>,
    /// The input event that caused it.
    pub cause_event_id: String,
    /// The debtor concerned, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debtor_id: Option<String>,
    /// The output itself.
    #[serde(flatten)]
    pub output: Output,
}

impl OutputEnvelope {
    /// The wire form (compact JSON).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Header of a message on an output subject that holds more than one output: how many.
pub const OUTPUTS_HEADER: &str = "Creditstream-Outputs";

/// The outputs in the payload of one message on an output subject: one output envelope
/// (compact JSON, which never holds a line break) or, for score updates published
/// together, several, one per line.
pub fn output_lines(payload: &[u8]) -> impl Iterator<Item = &[u8]> {
    payload
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
}

/// Decodes every output in the payload of one message on an output subject, in order
/// (see [`output_lines`]).
pub fn decode_outputs(payload: &[u8]) -> Result<Vec<OutputEnvelope>, serde_json::Error> {
    output_lines(payload).map(serde_json::from_slice).collect()
}
