//! The catalogue of metric names, and the metrics struct of each subsystem, built from an
//! injected [`Registry`] so that tests can read values back.
//!
//! Names follow `creditstream_<subsystem>_<name>_<unit>`; labels take values from small
//! fixed sets (event kind, dead-letter reason, output family and kind), never a debtor id.

use prometheus::{
    Gauge, GaugeVec, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry,
};

/// Bounds of [`INGEST_DELAY_SECONDS`]' buckets: milliseconds while the worker keeps up,
/// up to an hour for one catching up after a stop.
pub const INGEST_DELAY_BUCKETS: [f64; 18] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    300.0, 900.0, 3600.0,
];

/// Input events accepted, by kind.
pub const INGEST_EVENTS_TOTAL: &str = "creditstream_ingest_events_total";
/// Input messages dead-lettered, by reason.
pub const INGEST_DEAD_LETTERS_TOTAL: &str = "creditstream_ingest_dead_letters_total";
/// Messages skipped because the checkpointed state already holds them (redeliveries).
pub const INGEST_REDELIVERED_TOTAL: &str = "creditstream_ingest_redelivered_total";
/// Messages per micro-batch.
pub const INGEST_BATCH_SIZE: &str = "creditstream_ingest_batch_size_messages";
/// Time to process one micro-batch, outputs published.
pub const INGEST_BATCH_SECONDS: &str = "creditstream_ingest_batch_duration_seconds";
/// Time from the input stream storing a message to the worker taking it up.
pub const INGEST_DELAY_SECONDS: &str = "creditstream_ingest_delay_seconds";
/// Messages in the input stream not yet delivered to the worker.
pub const INGEST_CONSUMER_LAG: &str = "creditstream_ingest_consumer_lag_messages";
/// Stream sequence of the last input whose effects are checkpointed (and acked).
pub const INGEST_CHECKPOINTED_SEQUENCE: &str = "creditstream_ingest_checkpointed_sequence";
/// Outputs published, by family and kind.
pub const OUTPUTS_PUBLISHED_TOTAL: &str = "creditstream_outputs_published_total";
/// Checkpoints written.
pub const CHECKPOINTS_TOTAL: &str = "creditstream_checkpoint_writes_total";
/// Time to write a checkpoint (by its own task, while the stages run on).
pub const CHECKPOINT_SECONDS: &str = "creditstream_checkpoint_duration_seconds";
/// Size of the last checkpoint written (a delta, see `crate::checkpoint`).
pub const CHECKPOINT_BYTES: &str = "creditstream_checkpoint_size_bytes";
/// Time the stage loop stops for a checkpoint: the copy of the state it writes.
pub const CHECKPOINT_PAUSE_SECONDS: &str = "creditstream_checkpoint_pause_seconds";
/// Time the stage loop waits at a checkpoint before its pause: for the outputs handed
/// over to be stored, and for the checkpoint before it to be written.
pub const CHECKPOINT_WAIT_SECONDS: &str = "creditstream_checkpoint_wait_seconds";
/// Checkpoint chains folded into a new base.
pub const CHECKPOINT_COMPACTIONS_TOTAL: &str = "creditstream_checkpoint_compactions_total";
/// Size of the last base written (the full state the deltas follow).
pub const CHECKPOINT_BASE_BYTES: &str = "creditstream_checkpoint_base_size_bytes";
/// Debtors known to the ledger.
pub const LEDGER_DEBTORS: &str = "creditstream_ledger_debtors";
/// Payments applied automatically, by matching rule.
pub const LEDGER_PAYMENTS_MATCHED_TOTAL: &str = "creditstream_ledger_payments_matched_total";
/// Exceptions handed to people, by reason.
pub const LEDGER_EXCEPTIONS_TOTAL: &str = "creditstream_ledger_exceptions_total";
/// Payments handed to a person (unmatched, ambiguous, currency mismatch).
pub const LEDGER_PAYMENTS_TO_PEOPLE_TOTAL: &str = "creditstream_ledger_payments_to_people_total";
/// Share of payments applied without a person, since the worker started.
pub const LEDGER_AUTO_MATCH_RATIO: &str = "creditstream_ledger_auto_match_ratio";
/// Cash received and kept as unapplied credit on debtors' accounts (major units).
pub const LEDGER_UNAPPLIED_CASH: &str = "creditstream_ledger_unapplied_cash";
/// Cash received that waits in exceptions (unmatched payments; major units).
pub const LEDGER_UNMATCHED_CASH: &str = "creditstream_ledger_unmatched_cash";
/// Receivables: the sum of open items (major units).
pub const PORTFOLIO_OPEN_BALANCE: &str = "creditstream_portfolio_open_balance";
/// Open items by aging bucket (major units).
pub const PORTFOLIO_AGING_BALANCE: &str = "creditstream_portfolio_aging_balance";
/// Days sales outstanding over the KPI window, in seconds (Prometheus' base unit; divide
/// by 86400 for days — Grafana's `s` unit shows it in days).
pub const PORTFOLIO_DSO_SECONDS: &str = "creditstream_portfolio_dso_seconds";
/// Collection effectiveness index over the KPI window (0..1).
pub const PORTFOLIO_CEI_RATIO: &str = "creditstream_portfolio_cei_ratio";
/// Share of debtors overdue at the window start that are current now (0..1).
pub const PORTFOLIO_CURE_RATE_RATIO: &str = "creditstream_portfolio_cure_rate_ratio";
/// Sum of open balance above the credit limit over debtors above it (major units).
pub const PORTFOLIO_EXPOSURE_ABOVE_LIMIT: &str = "creditstream_portfolio_exposure_above_limit";
/// Debtors whose open balance is above their credit limit.
pub const PORTFOLIO_DEBTORS_ABOVE_LIMIT: &str = "creditstream_portfolio_debtors_above_limit";
/// Time to run one feature micro-batch (partial aggregates, merge, windows).
pub const FEATURES_FLUSH_SECONDS: &str = "creditstream_features_flush_duration_seconds";
/// Input events per feature micro-batch.
pub const FEATURES_BATCH_SIZE: &str = "creditstream_features_batch_size_events";
/// Debtors whose features changed (new facts or a window slid), summed over batches.
pub const FEATURES_DEBTORS_CHANGED_TOTAL: &str = "creditstream_features_debtors_changed_total";
/// Facts behind the watermark, by outcome (`applied` within the allowed lateness,
/// `dropped` beyond it).
pub const FEATURES_LATE_FACTS_TOTAL: &str = "creditstream_features_late_facts_total";
/// Bytes of per-debtor feature state (tiles, lifetime values, timers, ids).
pub const FEATURES_STATE_BYTES: &str = "creditstream_features_state_bytes";
/// The model versions in use: 1 for each (role, version) scoring now.
pub const MODELS_ACTIVE_INFO: &str = "creditstream_models_active_info";
/// Model activations by outcome (`taken`, `refused`).
pub const MODELS_ACTIVATIONS_TOTAL: &str = "creditstream_models_activations_total";
/// Debtors scored at score points.
pub const MODELS_SCORED_DEBTORS_TOTAL: &str = "creditstream_models_scored_debtors_total";
/// Time to process an event that completed a score point (feature flush, scoring,
/// decisions).
pub const MODELS_SCORE_POINT_SECONDS: &str = "creditstream_models_score_point_duration_seconds";
/// Debtors whose features changed, or whom a model activation has still to re-score, and
/// who wait for a score (a score point scores at most `--score-max-debtors`; the others
/// at the next ones).
pub const MODELS_DEBTORS_WAITING: &str = "creditstream_models_debtors_waiting";
/// Debtors by the risk class of their last published score.
pub const MODELS_DEBTORS_BY_RISK_CLASS: &str = "creditstream_models_debtors_by_risk_class";
/// Tasks for people published and not closed, by kind.
pub const TASKS_OPEN: &str = "creditstream_tasks_open";
/// Debtor scorings that failed (rows the model could not read).
pub const MODELS_SCORING_ERRORS_TOTAL: &str = "creditstream_models_scoring_errors_total";
/// Population stability index of each feature the champion model reads: its recent
/// scored rows against its training rows.
pub const MODELS_FEATURE_DRIFT_PSI: &str = "creditstream_models_feature_drift_psi";
/// Event-time watermark (Unix seconds).
pub const CLOCK_WATERMARK_SECONDS: &str = "creditstream_clock_watermark_timestamp_seconds";

/// Metrics of the ingest → stages → publish loop.
#[derive(Debug, Clone)]
pub struct PipelineMetrics {
    /// See [`INGEST_EVENTS_TOTAL`].
    pub events: IntCounterVec,
    /// See [`INGEST_DEAD_LETTERS_TOTAL`].
    pub dead_letters: IntCounterVec,
    /// See [`INGEST_REDELIVERED_TOTAL`].
    pub redelivered: IntCounter,
    /// See [`INGEST_BATCH_SIZE`].
    pub batch_size: Histogram,
    /// See [`INGEST_BATCH_SECONDS`].
    pub batch_seconds: Histogram,
    /// See [`INGEST_DELAY_SECONDS`].
    pub ingest_delay: Histogram,
    /// See [`INGEST_CONSUMER_LAG`].
    pub consumer_lag: IntGauge,
    /// See [`INGEST_CHECKPOINTED_SEQUENCE`].
    pub checkpointed_sequence: IntGauge,
    /// See [`OUTPUTS_PUBLISHED_TOTAL`].
    pub outputs: IntCounterVec,
    /// See [`CHECKPOINTS_TOTAL`].
    pub checkpoints: IntCounter,
    /// See [`CHECKPOINT_SECONDS`].
    pub checkpoint_seconds: Histogram,
    /// See [`CHECKPOINT_BYTES`].
    pub checkpoint_bytes: IntGauge,
    /// See [`CHECKPOINT_PAUSE_SECONDS`].
    pub checkpoint_pause_seconds: Histogram,
    /// See [`CHECKPOINT_WAIT_SECONDS`].
    pub checkpoint_wait_seconds: Histogram,
    /// See [`CHECKPOINT_COMPACTIONS_TOTAL`].
    pub checkpoint_compactions: IntCounter,
    /// See [`CHECKPOINT_BASE_BYTES`].
    pub checkpoint_base_bytes: IntGauge,
    /// See [`LEDGER_DEBTORS`].
    pub debtors: IntGauge,
    /// See [`CLOCK_WATERMARK_SECONDS`].
    pub watermark: IntGauge,
    /// See [`LEDGER_PAYMENTS_MATCHED_TOTAL`].
    pub payments_matched: IntCounterVec,
    /// See [`LEDGER_EXCEPTIONS_TOTAL`].
    pub exceptions: IntCounterVec,
    /// See [`LEDGER_PAYMENTS_TO_PEOPLE_TOTAL`].
    pub payments_to_people: IntCounter,
    /// See [`LEDGER_AUTO_MATCH_RATIO`].
    pub auto_match_ratio: Gauge,
    /// See [`LEDGER_UNAPPLIED_CASH`].
    pub unapplied_cash: Gauge,
    /// See [`LEDGER_UNMATCHED_CASH`].
    pub unmatched_cash: Gauge,
    /// See [`PORTFOLIO_OPEN_BALANCE`].
    pub open_balance: Gauge,
    /// See [`PORTFOLIO_AGING_BALANCE`].
    pub aging_balance: GaugeVec,
    /// See [`PORTFOLIO_DSO_SECONDS`].
    pub dso: Gauge,
    /// See [`PORTFOLIO_CEI_RATIO`].
    pub cei: Gauge,
    /// See [`PORTFOLIO_CURE_RATE_RATIO`].
    pub cure_rate: Gauge,
    /// See [`PORTFOLIO_EXPOSURE_ABOVE_LIMIT`].
    pub exposure_above_limit: Gauge,
    /// See [`PORTFOLIO_DEBTORS_ABOVE_LIMIT`].
    pub debtors_above_limit: IntGauge,
    /// See [`FEATURES_FLUSH_SECONDS`].
    pub features_flush_seconds: Histogram,
    /// See [`FEATURES_BATCH_SIZE`].
    pub features_batch_size: Histogram,
    /// See [`FEATURES_DEBTORS_CHANGED_TOTAL`].
    pub features_debtors_changed: IntCounter,
    /// See [`FEATURES_LATE_FACTS_TOTAL`].
    pub features_late_facts: IntCounterVec,
    /// See [`FEATURES_STATE_BYTES`].
    pub features_state_bytes: IntGauge,
    /// See [`MODELS_ACTIVE_INFO`].
    pub models_active: IntGaugeVec,
    /// See [`MODELS_ACTIVATIONS_TOTAL`].
    pub models_activations: IntCounterVec,
    /// See [`MODELS_SCORED_DEBTORS_TOTAL`].
    pub models_scored_debtors: IntCounter,
    /// See [`MODELS_SCORE_POINT_SECONDS`].
    pub models_score_point_seconds: Histogram,
    /// See [`MODELS_DEBTORS_WAITING`].
    pub models_debtors_waiting: IntGauge,
    /// See [`MODELS_DEBTORS_BY_RISK_CLASS`].
    pub models_debtors_by_class: IntGaugeVec,
    /// See [`MODELS_FEATURE_DRIFT_PSI`].
    pub models_feature_drift: GaugeVec,
    /// See [`MODELS_SCORING_ERRORS_TOTAL`].
    pub models_scoring_errors: IntCounter,
    /// See [`TASKS_OPEN`].
    pub tasks_open: IntGaugeVec,
}

impl PipelineMetrics {
    /// Builds the metrics and registers them in `registry`.
    pub fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let events = IntCounterVec::new(
            Opts::new(INGEST_EVENTS_TOTAL, "Input events accepted, by kind."),
            &["kind"],
        )?;
        let dead_letters = IntCounterVec::new(
            Opts::new(
                INGEST_DEAD_LETTERS_TOTAL,
                "Input messages sent to the dead-letter subject, by reason.",
            ),
            &["reason"],
        )?;
        let redelivered = IntCounter::new(
            INGEST_REDELIVERED_TOTAL,
            "Redelivered input messages skipped because the checkpointed state already holds them.",
        )?;
        let batch_size = Histogram::with_opts(
            HistogramOpts::new(INGEST_BATCH_SIZE, "Messages per micro-batch.").buckets(vec![
                1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0,
            ]),
        )?;
        let batch_seconds = Histogram::with_opts(
            HistogramOpts::new(
                INGEST_BATCH_SECONDS,
                "Time to decode, process and publish the outputs of one micro-batch.",
            )
            .buckets(prometheus::exponential_buckets(0.0001, 2.5, 12)?),
        )?;
        let ingest_delay = Histogram::with_opts(
            HistogramOpts::new(
                INGEST_DELAY_SECONDS,
                "Time from the input stream storing a message to this worker taking it up \
                 (the server's clock against the worker's): how far behind its input the worker runs.",
            )
            .buckets(INGEST_DELAY_BUCKETS.to_vec()),
        )?;
        let consumer_lag = IntGauge::new(
            INGEST_CONSUMER_LAG,
            "Input messages in the stream not yet delivered to this worker.",
        )?;
        let checkpointed_sequence = IntGauge::new(
            INGEST_CHECKPOINTED_SEQUENCE,
            "Stream sequence of the last input whose effects are checkpointed and acked.",
        )?;
        let outputs = IntCounterVec::new(
            Opts::new(
                OUTPUTS_PUBLISHED_TOTAL,
                "Outputs published, by family and kind.",
            ),
            &["family", "kind"],
        )?;
        let checkpoints = IntCounter::new(CHECKPOINTS_TOTAL, "Checkpoints written.")?;
        let checkpoint_seconds = Histogram::with_opts(
            HistogramOpts::new(CHECKPOINT_SECONDS, "Time to write a checkpoint.")
                .buckets(prometheus::exponential_buckets(0.001, 2.5, 10)?),
        )?;
        let checkpoint_bytes = IntGauge::new(
            CHECKPOINT_BYTES,
            "Size of the last checkpoint written (a delta after the base).",
        )?;
        let checkpoint_pause_seconds = Histogram::with_opts(
            HistogramOpts::new(
                CHECKPOINT_PAUSE_SECONDS,
                "Time the stage loop stops for a checkpoint (copying the state it writes).",
            )
            .buckets(prometheus::exponential_buckets(0.0005, 2.5, 10)?),
        )?;
        let checkpoint_wait_seconds = Histogram::with_opts(
            HistogramOpts::new(
                CHECKPOINT_WAIT_SECONDS,
                "Time the stage loop waits at a checkpoint for the outputs to be stored and the checkpoint before it to be written.",
            )
            .buckets(prometheus::exponential_buckets(0.0005, 2.5, 12)?),
        )?;
        let checkpoint_compactions = IntCounter::new(
            CHECKPOINT_COMPACTIONS_TOTAL,
            "Checkpoint chains folded into a new base.",
        )?;
        let checkpoint_base_bytes = IntGauge::new(
            CHECKPOINT_BASE_BYTES,
            "Size of the last checkpoint base written (the full state deltas follow).",
        )?;
        let debtors = IntGauge::new(LEDGER_DEBTORS, "Debtors known to the ledger.")?;
        let watermark = IntGauge::new(
            CLOCK_WATERMARK_SECONDS,
            "Event-time watermark of the pipeline's clock, Unix seconds.",
        )?;
        let payments_matched = IntCounterVec::new(
            Opts::new(
                LEDGER_PAYMENTS_MATCHED_TOTAL,
                "Payments applied automatically (to items or as unapplied credit), by matching rule.",
            ),
            &["rule"],
        )?;
        let exceptions = IntCounterVec::new(
            Opts::new(
                LEDGER_EXCEPTIONS_TOTAL,
                "Exceptions handed to people, by reason.",
            ),
            &["reason"],
        )?;
        let payments_to_people = IntCounter::new(
            LEDGER_PAYMENTS_TO_PEOPLE_TOTAL,
            "Payments handed to a person: unknown payer, ambiguous candidates, currency mismatch.",
        )?;
        let auto_match_ratio = Gauge::new(
            LEDGER_AUTO_MATCH_RATIO,
            "Share of payments applied without a person since the worker started (0..1).",
        )?;
        let unapplied_cash = Gauge::new(
            LEDGER_UNAPPLIED_CASH,
            "Cash kept as unapplied credit on debtors' accounts, in major currency units.",
        )?;
        let unmatched_cash = Gauge::new(
            LEDGER_UNMATCHED_CASH,
            "Cash waiting in exceptions (unmatched payments), in major currency units.",
        )?;
        let open_balance = Gauge::new(
            PORTFOLIO_OPEN_BALANCE,
            "Receivables: the sum of open items, in major currency units.",
        )?;
        let aging_balance = GaugeVec::new(
            Opts::new(
                PORTFOLIO_AGING_BALANCE,
                "Open items by days past due (current, 1_30, 31_60, 61_90, over_90), in major currency units.",
            ),
            &["bucket"],
        )?;
        let dso = Gauge::new(
            PORTFOLIO_DSO_SECONDS,
            "Days sales outstanding (receivables / credit sales of the KPI window x its length), in seconds.",
        )?;
        let cei = Gauge::new(
            PORTFOLIO_CEI_RATIO,
            "Collection effectiveness index over the KPI window (0..1).",
        )?;
        let cure_rate = Gauge::new(
            PORTFOLIO_CURE_RATE_RATIO,
            "Share of the debtors overdue at the start of the KPI window that are current now (0..1).",
        )?;
        let exposure_above_limit = Gauge::new(
            PORTFOLIO_EXPOSURE_ABOVE_LIMIT,
            "Open balance above the credit limit, summed over the debtors above it, in major currency units.",
        )?;
        let debtors_above_limit = IntGauge::new(
            PORTFOLIO_DEBTORS_ABOVE_LIMIT,
            "Debtors whose open balance is above their credit limit.",
        )?;
        for bucket in AGING_BUCKETS {
            aging_balance.with_label_values(&[bucket]);
        }
        let features_flush_seconds = Histogram::with_opts(
            HistogramOpts::new(
                FEATURES_FLUSH_SECONDS,
                "Time to run one feature micro-batch: partial aggregates, merge into state, windows.",
            )
            .buckets(prometheus::exponential_buckets(0.0001, 2.5, 12)?),
        )?;
        let features_batch_size = Histogram::with_opts(
            HistogramOpts::new(FEATURES_BATCH_SIZE, "Input events per feature micro-batch.")
                .buckets(vec![
                    1.0, 10.0, 100.0, 1000.0, 2500.0, 5000.0, 10000.0, 25000.0, 100000.0,
                ]),
        )?;
        let features_debtors_changed = IntCounter::new(
            FEATURES_DEBTORS_CHANGED_TOTAL,
            "Debtors whose features changed (new facts or a window slid), summed over micro-batches.",
        )?;
        let features_late_facts = IntCounterVec::new(
            Opts::new(
                FEATURES_LATE_FACTS_TOTAL,
                "Facts dated before the event-time watermark: applied within the allowed lateness, dropped beyond it.",
            ),
            &["outcome"],
        )?;
        for outcome in ["applied", "dropped"] {
            features_late_facts.with_label_values(&[outcome]);
        }
        let features_state_bytes = IntGauge::new(
            FEATURES_STATE_BYTES,
            "Bytes of per-debtor feature state (tiles, lifetime values, timers, debtor ids).",
        )?;
        let models_active = IntGaugeVec::new(
            Opts::new(
                MODELS_ACTIVE_INFO,
                "Model versions in use: 1 for each role (champion, challenger) and version scoring now.",
            ),
            &["role", "version"],
        )?;
        let models_activations = IntCounterVec::new(
            Opts::new(
                MODELS_ACTIVATIONS_TOTAL,
                "Model activations from the event log, by outcome (taken, refused).",
            ),
            &["outcome"],
        )?;
        for outcome in ["taken", "refused"] {
            models_activations.with_label_values(&[outcome]);
        }
        let models_scored_debtors = IntCounter::new(
            MODELS_SCORED_DEBTORS_TOTAL,
            "Debtors scored by the champion model at score points.",
        )?;
        let models_debtors_waiting = IntGauge::new(
            MODELS_DEBTORS_WAITING,
            "Debtors whose features changed, or whom a model activation has still to re-score, and who wait for a score at the next score points.",
        )?;
        let models_score_point_seconds = Histogram::with_opts(
            HistogramOpts::new(
                MODELS_SCORE_POINT_SECONDS,
                "Time to process an event that completed a score point: feature flush, scoring, decisions.",
            )
            .buckets(prometheus::exponential_buckets(0.0001, 2.5, 14)?),
        )?;
        let models_debtors_by_class = IntGaugeVec::new(
            Opts::new(
                MODELS_DEBTORS_BY_RISK_CLASS,
                "Debtors by the risk class of their last published score.",
            ),
            &["class"],
        )?;
        let models_feature_drift = GaugeVec::new(
            Opts::new(
                MODELS_FEATURE_DRIFT_PSI,
                "Population stability index of each feature the champion model reads: recent scored rows against its training rows.",
            ),
            &["feature"],
        )?;
        registry.register(Box::new(models_feature_drift.clone()))?;
        let models_scoring_errors = IntCounter::new(
            MODELS_SCORING_ERRORS_TOTAL,
            "Debtor scorings that failed: rows the champion or challenger could not read (the debtors keep their last score).",
        )?;
        registry.register(Box::new(models_scoring_errors.clone()))?;
        let tasks_open = IntGaugeVec::new(
            Opts::new(
                TASKS_OPEN,
                "Tasks for people published and not closed, by kind (refreshed at every checkpoint).",
            ),
            &["kind"],
        )?;
        for kind in ["unmatched_payment", "unknown_reversal", "currency_mismatch"] {
            tasks_open.with_label_values(&[kind]);
        }
        registry.register(Box::new(tasks_open.clone()))?;
        registry.register(Box::new(models_active.clone()))?;
        registry.register(Box::new(models_activations.clone()))?;
        registry.register(Box::new(models_scored_debtors.clone()))?;
        registry.register(Box::new(models_score_point_seconds.clone()))?;
        registry.register(Box::new(models_debtors_waiting.clone()))?;
        registry.register(Box::new(models_debtors_by_class.clone()))?;
        registry.register(Box::new(features_flush_seconds.clone()))?;
        registry.register(Box::new(features_batch_size.clone()))?;
        registry.register(Box::new(features_debtors_changed.clone()))?;
        registry.register(Box::new(features_late_facts.clone()))?;
        registry.register(Box::new(features_state_bytes.clone()))?;
        registry.register(Box::new(open_balance.clone()))?;
        registry.register(Box::new(aging_balance.clone()))?;
        registry.register(Box::new(dso.clone()))?;
        registry.register(Box::new(cei.clone()))?;
        registry.register(Box::new(cure_rate.clone()))?;
        registry.register(Box::new(exposure_above_limit.clone()))?;
        registry.register(Box::new(debtors_above_limit.clone()))?;
        registry.register(Box::new(payments_matched.clone()))?;
        registry.register(Box::new(exceptions.clone()))?;
        registry.register(Box::new(payments_to_people.clone()))?;
        registry.register(Box::new(auto_match_ratio.clone()))?;
        registry.register(Box::new(unapplied_cash.clone()))?;
        registry.register(Box::new(unmatched_cash.clone()))?;
        registry.register(Box::new(events.clone()))?;
        registry.register(Box::new(dead_letters.clone()))?;
        registry.register(Box::new(redelivered.clone()))?;
        registry.register(Box::new(batch_size.clone()))?;
        registry.register(Box::new(batch_seconds.clone()))?;
        registry.register(Box::new(ingest_delay.clone()))?;
        registry.register(Box::new(consumer_lag.clone()))?;
        registry.register(Box::new(checkpointed_sequence.clone()))?;
        registry.register(Box::new(outputs.clone()))?;
        registry.register(Box::new(checkpoints.clone()))?;
        registry.register(Box::new(checkpoint_seconds.clone()))?;
        registry.register(Box::new(checkpoint_bytes.clone()))?;
        registry.register(Box::new(checkpoint_pause_seconds.clone()))?;
        registry.register(Box::new(checkpoint_wait_seconds.clone()))?;
        registry.register(Box::new(checkpoint_compactions.clone()))?;
        registry.register(Box::new(checkpoint_base_bytes.clone()))?;
        registry.register(Box::new(debtors.clone()))?;
        registry.register(Box::new(watermark.clone()))?;
        // Every label value exists from the start, so dashboards and rate() see zeros.
        for kind in events::EventKind::ALL {
            events.with_label_values(&[kind.as_str()]);
        }
        for reason in events::DeadLetterReason::ALL {
            dead_letters.with_label_values(&[reason.as_str()]);
        }
        for rule in ledger::MatchRule::ALL {
            payments_matched.with_label_values(&[rule.as_str()]);
        }
        for reason in ledger::UnmatchedReason::ALL {
            exceptions.with_label_values(&[reason.as_str()]);
        }
        for reason in ["currency_mismatch", "unknown_reversal"] {
            exceptions.with_label_values(&[reason]);
        }
        Ok(PipelineMetrics {
            events,
            dead_letters,
            redelivered,
            batch_size,
            batch_seconds,
            ingest_delay,
            consumer_lag,
            checkpointed_sequence,
            outputs,
            checkpoints,
            checkpoint_seconds,
            checkpoint_bytes,
            checkpoint_pause_seconds,
            checkpoint_wait_seconds,
            checkpoint_compactions,
            checkpoint_base_bytes,
            debtors,
            watermark,
            payments_matched,
            exceptions,
            payments_to_people,
            auto_match_ratio,
            unapplied_cash,
            unmatched_cash,
            open_balance,
            aging_balance,
            dso,
            cei,
            cure_rate,
            exposure_above_limit,
            debtors_above_limit,
            features_flush_seconds,
            features_batch_size,
            features_debtors_changed,
            features_late_facts,
            features_state_bytes,
            models_active,
            models_activations,
            models_scored_debtors,
            models_score_point_seconds,
            models_debtors_waiting,
            models_debtors_by_class,
            models_feature_drift,
            models_scoring_errors,
            tasks_open,
        })
    }

    /// Total input events accepted.
    pub fn events_total(&self) -> u64 {
        sum_counter_vec(&self.events)
    }

    /// Total outputs published (handed to the outbox), over all families and kinds.
    pub fn outputs_total(&self) -> u64 {
        sum_counter_vec(&self.outputs)
    }

    /// Total dead letters.
    pub fn dead_letters_total(&self) -> u64 {
        sum_counter_vec(&self.dead_letters)
    }

    /// Total payments applied automatically, over all rules.
    pub fn payments_matched_total(&self) -> u64 {
        sum_counter_vec(&self.payments_matched)
    }
}

/// Seconds from `stored_unix_nanos` (a time of the NATS server's clock, in nanoseconds
/// since the Unix epoch) to `now`; zero when the worker's clock is behind the server's.
pub fn delay_since(stored_unix_nanos: i128, now: std::time::SystemTime) -> f64 {
    let now = match now.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(_) => return 0.0,
    };
    (now - stored_unix_nanos).max(0) as f64 / 1e9
}

/// Counts what the ledger did with payments: matches by rule, exceptions by reason.
pub fn observe_ledger(metrics: &PipelineMetrics, effect: &ledger::LedgerEffect) {
    use ledger::LedgerEffect as E;
    let exception = |reason: &str| metrics.exceptions.with_label_values(&[reason]).inc();
    match effect {
        E::PaymentApplied { rule, .. } => {
            metrics
                .payments_matched
                .with_label_values(&[rule.as_str()])
                .inc();
        }
        E::PaymentUnmatched { reason, .. } => {
            metrics.payments_to_people.inc();
            exception(reason.as_str());
        }
        E::CurrencyMismatch { .. } => {
            metrics.payments_to_people.inc();
            exception("currency_mismatch");
        }
        E::ReversalUnknown { .. } => exception("unknown_reversal"),
        _ => {}
    }
}

/// Refreshes the gauges derived from the ledger after a batch.
pub fn refresh_ledger_gauges(metrics: &PipelineMetrics, ledger: &ledger::Ledger) {
    use rust_decimal::prelude::ToPrimitive;
    let matched = metrics.payments_matched_total();
    let all = matched + metrics.payments_to_people.get();
    if all > 0 {
        metrics.auto_match_ratio.set(matched as f64 / all as f64);
    }
    let totals = ledger.totals();
    metrics
        .unapplied_cash
        .set(totals.unapplied.to_f64().unwrap_or(0.0));
    metrics
        .unmatched_cash
        .set(totals.unmatched.to_f64().unwrap_or(0.0));
}

/// Values of the `bucket` label of [`PORTFOLIO_AGING_BALANCE`].
pub const AGING_BUCKETS: [&str; 5] = ["current", "1_30", "31_60", "61_90", "over_90"];

/// Sets the portfolio gauges from the ledger's KPIs. A KPI without a value yet (no
/// history) leaves its gauge at its last value (0 at start).
pub fn refresh_portfolio_gauges(metrics: &PipelineMetrics, kpis: &ledger::PortfolioKpis) {
    use rust_decimal::prelude::ToPrimitive;
    let f = |d: rust_decimal::Decimal| d.to_f64().unwrap_or(0.0);
    metrics.open_balance.set(f(kpis.open_balance));
    let a = &kpis.aging;
    for (bucket, amount) in AGING_BUCKETS.iter().zip([
        a.current,
        a.days_1_30,
        a.days_31_60,
        a.days_61_90,
        a.over_90,
    ]) {
        metrics
            .aging_balance
            .with_label_values(&[bucket])
            .set(f(amount));
    }
    if let Some(days) = kpis.dso_days {
        metrics.dso.set(f(days) * 86_400.0);
    }
    if let Some(v) = kpis.cei {
        metrics.cei.set(f(v));
    }
    if let Some(v) = kpis.cure_rate {
        metrics.cure_rate.set(f(v));
    }
    metrics
        .exposure_above_limit
        .set(f(kpis.exposure_above_limit));
    metrics
        .debtors_above_limit
        .set(kpis.debtors_above_limit as i64);
}

fn sum_counter_vec(vec: &IntCounterVec) -> u64 {
    use prometheus::core::Collector;
    vec.collect()
        .iter()
        .flat_map(|family| family.get_metric())
        .map(|m| m.get_counter().get_value() as u64)
        .sum()
}

/// Renders a registry in the Prometheus text format.
pub fn render(registry: &Registry) -> String {
    use prometheus::Encoder;
    let mut out = Vec::new();
    let encoder = prometheus::TextEncoder::new();
    if encoder.encode(&registry.gather(), &mut out).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Records one feature micro-batch: its size, time, the debtors it changed, and the late
/// facts counted so far by the store (`late` = applied, dropped totals).
pub fn observe_feature_flush(
    metrics: &PipelineMetrics,
    report: &features::FlushReport,
    seconds: f64,
    late: (u64, u64),
) {
    metrics.features_batch_size.observe(report.events as f64);
    metrics.features_flush_seconds.observe(seconds);
    metrics
        .features_debtors_changed
        .inc_by(report.changed.len() as u64);
    for (outcome, total) in [("applied", late.0), ("dropped", late.1)] {
        let counter = metrics.features_late_facts.with_label_values(&[outcome]);
        let seen = counter.get();
        if total > seen {
            counter.inc_by(total - seen);
        }
    }
}

/// Sets the active-model info metric to the models in use (`None` where a role is empty).
pub fn set_active_models(
    metrics: &PipelineMetrics,
    champion: Option<&str>,
    challenger: Option<&str>,
) {
    metrics.models_active.reset();
    for (role, version) in [("champion", champion), ("challenger", challenger)] {
        if let Some(v) = version {
            metrics.models_active.with_label_values(&[role, v]).set(1);
        }
    }
}

/// Sets the debtors-by-risk-class gauge from the counts of the last published scores.
pub fn set_risk_classes(
    metrics: &PipelineMetrics,
    counts: &std::collections::BTreeMap<String, u64>,
) {
    metrics.models_debtors_by_class.reset();
    for (class, n) in counts {
        metrics
            .models_debtors_by_class
            .with_label_values(&[class])
            .set(*n as i64);
    }
}

/// Sets the drift gauge to the champion's feature drift (cleared without figures).
pub fn set_drift(metrics: &PipelineMetrics, drift: &[(String, f64)]) {
    metrics.models_feature_drift.reset();
    for (feature, psi) in drift {
        metrics
            .models_feature_drift
            .with_label_values(&[feature])
            .set(*psi);
    }
}

/// Sets the open-tasks gauge from the decisions' count by kind.
pub fn set_open_tasks(metrics: &PipelineMetrics, open: &std::collections::BTreeMap<String, u64>) {
    // Every kind, so a kind whose last task closed reads 0 rather than its old count.
    for kind in events::TaskKind::ALL {
        let n = open.get(kind.as_str()).copied().unwrap_or(0);
        metrics
            .tasks_open
            .with_label_values(&[kind.as_str()])
            .set(n as i64);
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use super::*;

    #[test]
    fn delay_is_the_time_since_the_server_stored_the_message_and_never_negative() {
        let stored = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let nanos = stored
            .duration_since(UNIX_EPOCH)
            .expect("after the epoch")
            .as_nanos() as i128;
        let later = stored + Duration::from_millis(1_250);
        assert!((delay_since(nanos, later) - 1.25).abs() < 1e-9);
        // The worker's clock behind the server's: no negative delay.
        let earlier = stored - Duration::from_millis(3);
        assert_eq!(delay_since(nanos, earlier), 0.0);
        assert_eq!(delay_since(nanos, stored), 0.0);
        // Before the epoch: not a time a server stamps; read as no delay.
        assert_eq!(delay_since(nanos, UNIX_EPOCH - Duration::from_secs(1)), 0.0);
    }

    #[test]
    fn delay_buckets_rise_from_a_millisecond_to_an_hour() {
        assert!(INGEST_DELAY_BUCKETS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(INGEST_DELAY_BUCKETS.first(), Some(&0.001));
        assert_eq!(INGEST_DELAY_BUCKETS.last(), Some(&3600.0));
        let registry = Registry::new();
        let metrics = PipelineMetrics::new(&registry).expect("metrics");
        let now = SystemTime::now();
        let two_seconds_ago = (now - Duration::from_secs(2))
            .duration_since(UNIX_EPOCH)
            .expect("after the epoch")
            .as_nanos() as i128;
        metrics
            .ingest_delay
            .observe(delay_since(two_seconds_ago, now));
        assert_eq!(metrics.ingest_delay.get_sample_count(), 1);
        let text = render(&registry);
        assert!(text.contains("creditstream_ingest_delay_seconds_bucket{le=\"1\"} 0"));
        assert!(text.contains("creditstream_ingest_delay_seconds_bucket{le=\"2.5\"} 1"));
    }
}
