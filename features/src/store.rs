//! The streaming feature store: facts gather into a micro-batch; on flush DataFusion
//! computes the batch's partial aggregates per debtor and day, which are merged into each
//! debtor's tiles; windows slide with the event-time watermark, dropping tiles no window
//! spans any more; features are computed on demand for any set of debtors.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, AsArray, Date32Array, Decimal128Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{Decimal128Type, Int32Type, Int64Type, UInt32Type};
use events::Envelope;
use ledger::{Ledger, LedgerEffect};
use serde::{Deserialize, Serialize};

use crate::debtors::DebtorSlots;
use crate::definitions::{AggregateType, Definitions, Merge};
use crate::engine::{Engine, input_type};
use crate::error::FeatureError;
use crate::facts::{FactBuilder, day_date, day_number, facts_of};
use crate::inputs::InputsBuilder;
use crate::standing::StandingSource;
use crate::tiles::{Cell, Layout, PREFETCH_AHEAD, Value, prefetch};

/// Default largest micro-batch, in input events.
pub const DEFAULT_BATCH_MAX_EVENTS: usize = 10_000;
/// Default longest wait before a micro-batch is flushed, in milliseconds.
pub const DEFAULT_BATCH_MAX_DELAY_MS: u64 = 200;
/// Default lateness applied correctly, in days behind the watermark.
pub const DEFAULT_ALLOWED_LATENESS_DAYS: u32 = 30;
/// Longest lateness accepted, in days.
pub const MAX_ALLOWED_LATENESS_DAYS: u32 = 366;

/// How the feature stage batches and how late an event may be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureConfig {
    /// Flush a micro-batch when it holds this many input events...
    pub batch_max_events: usize,
    /// ...or when its first event waited this long (the pipeline's timer).
    pub batch_max_delay_ms: u64,
    /// Facts dated up to this many days before the watermark are applied; older ones are
    /// counted and left out of the features.
    pub allowed_lateness_days: u32,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            batch_max_events: DEFAULT_BATCH_MAX_EVENTS,
            batch_max_delay_ms: DEFAULT_BATCH_MAX_DELAY_MS,
            allowed_lateness_days: DEFAULT_ALLOWED_LATENESS_DAYS,
        }
    }
}

impl FeatureConfig {
    /// Refuses values out of range, naming the field.
    pub fn validate(&self) -> Result<(), FeatureError> {
        let bad = |field, reason: String| Err(FeatureError::InvalidConfig { field, reason });
        if !(1..=1_000_000).contains(&self.batch_max_events) {
            return bad(
                "batch_max_events",
                format!("{} is outside 1..=1000000", self.batch_max_events),
            );
        }
        if !(1..=60_000).contains(&self.batch_max_delay_ms) {
            return bad(
                "batch_max_delay_ms",
                format!("{} is outside 1..=60000", self.batch_max_delay_ms),
            );
        }
        if self.allowed_lateness_days > MAX_ALLOWED_LATENESS_DAYS {
            return bad(
                "allowed_lateness_days",
                format!(
                    "{} is outside 0..={MAX_ALLOWED_LATENESS_DAYS}",
                    self.allowed_lateness_days
                ),
            );
        }
        Ok(())
    }
}

/// Everything the store keeps; serialised into checkpoints (the compiled definitions are
/// rebuilt from the definitions at start).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureState {
    /// What the tiles were laid out for ([`Definitions::state_layout`]); a state of other
    /// windows or aggregates is not read.
    #[serde(default)]
    layout: String,
    slots: DebtorSlots,
    /// `tiers[window][slot]`: the debtor's tiles of that window.
    tiers: Vec<Vec<Vec<u32>>>,
    /// Lifetime tiles, `lifetime_words` per slot.
    lifetime: Vec<u32>,
    /// Latest event-time day seen.
    watermark: Option<i32>,
    /// Per slot: the day its oldest tile leaves its window (`i32::MAX`: none).
    next_expiry: Vec<i32>,
    /// Days on which some debtor's tiles expire.
    expiries: BTreeMap<i32, Vec<u32>>,
    /// Facts applied although behind the watermark.
    late_applied: u64,
    /// Facts too late to apply.
    late_dropped: u64,
}

/// One aggregate column of a partial-aggregate batch, in its kept type.
enum AggregateColumn {
    Int(Int64Array),
    Money(Decimal128Array),
}

impl AggregateColumn {
    /// The row's value, `None` for NULL.
    fn value(&self, row: usize) -> Option<Value> {
        match self {
            AggregateColumn::Int(c) if c.is_valid(row) => Some(Value::Int(c.value(row))),
            AggregateColumn::Money(c) if c.is_valid(row) => Some(Value::Money(c.value(row))),
            _ => None,
        }
    }
}

/// What one flush did.
#[derive(Debug, Clone)]
pub struct FlushReport {
    /// Input events in the batch.
    pub events: usize,
    /// The batch's facts.
    pub facts: RecordBatch,
    /// Partial-aggregate rows merged (debtor-days).
    pub merged_rows: usize,
    /// Debtors whose features changed (new facts or a window slid), slot order.
    pub changed: Vec<u32>,
    /// Those of `changed` whose windows only slid (no new facts in the batch), slot
    /// order: their scores can wait behind those of debtors with news.
    pub slid: Vec<u32>,
}

/// The streaming feature store.
#[derive(Debug)]
pub struct FeatureStore {
    engine: Engine,
    layout: Layout,
    config: FeatureConfig,
    state: FeatureState,
    pending: FactBuilder,
    pending_events: usize,
    /// Per slot: the batch generation of its latest pending fact.
    pending_mark: Vec<u32>,
    /// Generation of the current micro-batch (starts at 1).
    generation: u32,
}

impl FeatureStore {
    /// A store for checked definitions; refuses definitions that do not compile.
    pub fn new(
        definitions: Definitions,
        config: FeatureConfig,
    ) -> Result<FeatureStore, FeatureError> {
        FeatureStore::with_state(definitions, config, FeatureState::default())
    }

    /// A store resuming from a checkpointed state.
    pub fn with_state(
        definitions: Definitions,
        config: FeatureConfig,
        mut state: FeatureState,
    ) -> Result<FeatureStore, FeatureError> {
        config.validate()?;
        let layout = Layout::new(&definitions);
        let windows = definitions.windows.len();
        let fingerprint = definitions.state_layout();
        if state.layout != fingerprint {
            // A state laid out for other windows or aggregates cannot be read; features
            // start over (a replay of the log rebuilds them).
            state = FeatureState::default();
            state.layout = fingerprint;
        }
        state.tiers.resize_with(windows, Vec::new);
        let engine = Engine::new(definitions)?;
        let mut store = FeatureStore {
            engine,
            layout,
            config,
            state,
            pending: FactBuilder::new(),
            pending_events: 0,
            pending_mark: Vec::new(),
            generation: 1,
        };
        store.ensure_slots();
        Ok(store)
    }

    /// The compiled definitions.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The definitions.
    pub fn definitions(&self) -> &Definitions {
        self.engine.definitions()
    }

    /// The configuration.
    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// The state, for checkpoints.
    pub fn state(&self) -> &FeatureState {
        &self.state
    }

    /// Debtor ids and slots.
    pub fn slots(&self) -> &DebtorSlots {
        &self.state.slots
    }

    /// Latest event-time day seen.
    pub fn watermark(&self) -> Option<i32> {
        self.state.watermark
    }

    /// Facts applied although behind the watermark, and facts too late to apply.
    pub fn late_facts(&self) -> (u64, u64) {
        (self.state.late_applied, self.state.late_dropped)
    }

    /// Input events waiting in the micro-batch.
    pub fn pending_events(&self) -> usize {
        self.pending_events
    }

    /// Whether the micro-batch is full (flush it).
    pub fn batch_full(&self) -> bool {
        self.pending_events >= self.config.batch_max_events
    }

    /// Adds one processed event (the envelope, the ledger's effects, the ledger after it)
    /// to the micro-batch.
    pub fn observe(&mut self, event: &Envelope, effects: &[LedgerEffect], ledger: &Ledger) {
        let facts = facts_of(event, effects, ledger);
        let day = day_number(event.event_time.date_naive());
        self.observe_facts(day, &facts);
    }

    /// Adds facts of one event of `day` to the micro-batch.
    pub fn observe_facts(&mut self, day: i32, facts: &[crate::facts::Fact]) {
        let watermark = self.state.watermark.map_or(day, |w| w.max(day));
        self.state.watermark = Some(watermark);
        let oldest = watermark - self.config.allowed_lateness_days as i32;
        // The facts of one event are nearly always of one debtor: look it up once.
        let mut last: Option<(&str, u32)> = None;
        for f in facts {
            if f.day < oldest {
                self.state.late_dropped += 1;
                continue;
            }
            if f.day < watermark {
                self.state.late_applied += 1;
            }
            let slot = match last {
                Some((id, slot)) if id == f.debtor_id => slot,
                _ => self.state.slots.slot(&f.debtor_id),
            };
            last = Some((&f.debtor_id, slot));
            self.pending.push(slot, f);
            let s = slot as usize;
            if self.pending_mark.len() <= s {
                self.pending_mark.resize(s + 1, 0);
            }
            self.pending_mark[s] = self.generation;
        }
        self.pending_events += 1;
    }

    fn ensure_slots(&mut self) {
        let n = self.state.slots.len();
        for tier in &mut self.state.tiers {
            tier.resize_with(n, Vec::new);
        }
        let empty = self.layout.empty_lifetime();
        while self.state.lifetime.len() < n * self.layout.lifetime_words {
            self.state.lifetime.extend_from_slice(&empty);
        }
        self.state.next_expiry.resize(n, i32::MAX);
    }

    /// Runs the micro-batch: partial aggregates by DataFusion, merged into the tiles; then
    /// windows slide to the watermark.
    pub fn flush(&mut self) -> Result<FlushReport, FeatureError> {
        self.flush_with(|_| {})
    }

    /// Like [`FeatureStore::flush`], calling `merged` once the batch is merged and before
    /// the windows slide to the watermark (training sets read debtors there as of earlier
    /// days of the batch).
    pub fn flush_with(
        &mut self,
        merged: impl FnOnce(&FeatureStore),
    ) -> Result<FlushReport, FeatureError> {
        let facts = self.pending.finish()?;
        let events = std::mem::take(&mut self.pending_events);
        self.generation = self.generation.wrapping_add(1).max(1);
        self.ensure_slots();
        let partials = self.engine.partial_aggregates(facts.clone())?;
        let mut changed = Vec::new();
        let mut merged_rows = 0;
        for batch in &partials {
            merged_rows += batch.num_rows();
            self.merge(batch, &mut changed)?;
        }
        changed.sort_unstable();
        changed.dedup();
        for (i, &slot) in changed.iter().enumerate() {
            self.prefetch_oldest(&changed, i);
            self.schedule(slot);
        }
        merged(self);
        let mut slid = Vec::new();
        if let Some(w) = self.state.watermark {
            slid = self.advance_to(w);
            slid.retain(|s| changed.binary_search(s).is_err());
            changed.extend_from_slice(&slid);
            changed.sort_unstable();
        }
        Ok(FlushReport {
            events,
            facts,
            merged_rows,
            changed,
            slid,
        })
    }

    fn merge(&mut self, batch: &RecordBatch, changed: &mut Vec<u32>) -> Result<(), FeatureError> {
        let debtors = batch.column(0).as_primitive::<UInt32Type>();
        let days = batch.column(1).as_primitive::<Int32Type>();
        let aggregates = &self.engine.definitions().aggregates;
        // Each aggregate column in its kept type, cast once per batch.
        let mut columns: Vec<AggregateColumn> = Vec::with_capacity(aggregates.len());
        for (i, a) in aggregates.iter().enumerate() {
            let column = batch.column(2 + i);
            let kept = cast(column, &input_type(a.kind))
                .map_err(FeatureError::arrow("casting aggregates"))?;
            columns.push(match a.kind {
                AggregateType::Money => {
                    AggregateColumn::Money(kept.as_primitive::<Decimal128Type>().clone())
                }
                _ => AggregateColumn::Int(kept.as_primitive::<Int64Type>().clone()),
            });
        }
        let watermark = self.state.watermark.unwrap_or(i32::MIN);
        let windows = &self.engine.definitions().windows;
        let layout = &self.layout;
        let lw = layout.lifetime_words;
        // The values of one row that change anything (a zero adds nothing to a sum).
        let mut windowed: Vec<(usize, Value)> = Vec::with_capacity(layout.windowed.len());
        let mut lifetime: Vec<(usize, Value)> = Vec::with_capacity(layout.lifetime.len());
        let pick = |cells: &[Cell], index: &[usize], row: usize, out: &mut Vec<(usize, Value)>| {
            out.clear();
            for (k, (cell, &i)) in cells.iter().zip(index).enumerate() {
                if let Some(v) = columns[i].value(row)
                    && !(cell.merge == Merge::Sum && v.is_zero())
                {
                    out.push((k, v));
                }
            }
        };
        let row_slots = debtors.values();
        for row in 0..batch.num_rows() {
            // New facts go to the newest tile of each window (or one appended after it).
            self.prefetch_ahead(row_slots, row, PREFETCH_AHEAD, |tiles| {
                layout.prefetch_last(tiles);
            });
            if let Some(&ahead) = row_slots.get(row + 2 * PREFETCH_AHEAD) {
                prefetch(
                    self.state
                        .lifetime
                        .as_ptr()
                        .wrapping_add(ahead as usize * lw),
                );
            }
            pick(&layout.windowed, &layout.windowed_index, row, &mut windowed);
            pick(&layout.lifetime, &layout.lifetime_index, row, &mut lifetime);
            if windowed.is_empty() && lifetime.is_empty() {
                continue;
            }
            let slot = debtors.value(row);
            let day = days.value(row);
            let s = slot as usize;
            changed.push(slot);
            if !windowed.is_empty() {
                for (w, window) in windows.iter().enumerate() {
                    let period = window.period(day);
                    // A late fact older than the window's span no longer counts in it.
                    if period <= window.period(watermark) - window.periods() as i32 {
                        continue;
                    }
                    let tiles = &mut self.state.tiers[w][s];
                    let start = layout.tile_for(tiles, period);
                    let tile = &mut tiles[start..start + layout.tile_words];
                    for &(k, v) in &windowed {
                        layout.windowed[k].merge_into(tile, v);
                    }
                }
            }
            let tile = &mut self.state.lifetime[s * lw..(s + 1) * lw];
            for &(k, v) in &lifetime {
                layout.lifetime[k].merge_into(tile, v);
            }
        }
        Ok(())
    }

    /// While working through `slots` at `i`, asks for what the slots further on will
    /// need (see [`PREFETCH_AHEAD`]): `stride` × 2 ahead the headers of their tile
    /// buffers, `stride` ahead (the headers have arrived) what `tiles` asks of each buffer.
    #[inline(always)]
    fn prefetch_ahead(&self, slots: &[u32], i: usize, stride: usize, tiles: impl Fn(&[u32])) {
        if let Some(&ahead) = slots.get(i + 2 * stride) {
            for tier in &self.state.tiers {
                prefetch(tier.as_ptr().wrapping_add(ahead as usize));
            }
        }
        if let Some(&ahead) = slots.get(i + stride) {
            for tier in &self.state.tiers {
                if let Some(buffer) = tier.get(ahead as usize) {
                    tiles(buffer);
                }
            }
        }
    }

    /// [`FeatureStore::prefetch_ahead`] for expiring and timers: the oldest tile's period
    /// and the next one's (expiring stops at the first tile still in the window), and the
    /// timer.
    #[inline(always)]
    fn prefetch_oldest(&self, slots: &[u32], i: usize) {
        self.prefetch_ahead(slots, i, PREFETCH_AHEAD, |tiles| {
            prefetch(tiles.as_ptr());
            prefetch(tiles.as_ptr().wrapping_add(self.layout.tile_words));
        });
        if let Some(&ahead) = slots.get(i + 2 * PREFETCH_AHEAD) {
            prefetch(self.state.next_expiry.as_ptr().wrapping_add(ahead as usize));
        }
    }

    /// Records when the slot's oldest tile leaves its window.
    fn schedule(&mut self, slot: u32) {
        let s = slot as usize;
        let windows = &self.engine.definitions().windows;
        let next = windows
            .iter()
            .enumerate()
            .filter_map(|(w, window)| {
                self.layout
                    .first_period(&self.state.tiers[w][s])
                    .map(|p| window.expiry_day(p))
            })
            .min()
            .unwrap_or(i32::MAX);
        if next != self.state.next_expiry[s] {
            self.state.next_expiry[s] = next;
            if next != i32::MAX {
                self.state.expiries.entry(next).or_default().push(slot);
            }
        }
    }

    /// Moves the watermark to `day` (time passes without facts): drops the tiles no window
    /// spans any more; returns the debtors whose windows changed.
    pub fn advance_to(&mut self, day: i32) -> Vec<u32> {
        let watermark = self.state.watermark.map_or(day, |w| w.max(day));
        self.state.watermark = Some(watermark);
        let windows = self.engine.definitions().windows.clone();
        let mut changed = Vec::new();
        while let Some(entry) = self.state.expiries.first_entry() {
            if *entry.key() > watermark {
                break;
            }
            let (due, slots) = entry.remove_entry();
            for (i, &slot) in slots.iter().enumerate() {
                self.prefetch_oldest(&slots, i);
                let s = slot as usize;
                if self.state.next_expiry.get(s) != Some(&due) {
                    continue; // rescheduled since
                }
                for (w, window) in windows.iter().enumerate() {
                    let first_kept = window.period(watermark) - window.periods() as i32 + 1;
                    self.layout.expire(&mut self.state.tiers[w][s], first_kept);
                }
                self.state.next_expiry[s] = i32::MAX;
                self.schedule(slot);
                changed.push(slot);
            }
        }
        changed.sort_unstable();
        changed.dedup();
        changed
    }

    /// A builder of feature inputs for this store's definitions.
    pub fn inputs_builder(&self) -> InputsBuilder {
        InputsBuilder::new(
            self.engine.inputs_schema().clone(),
            self.engine.definitions().windows.len(),
        )
    }

    /// The windowed and lifetime aggregate values of one debtor (by slot) on `today`, in
    /// the order of the feature inputs, appended to `out`.
    pub fn values(&self, slot: u32, today: i32, out: &mut Vec<Value>) {
        let definitions = self.engine.definitions();
        let s = slot as usize;
        for (w, window) in definitions.windows.iter().enumerate() {
            let last = window.period(today);
            let first = last - window.periods() as i32 + 1;
            let tiles = self.state.tiers[w].get(s).map_or(&[][..], |t| t.as_slice());
            self.layout.window_values(tiles, first, last, out);
        }
        let lw = self.layout.lifetime_words;
        match self.state.lifetime.get(s * lw..(s + 1) * lw) {
            Some(words) => self.layout.lifetime_values(words, out),
            None => self
                .layout
                .lifetime_values(&self.layout.empty_lifetime(), out),
        }
    }

    /// Appends the feature inputs of one debtor (by slot) on `today` to `builder`, with
    /// its standing from `standing` at this moment.
    pub fn push_inputs(
        &self,
        builder: &mut InputsBuilder,
        slot: u32,
        today: i32,
        standing: &dyn StandingSource,
    ) {
        let mut values = Vec::with_capacity(64);
        self.values(slot, today, &mut values);
        let id = self.state.slots.id(slot);
        let windows = &self.engine.definitions().windows;
        let standing = standing.standing(id, day_date(today), windows);
        builder.push(today, &values, &standing);
    }

    /// The feature inputs of debtors (by slot) on `today`.
    pub fn inputs(
        &self,
        slots: &[u32],
        today: i32,
        standing: &dyn StandingSource,
    ) -> Result<RecordBatch, FeatureError> {
        let mut builder = self.inputs_builder();
        for (i, &slot) in slots.iter().enumerate() {
            // A debtor's values read all its tiles, ~25 cache lines: half the merge's
            // stride keeps fewer of them in flight.
            self.prefetch_ahead(slots, i, PREFETCH_AHEAD / 2, |tiles| {
                self.layout.prefetch_all(tiles);
            });
            self.push_inputs(&mut builder, slot, today, standing);
        }
        builder.finish()
    }

    /// The slot of a debtor, giving it one (with empty history) if it has none.
    pub fn slot(&mut self, debtor_id: &str) -> u32 {
        let slot = self.state.slots.slot(debtor_id);
        self.ensure_slots();
        slot
    }

    /// Whether facts of the debtor wait in the micro-batch.
    pub fn is_pending(&self, slot: u32) -> bool {
        self.pending_mark.get(slot as usize) == Some(&self.generation)
    }

    /// The features of debtors (by slot) on `today`: `debtor_id`, `as_of`, then each
    /// feature.
    pub fn features(
        &self,
        slots: &[u32],
        today: i32,
        standing: &dyn StandingSource,
    ) -> Result<RecordBatch, FeatureError> {
        let inputs = self.inputs(slots, today, standing)?;
        let ids: StringArray = slots
            .iter()
            .map(|&s| Some(self.state.slots.id(s)))
            .collect();
        let as_of = Date32Array::from(vec![today; slots.len()]);
        self.engine
            .evaluate(Arc::new(ids), Arc::new(as_of), &inputs)
    }

    /// The features of debtors by id on `today` (unknown debtors have empty history).
    pub fn features_of(
        &mut self,
        debtor_ids: &[&str],
        today: i32,
        standing: &dyn StandingSource,
    ) -> Result<RecordBatch, FeatureError> {
        let slots: Vec<u32> = debtor_ids
            .iter()
            .map(|id| self.state.slots.slot(id))
            .collect();
        self.ensure_slots();
        self.features(&slots, today, standing)
    }

    /// Bytes of state held: tiles, lifetime values, timers and debtor ids.
    pub fn state_bytes(&self) -> usize {
        let vec_header = std::mem::size_of::<Vec<u32>>();
        let tiles: usize = self
            .state
            .tiers
            .iter()
            .map(|t| t.capacity() * vec_header + t.iter().map(|v| v.capacity() * 4).sum::<usize>())
            .sum();
        let timers: usize = self
            .state
            .expiries
            .values()
            .map(|v| v.capacity() * 4 + vec_header + 16)
            .sum();
        tiles
            + self.state.lifetime.capacity() * 4
            + self.state.next_expiry.capacity() * 4
            + timers
            + self.state.slots.heap_bytes()
    }
}
