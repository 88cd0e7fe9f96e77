//! Point-in-time training sets: one row per invoice at its issue, with the features as
//! they were known at that moment and a label observed later.
//!
//! Events are taken in log order and run through the same ledger and feature store as the
//! stream. When an invoice arrives, its debtor's features are captured *before* the
//! invoice is applied: only events earlier in the log count, and the debtor's facts still
//! waiting in the micro-batch are flushed first. The label comes from what the ledger saw
//! afterwards:
//! - `late` is true when the invoice was paid off more than `late_days` after its due date,
//!   or was still unpaid `horizon_days` after it (or at the end of the log, if that is
//!   already more than `late_days` after it);
//! - rows whose outcome the log cannot tell yet (unpaid, and the log ends within
//!   `late_days` of the due date) have no label (NULL) and are counted.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use compact_str::CompactString;
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int32Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use events::{Envelope, InputEvent};
use ledger::{Ledger, LedgerConfig};
use serde::{Deserialize, Serialize};

use crate::definitions::{Definitions, Window};
use crate::error::FeatureError;
use crate::facts::{
    Fact, MONEY_PRECISION, MONEY_SCALE, day_number, facts_of, money_mantissa, money_type,
};
use crate::inputs::InputsBuilder;
use crate::standing::{StandingInputs, StandingSource};
use crate::store::{FeatureConfig, FeatureStore};
use crate::tiles::Value;

/// Default days after the due date beyond which a payment counts as late.
pub const DEFAULT_LATE_DAYS: u32 = 30;
/// Default days after the due date at which an unpaid invoice counts as late.
pub const DEFAULT_HORIZON_DAYS: u32 = 90;
/// Rows evaluated together.
const CHUNK_ROWS: usize = 65_536;

/// How labels are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelOptions {
    /// Paid off more than this many days after the due date: late.
    pub late_days: u32,
    /// Still unpaid this many days after the due date: late (at least `late_days`).
    pub horizon_days: u32,
}

impl Default for LabelOptions {
    fn default() -> Self {
        LabelOptions {
            late_days: DEFAULT_LATE_DAYS,
            horizon_days: DEFAULT_HORIZON_DAYS,
        }
    }
}

impl LabelOptions {
    /// Refuses inconsistent options, naming the field.
    pub fn validate(&self) -> Result<(), FeatureError> {
        let bad = |field, reason: String| Err(FeatureError::InvalidConfig { field, reason });
        if self.late_days > 3660 {
            return bad(
                "late_days",
                format!("{} is outside 0..=3660", self.late_days),
            );
        }
        if self.horizon_days < self.late_days || self.horizon_days > 3660 {
            return bad(
                "horizon_days",
                format!(
                    "{} is outside {}..=3660 (at least late_days)",
                    self.horizon_days, self.late_days
                ),
            );
        }
        Ok(())
    }
}

/// One captured invoice, before its label is known.
struct Row {
    invoice_number: CompactString,
    issued_at: i64,
    due: i32,
    amount: i128,
}

/// What a finished training set holds besides its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrainingSummary {
    /// Input events read.
    pub events: u64,
    /// Rows (invoices).
    pub rows: u64,
    /// Rows labelled late.
    pub late: u64,
    /// Rows the log cannot label yet.
    pub unlabelled: u64,
}

/// One invoice's capture: its standing as of its arrival, its aggregates once known.
struct Capture {
    slot: u32,
    today: i32,
    standing: StandingInputs,
    values: Option<Vec<Value>>,
}

/// The ledger half of a training set: runs the log through the ledger and says, for each
/// event, what the feature half needs ([`Replayed`]); at the end, how every invoice turned
/// out ([`Outcomes`]). The halves can run on threads of their own, joined by a channel:
/// the feature half sees the same sequence either way.
pub struct LedgerReplay {
    ledger: Ledger,
    windows: Vec<Window>,
    last_day: i32,
    events: u64,
}

/// What one event of the log means for the feature half of a training set.
pub struct Replayed {
    day: i32,
    /// Invoices: the facts of time passing up to the invoice (known before it), and the
    /// invoice's debtor with its capture (none for an invoice number already known).
    invoice: Option<InvoiceArrival>,
    facts: Vec<Fact>,
}

/// An invoice as the feature half sees it arrive.
struct InvoiceArrival {
    before: Vec<Fact>,
    debtor_id: CompactString,
    capture: Option<(StandingInputs, Row)>,
}

/// How the invoices of a log turned out, once the ledger half has read it to its end.
pub struct Outcomes {
    /// The ledger at the end of the log: each item's `settled_on` is the day it was paid
    /// off, if it still is (a reversal that re-opens an item clears it).
    ledger: Ledger,
    last_day: i32,
    events: u64,
}

impl LedgerReplay {
    /// A ledger half with this ledger configuration, capturing standing over `windows`.
    pub fn new(config: LedgerConfig, windows: Vec<Window>) -> LedgerReplay {
        LedgerReplay {
            ledger: Ledger::new(config),
            windows,
            last_day: i32::MIN,
            events: 0,
        }
    }

    /// Makes room for `invoices` invoices in the ledger's tables and the outcomes (when
    /// the log's size is known beforehand; growing tables of millions of items costs).
    pub fn reserve_invoices(&mut self, invoices: usize) {
        self.ledger.reserve_invoices(invoices);
    }

    /// Makes room for `payments` payments in the ledger's tables, as
    /// [`LedgerReplay::reserve_invoices`] does for invoices.
    pub fn reserve_payments(&mut self, payments: usize) {
        self.ledger.reserve_payments(payments);
    }

    /// Takes the next event of the log; `None` for an event that changes no debtor.
    pub fn push(&mut self, event: &Envelope) -> Option<Replayed> {
        self.events += 1;
        if event.event.is_control() {
            // A control event: its time is when a person acted, not business time, and
            // it changes no debtor (the stream's stages skip it the same way).
            return None;
        }
        let day = day_number(event.event_time.date_naive());
        self.last_day = self.last_day.max(day);
        let advanced = self.ledger.advance_to(event.event_time);
        if let InputEvent::InvoiceIssued(invoice) = &event.event {
            // Time passing (overdue items, broken promises) is known before the invoice.
            let before = facts_of(event, &advanced, &self.ledger);
            let capture = self
                .ledger
                .item(&invoice.invoice_number)
                .is_none()
                .then(|| {
                    let standing = StandingSource::standing(
                        &self.ledger,
                        &invoice.debtor_id,
                        event.event_time.date_naive(),
                        &self.windows,
                    );
                    let row = Row {
                        invoice_number: CompactString::from(invoice.invoice_number.as_str()),
                        issued_at: event.event_time.timestamp_micros(),
                        due: day_number(invoice.due_date),
                        amount: money_mantissa(invoice.amount),
                    };
                    (standing, row)
                });
            let effects = self.ledger.apply(event);
            Some(Replayed {
                day,
                invoice: Some(InvoiceArrival {
                    before,
                    debtor_id: CompactString::from(invoice.debtor_id.as_str()),
                    capture,
                }),
                facts: facts_of(event, &effects, &self.ledger),
            })
        } else {
            let mut effects = advanced;
            effects.extend(self.ledger.apply(event));
            Some(Replayed {
                day,
                invoice: None,
                facts: facts_of(event, &effects, &self.ledger),
            })
        }
    }

    /// The outcomes of the log read so far. They hold the ledger as the log left it (a
    /// large structure: a caller in a hurry leaves it to the end of the process rather
    /// than freeing it).
    pub fn finish(self) -> Outcomes {
        Outcomes {
            ledger: self.ledger,
            last_day: self.last_day,
            events: self.events,
        }
    }
}

/// Builds a training set from events in log order: a [`LedgerReplay`] and a
/// [`TrainingFeatures`] run one after the other.
pub struct TrainingSetBuilder {
    replay: LedgerReplay,
    features: TrainingFeatures,
}

impl TrainingSetBuilder {
    /// A builder with these definitions, ledger configuration and label options.
    pub fn new(
        definitions: Definitions,
        ledger: LedgerConfig,
        options: LabelOptions,
    ) -> Result<TrainingSetBuilder, FeatureError> {
        let replay = LedgerReplay::new(ledger, definitions.windows.clone());
        let features = TrainingFeatures::new(definitions, options)?;
        Ok(TrainingSetBuilder { replay, features })
    }

    /// The training set of a log held in memory, with the built-in definitions and the
    /// default ledger configuration and label options: its schema, batches and summary.
    pub fn of_events(
        events: impl IntoIterator<Item = impl std::borrow::Borrow<Envelope>>,
    ) -> Result<(SchemaRef, Vec<RecordBatch>, TrainingSummary), FeatureError> {
        let mut builder = TrainingSetBuilder::new(
            Definitions::builtin()?,
            LedgerConfig::default(),
            LabelOptions::default(),
        )?;
        for event in events {
            builder.push(event.borrow())?;
        }
        let schema = builder.schema();
        let (batches, summary) = builder.finish()?;
        Ok((schema, batches, summary))
    }

    /// Takes the next event of the log.
    pub fn push(&mut self, event: &Envelope) -> Result<(), FeatureError> {
        match self.replay.push(event) {
            Some(replayed) => self.features.take(replayed),
            None => Ok(()),
        }
    }

    /// The two halves, to run apart (on two threads).
    pub fn into_halves(self) -> (LedgerReplay, TrainingFeatures) {
        (self.replay, self.features)
    }

    /// The schema of the training set.
    pub fn schema(&self) -> SchemaRef {
        self.features.schema()
    }

    /// Labels every row and returns the training set in batches.
    pub fn finish(self) -> Result<(Vec<RecordBatch>, TrainingSummary), FeatureError> {
        let outcomes = self.replay.finish();
        self.features.finish(outcomes)
    }
}

/// The feature half of a training set: takes what the [`LedgerReplay`] says of each event,
/// in log order, and captures each invoice's features as known just before it.
///
/// An invoice whose debtor has facts waiting in the micro-batch is not flushed for on its
/// own: its capture is deferred to the next flush (served after the merge, before the
/// windows slide), and the debtor's later facts are held back until then, so the capture
/// sees exactly the facts before the invoice. Only a second invoice of a debtor already
/// waiting forces a flush.
pub struct TrainingFeatures {
    store: FeatureStore,
    options: LabelOptions,
    inputs: InputsBuilder,
    /// Rows of the current chunk, in log order.
    rows: Vec<Row>,
    debtors: Vec<CompactString>,
    /// Captures of the rows not yet in `inputs` (the first is row `pushed`).
    waiting: VecDeque<Capture>,
    pushed: usize,
    /// Deferred captures (indices into `waiting`, counted from the chunk start).
    deferred: Vec<usize>,
    /// Debtors with a deferred capture, and the facts held back for them.
    frozen: HashSet<u32>,
    held: Vec<(i32, Vec<Fact>)>,
    /// Earlier chunks, their features known, their labels not yet.
    done: Vec<Unlabelled>,
    /// The training set's schema without the labels.
    unlabelled_schema: SchemaRef,
}

impl TrainingFeatures {
    /// A feature half with these definitions and label options.
    pub fn new(
        definitions: Definitions,
        options: LabelOptions,
    ) -> Result<TrainingFeatures, FeatureError> {
        options.validate()?;
        let store = FeatureStore::new(definitions, FeatureConfig::default())?;
        let inputs = store.inputs_builder();
        let schema = training_schema(store.engine().output_schema());
        let unlabelled_schema = Arc::new(Schema::new(
            schema.fields()[..schema.fields().len() - LABEL_COLUMNS].to_vec(),
        ));
        Ok(TrainingFeatures {
            store,
            options,
            inputs,
            rows: Vec::new(),
            debtors: Vec::new(),
            waiting: VecDeque::new(),
            pushed: 0,
            deferred: Vec::new(),
            frozen: HashSet::new(),
            held: Vec::new(),
            done: Vec::new(),
            unlabelled_schema,
        })
    }

    /// Takes the next event of the log, as the ledger half replayed it.
    pub fn take(&mut self, replayed: Replayed) -> Result<(), FeatureError> {
        let Replayed {
            day,
            invoice,
            facts,
        } = replayed;
        if let Some(invoice) = invoice {
            self.observe(day, invoice.before);
            let slot = self.store.slot(&invoice.debtor_id);
            if self.frozen.contains(&slot) {
                self.flush()?;
            }
            if let Some((standing, row)) = invoice.capture {
                let mut capture = Capture {
                    slot,
                    today: day,
                    standing,
                    values: None,
                };
                if self.store.is_pending(slot) {
                    self.frozen.insert(slot);
                    self.deferred.push(self.pushed + self.waiting.len());
                } else {
                    let mut values = Vec::new();
                    self.store.values(slot, day, &mut values);
                    capture.values = Some(values);
                }
                self.waiting.push_back(capture);
                self.rows.push(row);
                self.debtors.push(invoice.debtor_id);
                self.push_ready();
            }
        }
        self.observe(day, facts);
        if self.store.batch_full() {
            self.flush()?;
        }
        if self.pushed >= CHUNK_ROWS {
            self.evaluate_chunk()?;
        }
        Ok(())
    }

    /// Facts of one event: those of debtors with a deferred capture are held back.
    fn observe(&mut self, day: i32, facts: Vec<Fact>) {
        if self.frozen.is_empty() {
            self.store.observe_facts(day, &facts);
            return;
        }
        let (held, now): (Vec<Fact>, Vec<Fact>) = facts.into_iter().partition(|f| {
            self.store
                .slots()
                .get(f.debtor_id.as_str())
                .is_some_and(|s| self.frozen.contains(&s))
        });
        self.store.observe_facts(day, &now);
        if !held.is_empty() {
            self.held.push((day, held));
        }
    }

    /// Runs the micro-batch, serves the deferred captures, lets the held-back facts in.
    fn flush(&mut self) -> Result<(), FeatureError> {
        let deferred = std::mem::take(&mut self.deferred);
        let pushed = self.pushed;
        let waiting = &mut self.waiting;
        self.store.flush_with(|store| {
            for i in deferred {
                if let Some(c) = waiting.get_mut(i - pushed) {
                    let mut values = Vec::new();
                    store.values(c.slot, c.today, &mut values);
                    c.values = Some(values);
                }
            }
        })?;
        self.frozen.clear();
        for (day, facts) in std::mem::take(&mut self.held) {
            self.store.observe_facts(day, &facts);
        }
        self.push_ready();
        Ok(())
    }

    /// Moves the captures that are complete, in row order, into the inputs.
    fn push_ready(&mut self) {
        while self.waiting.front().is_some_and(|c| c.values.is_some()) {
            if let Some(c) = self.waiting.pop_front() {
                self.inputs.push(
                    c.today,
                    c.values.as_deref().unwrap_or_default(),
                    &c.standing,
                );
                self.pushed += 1;
            }
        }
        // Deferred indices count from the chunk start; they stay valid while rows wait.
    }

    /// Evaluates the features of the rows pushed so far.
    fn evaluate_chunk(&mut self) -> Result<(), FeatureError> {
        let n = self.pushed;
        if n == 0 {
            return Ok(());
        }
        let inputs = std::mem::replace(&mut self.inputs, self.store.inputs_builder()).finish()?;
        let ids: StringArray = self.debtors.drain(..n).map(Some).collect();
        let as_of = Date32Array::from_iter_values(
            inputs
                .column(0)
                .as_any()
                .downcast_ref::<Int32Array>()
                .map(|a| a.values().to_vec())
                .unwrap_or_default(),
        );
        let features = self
            .store
            .engine()
            .evaluate(Arc::new(ids), Arc::new(as_of), &inputs)?;
        let rows: Vec<Row> = self.rows.drain(..n).collect();
        self.done
            .push(unlabelled(&self.unlabelled_schema, &features, rows)?);
        // Deferred captures count from the chunk start, which moved by `n`.
        for d in &mut self.deferred {
            *d -= n;
        }
        self.pushed = 0;
        Ok(())
    }

    /// The schema of the training set: invoice, debtor, issue time, due date, amount, the
    /// features, then `days_late` and the label `late`.
    pub fn schema(&self) -> SchemaRef {
        training_schema(self.store.engine().output_schema())
    }

    /// The chunks of rows whose features are complete, taken out: a caller that writes
    /// them as they come need not hold the features of every row until the end of the log.
    pub fn take_unlabelled(&mut self) -> Vec<Unlabelled> {
        std::mem::take(&mut self.done)
    }

    /// Completes the rows still waiting (the end of the log) and returns the chunks not
    /// yet taken, with the label options to draw their labels by.
    pub fn finish_unlabelled(mut self) -> Result<(Vec<Unlabelled>, LabelOptions), FeatureError> {
        self.flush()?;
        self.evaluate_chunk()?;
        Ok((self.done, self.options))
    }

    /// Labels every row not taken out before ([`TrainingFeatures::take_unlabelled`]) by
    /// the log's outcomes and returns them in batches of the training set's schema.
    pub fn finish(
        self,
        outcomes: Outcomes,
    ) -> Result<(Vec<RecordBatch>, TrainingSummary), FeatureError> {
        let schema = self.schema();
        let (chunks, options) = self.finish_unlabelled()?;
        let mut labeller = Labeller::new(outcomes, options);
        let mut out = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            let mut columns = chunk.columns.columns().to_vec();
            columns.extend(labeller.label(&chunk.keys));
            out.push(
                RecordBatch::try_new(schema.clone(), columns)
                    .map_err(FeatureError::arrow("building the training set"))?,
            );
        }
        Ok((out, labeller.summary()))
    }
}

/// The training set's columns up to the labels (`schema`) for rows in log order, from the
/// features the engine evaluated for them.
fn unlabelled(
    schema: &SchemaRef,
    features: &RecordBatch,
    rows: Vec<Row>,
) -> Result<Unlabelled, FeatureError> {
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.invoice_number.as_str()),
        )),
        features.column(0).clone(),
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(rows.iter().map(|r| r.issued_at))
                .with_timezone("UTC"),
        ),
        Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| r.due))),
        Arc::new(
            Decimal128Array::from_iter_values(rows.iter().map(|r| r.amount))
                .with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE)
                .map_err(FeatureError::arrow("building the training set"))?,
        ),
    ];
    columns.extend(features.columns()[2..].iter().cloned());
    let columns = RecordBatch::try_new(schema.clone(), columns)
        .map_err(FeatureError::arrow("building the training set"))?;
    let keys = rows
        .into_iter()
        .map(|r| (r.invoice_number, r.due))
        .collect();
    Ok(Unlabelled {
        columns,
        keys: LabelKeys(keys),
    })
}

/// The label columns at the end of the training set: `days_late` and `late`.
pub const LABEL_COLUMNS: usize = 2;

/// Rows whose features are known and whose labels are not yet, in log order.
pub struct Unlabelled {
    /// The training set's columns but the last [`LABEL_COLUMNS`] (the labels).
    pub columns: RecordBatch,
    /// What the rows' labels are drawn from.
    pub keys: LabelKeys,
}

impl Unlabelled {
    /// Rows held.
    pub fn len(&self) -> usize {
        self.columns.num_rows()
    }

    /// Whether it holds no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Splits it after `rows` rows (all of them if it holds fewer).
    pub fn split_at(mut self, rows: usize) -> (Unlabelled, Unlabelled) {
        let rows = rows.min(self.len());
        let rest = Unlabelled {
            columns: self.columns.slice(rows, self.len() - rows),
            keys: LabelKeys(self.keys.0.split_off(rows)),
        };
        self.columns = self.columns.slice(0, rows);
        (self, rest)
    }
}

/// What the labels of rows are drawn from: each row's invoice number and due date.
pub struct LabelKeys(Vec<(CompactString, i32)>);

impl LabelKeys {
    /// Rows held.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it holds no row.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Draws rows' labels from how the log's invoices turned out, counting them.
pub struct Labeller {
    outcomes: Outcomes,
    options: LabelOptions,
    summary: TrainingSummary,
}

impl Labeller {
    /// A labeller of the rows of a log that turned out as `outcomes`.
    pub fn new(outcomes: Outcomes, options: LabelOptions) -> Labeller {
        let summary = TrainingSummary {
            events: outcomes.events,
            ..TrainingSummary::default()
        };
        Labeller {
            outcomes,
            options,
            summary,
        }
    }

    /// The label columns of these rows (`days_late`, `late`), in their order.
    pub fn label(&mut self, keys: &LabelKeys) -> [ArrayRef; LABEL_COLUMNS] {
        let mut late = Vec::with_capacity(keys.len());
        let mut days_late = Vec::with_capacity(keys.len());
        for (invoice_number, due) in &keys.0 {
            let settled = self
                .outcomes
                .ledger
                .item(invoice_number)
                .and_then(|item| item.settled_on)
                .map(day_number);
            let (label, days) = label(*due, settled, self.outcomes.last_day, self.options);
            self.summary.rows += 1;
            match label {
                Some(true) => self.summary.late += 1,
                None => self.summary.unlabelled += 1,
                Some(false) => {}
            }
            late.push(label);
            days_late.push(days);
        }
        [
            Arc::new(Int32Array::from(days_late)),
            Arc::new(BooleanArray::from(late)),
        ]
    }

    /// The training set's counts, over the rows labelled so far.
    pub fn summary(&self) -> TrainingSummary {
        self.summary
    }
}

/// The label of an invoice due on `due`, settled on `settled` (if ever), in a log that
/// ends on `last_day`: (late, days late as observed up to the horizon).
///
/// An invoice is labelled only once the log runs more than `late_days` past its due date:
/// before that, the on-time payers among the invoices due then are known but the late ones
/// are not yet, and labelling only the first would make the latest period look better than
/// it is.
pub fn label(
    due: i32,
    settled: Option<i32>,
    last_day: i32,
    options: LabelOptions,
) -> (Option<bool>, Option<i32>) {
    let late_days = options.late_days as i32;
    let horizon = due + options.horizon_days as i32;
    let decided = last_day - due > late_days;
    match settled {
        Some(day) if day <= horizon => {
            let days = (day - due).max(0);
            (decided.then_some(days > late_days), Some(days))
        }
        // Paid after the horizon: it was unpaid at the horizon.
        Some(_) => (Some(true), Some(options.horizon_days as i32)),
        None if last_day >= horizon => (Some(true), Some(options.horizon_days as i32)),
        None if decided => (Some(true), None),
        None => (None, None),
    }
}

/// The training set's schema from the features' output schema.
pub fn training_schema(features: &SchemaRef) -> SchemaRef {
    let mut fields = vec![
        Field::new("invoice_number", DataType::Utf8, false),
        Field::new("debtor_id", DataType::Utf8, false),
        Field::new(
            "issued_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("due_date", DataType::Date32, false),
        Field::new("amount", money_type(), false),
    ];
    fields.extend(features.fields()[2..].iter().map(|f| f.as_ref().clone()));
    fields.push(Field::new("days_late", DataType::Int32, true));
    fields.push(Field::new("late", DataType::Boolean, true));
    Arc::new(Schema::new(fields))
}
