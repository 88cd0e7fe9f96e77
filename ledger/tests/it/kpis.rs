//! Portfolio KPIs: hand-checked scenarios, the window's edges, checkpoints, and a property
//! test against a naive recomputation from the public state.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use ledger::{AgingBuckets, Ledger, LedgerConfig, PortfolioKpis};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::properties::{event_sequences, step};
use crate::support::*;

fn pay(h: &mut Harness, day: &str, id: &str, amount: &str, invoice: &str) {
    let mut p = payment(id, amount);
    p.remittance_text = Some(invoice.into());
    h.on(day, paid(p));
}

fn round_trip(ledger: &Ledger) -> Ledger {
    serde_json::from_str(&serde_json::to_string(ledger).unwrap()).unwrap()
}

/// Three debtors, three invoices on 1 January (A and B due 5 January, C due 31 January),
/// all of them overdue by the end of 10 January except C. In the window that ends on
/// 9 February (30 days: 11 January ..= 9 February, start = end of 10 January): A paid in
/// full, B paid 50 of 200, a new invoice E of 500; C turns overdue on 1 February.
fn portfolio() -> Harness {
    let mut h = Harness::new();
    h.on("2025-01-01", debtor("D1", "1000", &[]));
    h.on("2025-01-01", debtor("D2", "100", &[]));
    h.on("2025-01-01", debtor("D3", "200", &[]));
    h.on("2025-01-01", inv("A", "D1", "100", "2025-01-05"));
    h.on("2025-01-01", inv("B", "D2", "200", "2025-01-05"));
    h.on("2025-01-01", inv("C", "D3", "300", "2025-01-31"));
    h.on("2025-01-10", tick());
    pay(&mut h, "2025-01-15", "P1", "100", "A");
    pay(&mut h, "2025-01-15", "P2", "50", "B");
    h.on("2025-01-20", inv("E", "D1", "500", "2025-03-01"));
    h.on("2025-02-09", tick());
    h
}

#[test]
fn kpis_of_a_small_portfolio_match_the_hand_computation() {
    let h = portfolio();
    let k = h.ledger.kpis();
    // Now: B 150 (35 days past due), C 300 (9 days), E 500 (current) = 950; overdue B and
    // C, current 500 (E). At the window start (end of 10 January): A 100 + B 200 + C 300 =
    // 600, overdue D1 and D2. Sales in the window: E 500.
    assert_eq!(
        k,
        PortfolioKpis {
            as_of: Some(date("2025-02-09")),
            open_balance: dec("950"),
            aging: AgingBuckets {
                current: dec("500"),
                days_1_30: dec("300"),
                days_31_60: dec("150"),
                days_61_90: dec("0"),
                over_90: dec("0"),
            },
            // 950 × 30 / 500
            dso_days: Some(dec("57")),
            // (600 + 500 − 950) / (600 + 500 − 500) = 150 / 600
            cei: Some(dec("0.25")),
            // D1 and D2 overdue then; D1 is not now, D2 still is (and D3 newly is).
            cure_rate: Some(dec("0.5")),
            // D2: 150 over 100; D3: 300 over 200; D1: 500 within 1000.
            debtors_above_limit: 2,
            exposure_above_limit: dec("150"),
            window_days: 30,
        }
    );
    assert_eq!(k.aging.total(), k.open_balance);
}

#[test]
fn one_day_later_the_window_start_moves_past_the_payments_day_boundary() {
    // Start = end of 11 January: nothing changed on 11 January, so the state is that of
    // 10 January carried forward (no snapshot of its own); same values.
    let mut h = portfolio();
    h.on("2025-02-10", tick());
    let k = h.ledger.kpis();
    assert_eq!(
        (k.dso_days, k.cei, k.cure_rate),
        (Some(dec("57")), Some(dec("0.25")), Some(dec("0.5")))
    );
    // Start = end of 15 January (after both payments): AR 450 = B 150 + C 300, overdue D2
    // only. CEI = (450 + 500 − 950) / (450 + 500 − 500) = 0; cure: D2 still overdue = 0.
    h.on("2025-02-14", tick());
    let k = h.ledger.kpis();
    assert_eq!(
        (k.dso_days, k.cei, k.cure_rate),
        (Some(dec("57")), Some(dec("0")), Some(dec("0")))
    );
    // Start = end of 20 January: E is out of the window; no sales.
    h.on("2025-02-19", tick());
    let k = h.ledger.kpis();
    assert_eq!(k.dso_days, None);
    // AR(S) = 950, no sales, AR now 950, current now 500 (E):
    // CEI = (950 − 950) / (950 − 500) = 0.
    assert_eq!(k.cei, Some(dec("0")));
}

#[test]
fn an_invoice_counts_as_sales_on_days_one_to_w_of_the_window() {
    let config = LedgerConfig {
        kpi_window_days: 7,
        ..LedgerConfig::default()
    };
    let mut h = Harness::with(config);
    h.on("2025-01-01", inv("A", "D1", "70", "2025-06-01"));
    // Day 7 (7 January): window 1..=7 January.
    h.on("2025-01-07", tick());
    let k = h.ledger.kpis();
    assert_eq!(k.window_days, 7);
    assert_eq!(k.dso_days, Some(dec("7")), "70 × 7 / 70");
    assert_eq!(
        k.cei, None,
        "nothing overdue to collect: 70 + 0 − 70 current"
    );
    // Day 8: window 2..=8 January, the invoice is out.
    h.on("2025-01-08", tick());
    assert_eq!(h.ledger.kpis().dso_days, None);
}

#[test]
fn a_debtor_overdue_at_the_end_of_the_start_day_counts_for_the_cure_rate() {
    let config = LedgerConfig {
        kpi_window_days: 5,
        ..LedgerConfig::default()
    };
    let mut h = Harness::with(config);
    h.on("2025-01-01", inv("A", "D1", "10", "2025-01-01"));
    h.on("2025-01-01", inv("B", "D2", "10", "2025-01-02"));
    // 2 January: A overdue. 3 January: B overdue, A paid.
    h.on("2025-01-02", tick());
    h.on("2025-01-03", tick());
    pay(&mut h, "2025-01-03", "P1", "10", "A");
    // Today 7 January, start = end of 2 January: D1 was overdue (B not yet), D1 cured.
    h.on("2025-01-07", tick());
    assert_eq!(h.ledger.kpis().cure_rate, Some(dec("1")));
    // Today 8 January, start = end of 3 January: D2 overdue (D1 paid that day), not cured.
    h.on("2025-01-08", tick());
    assert_eq!(h.ledger.kpis().cure_rate, Some(dec("0")));
}

#[test]
fn without_clock_or_sales_or_overdue_debtors_the_window_kpis_are_none() {
    let ledger = Ledger::new(LedgerConfig::default());
    let k = ledger.kpis();
    assert_eq!(
        k,
        PortfolioKpis {
            as_of: None,
            open_balance: Decimal::ZERO,
            aging: AgingBuckets::default(),
            dso_days: None,
            cei: None,
            cure_rate: None,
            debtors_above_limit: 0,
            exposure_above_limit: Decimal::ZERO,
            window_days: 30,
        }
    );

    // An invoice before any clock: open and current (no days past due without a clock).
    let mut ledger = Ledger::new(LedgerConfig::default());
    ledger.apply(&events::Envelope::new(
        "e1",
        at("2025-01-01"),
        inv("A", "D1", "10", "2024-01-01"),
    ));
    let k = ledger.kpis();
    assert_eq!(
        (k.as_of, k.open_balance, k.aging.current),
        (None, dec("10"), dec("10"))
    );
    assert_eq!((k.dso_days, k.cei, k.cure_rate), (None, None, None));

    // A clock but no invoices.
    let mut h = Harness::new();
    h.on("2025-01-01", tick());
    h.on("2025-03-01", tick());
    let k = h.ledger.kpis();
    assert_eq!(k.as_of, Some(date("2025-03-01")));
    assert_eq!((k.dso_days, k.cei, k.cure_rate), (None, None, None));
}

#[test]
fn a_young_ledger_counts_the_days_before_it_as_empty() {
    // Started on 1 January: on 10 January the 30-day window reaches back before the
    // ledger, where nothing was owed or invoiced.
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-01-03"));
    h.on("2025-01-05", inv("B", "D2", "200", "2025-02-01"));
    h.on("2025-01-10", tick());
    let k = h.ledger.kpis();
    // 300 × 30 / 300; CEI (0 + 300 − 300) / (0 + 300 − 200) = 0; nobody overdue at start.
    assert_eq!(
        (k.dso_days, k.cei, k.cure_rate),
        (Some(dec("30")), Some(dec("0")), None)
    );
}

#[test]
fn aging_buckets_add_up_to_the_open_balance() {
    let mut h = Harness::new();
    for (n, due) in [
        ("A", "2025-06-01"),
        ("B", "2025-05-01"),
        ("C", "2025-04-01"),
        ("D", "2025-03-01"),
        ("E", "2025-01-01"),
        ("F", "2025-05-31"),
    ] {
        h.on("2024-12-01", inv(n, "D1", "10.25", due));
    }
    pay(&mut h, "2025-05-10", "P1", "5", "C");
    h.on("2025-06-01", tick());
    let k = h.ledger.kpis();
    // A due today: current. F 1, B 31, C 61 (5.25 open), D 92, E 151 days past due.
    assert_eq!(
        k.aging,
        AgingBuckets {
            current: dec("10.25"),
            days_1_30: dec("10.25"),
            days_31_60: dec("10.25"),
            days_61_90: dec("5.25"),
            over_90: dec("20.5"),
        }
    );
    assert_eq!(k.aging.total(), k.open_balance);
    assert_eq!(k.open_balance, h.ledger.totals().open);
    let by_account = h.ledger.aging("D1", date("2025-06-01"));
    assert_eq!(k.aging, by_account);
}

#[test]
fn exposure_adds_what_each_debtor_owes_above_its_limit() {
    let mut h = Harness::new();
    h.on("2025-01-01", debtor("D1", "100", &[]));
    h.on("2025-01-01", debtor("D2", "100", &[]));
    h.on("2025-01-01", debtor("D3", "0", &[]));
    h.on("2025-01-01", inv("A", "D1", "130.50", "2025-02-01"));
    h.on("2025-01-01", inv("B", "D2", "100", "2025-02-01")); // at the limit: not above
    h.on("2025-01-01", inv("C", "D3", "5", "2025-02-01"));
    h.on("2025-01-01", inv("X", "NOLIMIT", "1000000", "2025-02-01")); // no master data
    let k = h.ledger.kpis();
    assert_eq!(k.debtors_above_limit, 2);
    assert_eq!(k.exposure_above_limit, dec("35.5"));
    // A limit raised above the balance takes the debtor out.
    h.on("2025-01-02", debtor("D1", "200", &[]));
    let k = h.ledger.kpis();
    assert_eq!(
        (k.debtors_above_limit, k.exposure_above_limit),
        (1, dec("5"))
    );
}

#[test]
fn kpis_are_equal_after_a_checkpoint_round_trip_and_continue_alike() {
    let mut h = portfolio();
    let mut restored = round_trip(&h.ledger);
    assert_eq!(restored.kpis(), h.ledger.kpis());
    assert_eq!(
        serde_json::to_string(&restored.kpis()).unwrap(),
        serde_json::to_string(&h.ledger.kpis()).unwrap()
    );
    for day in ["2025-02-14", "2025-03-05", "2025-04-30"] {
        h.on(day, tick());
        restored.advance_to(at(day));
        assert_eq!(restored.kpis(), h.ledger.kpis(), "{day}");
    }
    // The KPIs themselves round-trip.
    let k = h.ledger.kpis();
    let back: PortfolioKpis = serde_json::from_str(&serde_json::to_string(&k).unwrap()).unwrap();
    assert_eq!(back, k);
}

#[test]
fn a_checkpoint_without_history_loads_and_has_window_kpis_after_one_window() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-01-05"));
    h.on("2025-01-10", tick());
    // A checkpoint written before the KPIs existed: no `kpi_history`, a config without
    // `kpi_window_days`.
    let mut json: serde_json::Value = serde_json::to_value(&h.ledger).unwrap();
    let state = json.as_object_mut().unwrap();
    state.remove("kpi_history").unwrap();
    state["config"]
        .as_object_mut()
        .unwrap()
        .remove("kpi_window_days")
        .unwrap();
    let mut old: Ledger = serde_json::from_value(json).unwrap();
    assert_eq!(old.config().kpi_window_days, 30);
    let k = old.kpis();
    assert_eq!(
        (k.open_balance, k.aging.days_1_30),
        (dec("100"), dec("100"))
    );
    assert_eq!(
        (k.dso_days, k.cei, k.cure_rate),
        (None, None, None),
        "no memory"
    );
    // The first day-end it sees is 10 January: the window KPIs return when the start
    // reaches it (9 February), not before.
    old.advance_to(at("2025-01-11"));
    old.advance_to(at("2025-02-08"));
    assert_eq!(old.kpis().cei, None);
    old.advance_to(at("2025-02-09"));
    // AR(S) 100, no sales, all overdue: CEI = (100 − 100) / 100 = 0; D1 still overdue.
    let k = old.kpis();
    assert_eq!(
        (k.dso_days, k.cei, k.cure_rate),
        (None, Some(dec("0")), Some(dec("0")))
    );
}

#[test]
fn a_clock_gap_longer_than_the_window_keeps_only_what_the_window_needs() {
    let config = LedgerConfig {
        kpi_window_days: 3,
        ..LedgerConfig::default()
    };
    let mut h = Harness::with(config);
    for day in 1..=20 {
        h.on(&format!("2025-01-{day:02}"), tick());
    }
    let json = serde_json::to_value(&h.ledger).unwrap();
    let days = json["kpi_history"]["days"].as_array().unwrap();
    // Start = 17 January: 17, 18, 19 (20 has not ended).
    let dates: Vec<&str> = days.iter().map(|d| d["date"].as_str().unwrap()).collect();
    assert_eq!(dates, ["2025-01-17", "2025-01-18", "2025-01-19"]);
    h.on("2025-03-01", tick());
    let json = serde_json::to_value(&h.ledger).unwrap();
    let dates: Vec<&str> = json["kpi_history"]["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    assert_eq!(dates, ["2025-01-20"], "the newest at or before the start");
}

/// The portfolio's events, replayed into a ledger with `window` days.
fn portfolio_with_window(window: u32, until: &str) -> Harness {
    let mut h = Harness::with(LedgerConfig {
        kpi_window_days: window,
        ..LedgerConfig::default()
    });
    h.on("2025-01-01", debtor("D1", "1000", &[]));
    h.on("2025-01-01", inv("A", "D1", "100", "2025-01-05"));
    h.on("2025-01-01", inv("B", "D2", "200", "2025-01-05"));
    h.on("2025-01-10", tick());
    pay(&mut h, "2025-01-15", "P1", "100", "A");
    h.on("2025-01-20", inv("E", "D1", "500", "2025-03-01"));
    h.on(until, tick());
    h
}

fn with_window(ledger: &Ledger, window: u32) -> Ledger {
    let mut json = serde_json::to_value(ledger).unwrap();
    json["config"]["kpi_window_days"] = window.into();
    serde_json::from_value(json).unwrap()
}

#[test]
fn a_shorter_window_after_a_restart_uses_the_history_kept() {
    let long = portfolio_with_window(30, "2025-01-24");
    let short = portfolio_with_window(7, "2025-01-24");
    let restarted = with_window(&long.ledger, 7);
    // Start = end of 17 January: AR 200 (B), D2 overdue. Sales E 500; AR now 700, of
    // which E current: DSO 700 × 7 / 500, CEI (200 + 500 − 700) / (700 − 500) = 0, D2
    // still overdue.
    let k = restarted.kpis();
    assert_eq!(k, short.ledger.kpis());
    assert_eq!(
        (k.dso_days, k.cei, k.cure_rate),
        (Some(dec("9.8")), Some(dec("0")), Some(dec("0")))
    );
    // A longer window than the history kept (the 7-day ledger's oldest snapshot is of
    // 15 January): no window KPIs until the start reaches it.
    let mut longer = with_window(&short.ledger, 30);
    assert_eq!(longer.kpis().cei, None);
    longer.advance_to(at("2025-02-13"));
    assert_eq!(longer.kpis().cei, None, "start 14 January: not remembered");
    longer.advance_to(at("2025-02-14"));
    assert!(longer.kpis().cei.is_some());
}

/// What a KPI reference needs of one day's end, read through the public API.
#[derive(Clone, Debug)]
struct DayEndView {
    date: NaiveDate,
    open: Decimal,
    invoiced: Decimal,
    overdue: BTreeSet<String>,
}

fn view(ledger: &Ledger) -> DayEndView {
    DayEndView {
        date: ledger.clock().unwrap().date_naive(),
        open: ledger.totals().open,
        invoiced: ledger.totals().invoiced,
        overdue: overdue_debtors(ledger),
    }
}

fn overdue_debtors(ledger: &Ledger) -> BTreeSet<String> {
    ledger
        .debtors()
        .filter(|a| a.overdue_balance > Decimal::ZERO)
        .map(|a| a.debtor_id.clone())
        .collect()
}

/// The KPIs recomputed from scratch: every account's items and the day-ends the test
/// recorded itself.
fn reference(ledger: &Ledger, history: &[DayEndView]) -> PortfolioKpis {
    let today = ledger.clock().unwrap().date_naive();
    let w = ledger.config().kpi_window_days;
    let mut aging = AgingBuckets::default();
    let (mut above, mut exposure, mut current) = (0, Decimal::ZERO, Decimal::ZERO);
    for account in ledger.debtors() {
        let a = ledger.aging(&account.debtor_id, today);
        aging.current += a.current;
        aging.days_1_30 += a.days_1_30;
        aging.days_31_60 += a.days_31_60;
        aging.days_61_90 += a.days_61_90;
        aging.over_90 += a.over_90;
        for item in ledger.open_items_of(account) {
            if !item.overdue {
                current += item.open_amount;
            }
        }
        if let Some(limit) = account.credit_limit()
            && account.open_balance > limit
        {
            above += 1;
            exposure += account.open_balance - limit;
        }
    }
    let open = ledger.totals().open;
    let start = today - Days::new(u64::from(w));
    let empty = DayEndView {
        date: NaiveDate::MIN,
        open: Decimal::ZERO,
        invoiced: Decimal::ZERO,
        overdue: BTreeSet::new(),
    };
    let base = history
        .iter()
        .rev()
        .find(|d| d.date <= start)
        .unwrap_or(&empty);
    let sales = ledger.totals().invoiced - base.invoiced;
    let w = Decimal::from(w);
    let dso = (sales > Decimal::ZERO).then(|| open * w / sales);
    let denominator = base.open + sales - current;
    let cei = (denominator > Decimal::ZERO)
        .then(|| ((base.open + sales - open) / denominator).clamp(Decimal::ZERO, Decimal::ONE));
    let now_overdue = overdue_debtors(ledger);
    let cure = (!base.overdue.is_empty()).then(|| {
        let cured = base.overdue.difference(&now_overdue).count();
        Decimal::from(cured) / Decimal::from(base.overdue.len())
    });
    PortfolioKpis {
        as_of: Some(today),
        open_balance: open,
        aging,
        dso_days: dso,
        cei,
        cure_rate: cure,
        debtors_above_limit: above,
        exposure_above_limit: exposure,
        window_days: ledger.config().kpi_window_days,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn kpis_agree_with_a_recomputation_and_stay_in_range(
        events in event_sequences(60),
        window in 1..40_u32,
        cut in 0..60_usize,
    ) {
        let config = LedgerConfig { kpi_window_days: window, ..LedgerConfig::default() };
        let mut ledger = Ledger::new(config);
        let mut history: Vec<DayEndView> = Vec::new();
        for (i, e) in events.iter().enumerate() {
            if let Some(clock) = ledger.clock()
                && e.event_time.date_naive() > clock.date_naive()
            {
                history.push(view(&ledger));
            }
            if i == cut {
                // A checkpoint in the middle changes nothing.
                ledger = round_trip(&ledger);
            }
            step(&mut ledger, e);
            let k = ledger.kpis();
            prop_assert_eq!(k.aging.total(), k.open_balance);
            prop_assert!(k.cei.is_none_or(|c| (Decimal::ZERO..=Decimal::ONE).contains(&c)), "{:?}", k.cei);
            prop_assert!(k.cure_rate.is_none_or(|c| (Decimal::ZERO..=Decimal::ONE).contains(&c)), "{:?}", k.cure_rate);
            prop_assert!(k.dso_days.is_none_or(|d| d >= Decimal::ZERO));
            prop_assert_eq!(&k, &reference(&ledger, &history));
        }
    }
}
