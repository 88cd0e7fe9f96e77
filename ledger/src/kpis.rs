//! Portfolio KPIs: how much the whole ledger is owed, how old it is, how well it is
//! collected and how far debtors are above their limits ([`Ledger::kpis`], for the
//! portfolio gauges). The KPIs that look back over a window read day-end snapshots the
//! ledger records as its event-time clock passes midnight; the others read the current
//! state.
//!
//! # Definitions
//! `D` is the clock's date, `W` the window ([`crate::LedgerConfig::kpi_window_days`], default
//! 30 days) and `S = D − W` the window start. A value "at `S`" is the ledger's state at the
//! end of day `S` (when its clock left that date). The window is the `W` days `S+1 ..= D`,
//! today included as far as it has gone: an invoice booked on day `X` is in the window
//! from day `X` to day `X + W − 1`.
//! - `AR`, receivables: the sum of open amounts of all items ([`crate::LedgerTotals::open`]).
//!   Unapplied credit and unmatched payments are not netted against it.
//! - `CUR`, current receivables: the open amounts of items that have not turned overdue
//!   (the ledger's overdue flag: past the due date plus the grace days).
//! - `SALES`, credit sales in the window: the amounts of invoices the ledger booked on days
//!   `S+1 ..= D` (booking date on the clock, not issue date; credit notes not deducted).
//! - A debtor is overdue when its overdue balance is above zero.
//!
//! | field | formula | `None` when |
//! |---|---|---|
//! | `open_balance` | `AR` now | |
//! | `aging` | open amounts by days past due on `D` (`D − due date`): current (≤ 0), 1–30, 31–60, 61–90, over 90; no clock: all current. Sums to `open_balance` | |
//! | `dso_days` | `AR(now) × W / SALES` (simple method) | `SALES = 0` |
//! | `cei` | `(AR(S) + SALES − AR(now)) / (AR(S) + SALES − CUR(now))`, kept within 0..=1 | denominator ≤ 0 |
//! | `cure_rate` | debtors overdue at `S` that are not overdue now / debtors overdue at `S` | no debtor overdue at `S` |
//! | `debtors_above_limit` | debtors with a credit limit and an open balance above it | |
//! | `exposure_above_limit` | `Σ (open balance − limit)` over those debtors | |
//!
//! The numerator of CEI is what left the receivables in the window (payments applied,
//! credit notes, write-offs, net of reversals); it is below zero only when a reversal
//! re-opens more than that (a payment collected before the window taken back in it): CEI
//! is then 0. Money of all currencies is added together, as in [`crate::LedgerTotals`].
//!
//! DSO, CEI and cure rate are also `None` without a clock and while the window start is
//! older than the ledger's memory. A ledger made by [`Ledger::new`] owed nothing before its
//! first day, so its KPIs exist from the first day (days before it count as no sales, no
//! receivables, no overdue debtors). A ledger restored from a checkpoint written without
//! snapshots remembers from its first day-end after the restore: its window KPIs come `W`
//! days later.
//!
//! # History
//! One snapshot per event-time day, recorded by [`Ledger::advance_to`] when the clock's date
//! changes, holding the state at the end of the day it leaves: receivables, everything
//! invoiced so far (sales in a window are the difference of two such totals) and the
//! overdue debtors. The overdue debtors are stored in full once, for the oldest snapshot,
//! and as changes (sorted ids that became or stopped being overdue) for each later one, so
//! a day costs what changed that day, not the size of the portfolio. A day the clock
//! skipped (no event, no tick) has no snapshot: the ledger stood still, so the last
//! snapshot before it holds; items that fell overdue on such a day turn overdue when the
//! clock next moves. The oldest snapshot kept is the newest at or before the window start
//! (older ones are dropped and their changes folded into it), so at most `W` are kept.
//! The history is serialised with the ledger (checkpoints); a checkpoint without it loads
//! with none.
//!
//! # Cost
//! `advance_to`: one date comparison; when the date changes, a snapshot and the fold of
//! the dropped day, O(debtors whose overdue state changed, × log). Each change of an open
//! amount updates the open amounts by due date (a map with one entry per due date); each
//! change of an overdue balance the overdue total, and the set of overdue debtors when it
//! leaves or returns to zero. `kpis()`: O(due dates) for aging, O(debtors) for exposure,
//! O(debtors overdue at `S` × log) for the cure rate.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::account::DebtorAccount;
use crate::aging::{AgingBuckets, days_past_due};
use crate::items::OpenItem;
use crate::ledger::Ledger;

/// Portfolio KPIs at the ledger's clock (definitions in the [module doc](self)). Decimals
/// are normalised (no trailing zeros), so equal KPIs serialise alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortfolioKpis {
    /// The clock's date (`None` before time has been set).
    pub as_of: Option<NaiveDate>,
    /// Receivables: sum of open amounts.
    pub open_balance: Decimal,
    /// Open amounts by days past due on `as_of`.
    pub aging: AgingBuckets,
    /// Days sales outstanding over the window; `None` without sales in it.
    pub dso_days: Option<Decimal>,
    /// Collection effectiveness index over the window, 0..=1; `None` when nothing was
    /// collectable.
    pub cei: Option<Decimal>,
    /// Share of the debtors overdue at the window start that are not overdue now, 0..=1;
    /// `None` when none was.
    pub cure_rate: Option<Decimal>,
    /// Debtors whose open balance is above their known credit limit.
    pub debtors_above_limit: u64,
    /// Sum over those debtors of open balance minus limit.
    pub exposure_above_limit: Decimal,
    /// The window DSO, CEI and cure rate use, in days.
    pub window_days: u32,
}

/// The state at the end of one day that the window KPIs look back to. The overdue
/// debtors are kept as changes against the snapshot before (most debtors stay as they
/// were from one day to the next).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DayEnd {
    /// The day.
    date: NaiveDate,
    /// Receivables at the day's end.
    open: Decimal,
    /// Everything invoiced up to the day's end (`LedgerTotals::invoiced`).
    invoiced_to_date: Decimal,
    /// Debtors overdue at the day's end that were not at the previous snapshot's, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    became_overdue: Vec<String>,
    /// Debtors overdue at the previous snapshot's end that are not at this day's, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    no_longer_overdue: Vec<String>,
}

impl DayEnd {
    /// Applies the day's changes to the overdue debtors of the snapshot before it.
    fn apply_to(&self, overdue: &mut BTreeSet<String>) {
        overdue.extend(self.became_overdue.iter().cloned());
        for d in &self.no_longer_overdue {
            overdue.remove(d);
        }
    }
}

/// Day-end snapshots, serialised with the ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct KpiHistory {
    /// Debtors overdue at the end of the oldest snapshot (whose own changes are folded in
    /// here); empty without snapshots.
    overdue_at_oldest: BTreeSet<String>,
    /// Oldest first, dates strictly increasing.
    days: VecDeque<DayEnd>,
    /// The ledger owed nothing before the first snapshot: it started empty and no
    /// snapshot has been dropped since. False (unknown) for a checkpoint without history.
    starts_empty: bool,
}

/// The state the window KPIs compare with: the end of the window start.
struct WindowStart<'a> {
    open: Decimal,
    invoiced_to_date: Decimal,
    overdue: Cow<'a, BTreeSet<String>>,
}

impl KpiHistory {
    /// The history of a ledger that starts empty.
    pub(crate) fn empty_ledger() -> KpiHistory {
        KpiHistory {
            starts_empty: true,
            ..KpiHistory::default()
        }
    }

    /// Adds the snapshot of a day that has ended and drops those the window no longer
    /// needs on `today`: all but the newest at or before the window start.
    fn record(&mut self, mut day: DayEnd, today: NaiveDate, window_days: u32) {
        if self.days.is_empty() {
            self.overdue_at_oldest.clear();
            fold(&mut self.overdue_at_oldest, &mut day);
        }
        self.days.push_back(day);
        let Some(start) = window_start(today, window_days) else {
            return;
        };
        while self.days.get(1).is_some_and(|d| d.date <= start) {
            self.days.pop_front();
            if let Some(oldest) = self.days.front_mut() {
                fold(&mut self.overdue_at_oldest, oldest);
            }
            self.starts_empty = false;
        }
    }

    /// The state at the end of `start`: the newest snapshot at or before it, or nothing at
    /// all for a ledger that started empty; `None` when the history does not reach back.
    fn at(&self, start: NaiveDate) -> Option<WindowStart<'_>> {
        let newest = match self.days.partition_point(|d| d.date <= start) {
            0 if self.starts_empty => {
                return Some(WindowStart {
                    open: Decimal::ZERO,
                    invoiced_to_date: Decimal::ZERO,
                    overdue: Cow::Owned(BTreeSet::new()),
                });
            }
            0 => return None,
            n => n - 1,
        };
        let day = self.days.get(newest)?;
        // Usually the oldest (pruning keeps it so); a shorter window than the one the
        // history was recorded with (a changed config) replays the changes after it.
        let mut overdue = Cow::Borrowed(&self.overdue_at_oldest);
        for later in self.days.range(1..=newest) {
            later.apply_to(overdue.to_mut());
        }
        Some(WindowStart {
            open: day.open,
            invoiced_to_date: day.invoiced_to_date,
            overdue,
        })
    }

    /// Debtors overdue at the end of the newest snapshot (none without snapshots).
    fn overdue_at_newest(&self) -> BTreeSet<String> {
        let mut overdue = self.overdue_at_oldest.clone();
        for day in self.days.iter().skip(1) {
            day.apply_to(&mut overdue);
        }
        overdue
    }
}

/// Moves a day's overdue changes into the overdue debtors of the day before it.
fn fold(overdue: &mut BTreeSet<String>, day: &mut DayEnd) {
    day.apply_to(overdue);
    day.became_overdue.clear();
    day.no_longer_overdue.clear();
}

/// `today − window_days` (`None` before the calendar's start).
fn window_start(today: NaiveDate, window_days: u32) -> Option<NaiveDate> {
    today.checked_sub_days(Days::new(u64::from(window_days)))
}

/// Running values the KPIs read that follow from the items and the history; rebuilt on
/// loading.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct KpiIndex {
    /// Open amounts by due date (no entry without an open amount).
    open_by_due: BTreeMap<NaiveDate, Decimal>,
    /// Sum of the debtors' overdue balances.
    overdue_total: Decimal,
    /// Debtors whose overdue balance is above zero.
    overdue_debtors: BTreeSet<String>,
    /// Debtors whose overdue state differs from that at the newest snapshot (the changes
    /// the next snapshot records).
    overdue_changed: BTreeSet<String>,
}

impl KpiIndex {
    /// Built from the accounts, the items and the history (loading a checkpoint).
    pub(crate) fn of<'a>(
        accounts: impl Iterator<Item = &'a DebtorAccount>,
        items: impl Iterator<Item = &'a OpenItem>,
        history: &KpiHistory,
    ) -> KpiIndex {
        let mut index = KpiIndex::default();
        for item in items.filter(|i| i.is_open()) {
            index.open_moved(item.due_date, item.open_amount);
        }
        for account in accounts {
            index.overdue_total += account.overdue_balance;
            if account.overdue_balance > Decimal::ZERO {
                index.overdue_debtors.insert(account.debtor_id.clone());
            }
        }
        let then = history.overdue_at_newest();
        index.overdue_changed = then
            .symmetric_difference(&index.overdue_debtors)
            .cloned()
            .collect();
        index
    }

    /// An item due on `due` had its open amount changed by `delta`.
    pub(crate) fn open_moved(&mut self, due: NaiveDate, delta: Decimal) {
        let open = self.open_by_due.entry(due).or_default();
        *open += delta;
        if open.is_zero() {
            self.open_by_due.remove(&due);
        }
    }

    /// A debtor's overdue balance went from `before` to `after`.
    pub(crate) fn overdue_moved(&mut self, debtor_id: &str, before: Decimal, after: Decimal) {
        self.overdue_total += after - before;
        match (before > Decimal::ZERO, after > Decimal::ZERO) {
            (false, true) => {
                self.overdue_debtors.insert(debtor_id.to_owned());
            }
            (true, false) => {
                self.overdue_debtors.remove(debtor_id);
            }
            _ => return,
        }
        // The state flipped: back to that at the newest snapshot, or away from it.
        if !self.overdue_changed.remove(debtor_id) {
            self.overdue_changed.insert(debtor_id.to_owned());
        }
    }
}

impl Ledger {
    /// Portfolio KPIs at the clock (definitions in [`crate::kpis`]). O(debtors + due
    /// dates); reads maintained totals, changes nothing.
    pub fn kpis(&self) -> PortfolioKpis {
        let today = self.clock.map(|c| c.date_naive());
        let window_days = self.config.kpi_window_days;
        let open_now = self.totals.open;

        let mut aging = AgingBuckets::default();
        for (due, open) in &self.kpi_index.open_by_due {
            aging.add(today.map_or(0, |t| days_past_due(*due, t)), *open);
        }

        // Order-independent: a count and a sum of exact decimals (hash map order is fine).
        let (mut debtors_above_limit, mut exposure_above_limit) = (0_u64, Decimal::ZERO);
        for excess in self
            .accounts
            .values()
            .filter_map(|a| crate::exposure::excess_over_limit(a))
        {
            debtors_above_limit += 1;
            exposure_above_limit += excess;
        }

        let start = today
            .and_then(|t| window_start(t, window_days))
            .and_then(|s| self.kpi_history.at(s));
        let (mut dso_days, mut cei, mut cure_rate) = (None, None, None);
        if let Some(start) = start {
            let sales = self.totals.invoiced - start.invoiced_to_date;
            let current_now = open_now - self.kpi_index.overdue_total;
            dso_days = dso(open_now, sales, window_days);
            cei = collection_effectiveness(start.open + sales, open_now, current_now);
            cure_rate = self.cure_rate(&start.overdue);
        }

        PortfolioKpis {
            as_of: today,
            open_balance: open_now.normalize(),
            aging: AgingBuckets {
                current: aging.current.normalize(),
                days_1_30: aging.days_1_30.normalize(),
                days_31_60: aging.days_31_60.normalize(),
                days_61_90: aging.days_61_90.normalize(),
                over_90: aging.over_90.normalize(),
            },
            dso_days: dso_days.map(|d| d.normalize()),
            cei: cei.map(|d| d.normalize()),
            cure_rate: cure_rate.map(|d| d.normalize()),
            debtors_above_limit,
            exposure_above_limit: exposure_above_limit.normalize(),
            window_days,
        }
    }

    /// Records the end of `day` (the clock is moving on to `today`). Called by
    /// `advance_to` when the clock's date changes, before anything happens on the new day.
    pub(crate) fn record_day_end(&mut self, day: NaiveDate, today: NaiveDate) {
        let (became_overdue, no_longer_overdue) =
            std::mem::take(&mut self.kpi_index.overdue_changed)
                .into_iter()
                .partition(|d| self.kpi_index.overdue_debtors.contains(d));
        let snapshot = DayEnd {
            date: day,
            open: self.totals.open.normalize(),
            invoiced_to_date: self.totals.invoiced.normalize(),
            became_overdue,
            no_longer_overdue,
        };
        self.kpi_history
            .record(snapshot, today, self.config.kpi_window_days);
    }

    /// Share of `overdue_then` that is not overdue now.
    fn cure_rate(&self, overdue_then: &BTreeSet<String>) -> Option<Decimal> {
        if overdue_then.is_empty() {
            return None;
        }
        let cured = overdue_then
            .iter()
            .filter(|d| !self.kpi_index.overdue_debtors.contains(*d))
            .count();
        Decimal::from(cured).checked_div(Decimal::from(overdue_then.len()))
    }
}

/// `open × window / sales`; `None` without sales (or on overflow).
fn dso(open: Decimal, sales: Decimal, window_days: u32) -> Option<Decimal> {
    if sales <= Decimal::ZERO {
        return None;
    }
    open.checked_mul(Decimal::from(window_days))?
        .checked_div(sales)
}

/// `(collectable − open) / (collectable − current)` within 0..=1, where `collectable` is
/// the receivables at the window start plus the sales in it; `None` when the denominator
/// is not above zero.
fn collection_effectiveness(
    collectable: Decimal,
    open: Decimal,
    current: Decimal,
) -> Option<Decimal> {
    let denominator = collectable - current;
    if denominator <= Decimal::ZERO {
        return None;
    }
    let ratio = (collectable - open).checked_div(denominator)?;
    Some(ratio.clamp(Decimal::ZERO, Decimal::ONE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap_or_default()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    fn snapshot(date: &str, became: &[&str], no_longer: &[&str]) -> DayEnd {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        DayEnd {
            date: day(date),
            open: Decimal::ZERO,
            invoiced_to_date: Decimal::ZERO,
            became_overdue: ids(became),
            no_longer_overdue: ids(no_longer),
        }
    }

    fn overdue_at(h: &KpiHistory, start: &str) -> Option<Vec<String>> {
        h.at(day(start))
            .map(|s| s.overdue.iter().cloned().collect())
    }

    #[test]
    fn history_keeps_the_newest_day_at_or_before_the_window_start() {
        let mut h = KpiHistory::empty_ledger();
        h.record(
            snapshot("2025-01-01", &["a", "b"], &[]),
            day("2025-01-02"),
            3,
        );
        h.record(snapshot("2025-01-02", &["c"], &["a"]), day("2025-01-05"), 3);
        h.record(snapshot("2025-01-05", &["a"], &["b"]), day("2025-01-06"), 3);
        // Start 01-03: 01-02 is the newest at or before it; 01-01 is gone, its changes
        // and those of 01-02 are folded into the oldest's overdue debtors.
        let dates: Vec<NaiveDate> = h.days.iter().map(|d| d.date).collect();
        assert_eq!(dates, [day("2025-01-02"), day("2025-01-05")]);
        assert!(!h.starts_empty, "a dropped day ends the empty start");
        assert_eq!(
            overdue_at(&h, "2025-01-03"),
            Some(vec!["b".into(), "c".into()])
        );
        assert_eq!(
            overdue_at(&h, "2025-01-05"),
            Some(vec!["a".into(), "c".into()])
        );
        assert_eq!(
            h.overdue_at_newest().into_iter().collect::<Vec<_>>(),
            ["a", "c"]
        );
        assert!(h.at(day("2025-01-01")).is_none(), "older than the memory");
    }

    #[test]
    fn a_ledger_that_started_empty_owed_nothing_before_its_first_day() {
        let mut h = KpiHistory::empty_ledger();
        h.record(snapshot("2025-01-10", &["a"], &[]), day("2025-01-11"), 30);
        assert_eq!(overdue_at(&h, "2024-12-12"), Some(vec![]));
        assert_eq!(overdue_at(&h, "2025-01-10"), Some(vec!["a".into()]));
        let restored = KpiHistory::default();
        assert!(restored.at(day("2024-12-12")).is_none());
    }

    #[test]
    fn cei_stays_within_zero_and_one() {
        assert_eq!(
            collection_effectiveness(d("100"), d("40"), d("0")),
            Some(d("0.6"))
        );
        // A reversal re-opened more than was collected: below zero, kept at 0.
        assert_eq!(
            collection_effectiveness(d("50"), d("150"), d("0")),
            Some(d("0"))
        );
        assert_eq!(collection_effectiveness(d("50"), d("50"), d("50")), None);
    }

    #[test]
    fn dso_multiplies_before_dividing() {
        assert_eq!(dso(d("100"), d("300"), 30), Some(d("10")));
        assert_eq!(dso(d("100"), d("0"), 30), None);
    }
}
