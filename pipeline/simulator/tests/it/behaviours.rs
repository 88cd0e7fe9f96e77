//! Each behaviour is present and shows in the observable history: lateness, part
//! payments, combined payments, reversals, disputes, bad debt, ratings, seasonality.

use std::collections::BTreeMap;

use chrono::Datelike;
use events::InputEvent;
use simulator::{Behaviour, NoiseKind};

use crate::support::default_run;

fn late_share(counts: &BTreeMap<Behaviour, (u32, u32)>, behaviour: Behaviour) -> f64 {
    let (n, late) = counts[&behaviour];
    f64::from(late) / f64::from(n)
}

#[test]
fn each_behaviour_is_present_in_a_default_run() {
    let counts = default_run().truth.behaviour_counts();
    for behaviour in Behaviour::ALL {
        let n = counts.get(&behaviour).copied().unwrap_or(0);
        assert!(n >= 20, "{behaviour:?}: {n} debtors");
    }
}

#[test]
fn on_time_debtors_pay_by_the_due_date_and_structurally_late_ones_mostly_late() {
    let counts = default_run().lateness(|_| true);
    let on_time = late_share(&counts, Behaviour::OnTime);
    let structurally = late_share(&counts, Behaviour::StructurallyLate);
    assert!(on_time <= 0.03, "on time debtors late {on_time}");
    assert!(
        structurally >= 0.7,
        "structurally late debtors late {structurally}"
    );
    let incidentally = late_share(&counts, Behaviour::IncidentallyLate);
    assert!(
        on_time < incidentally && incidentally < structurally,
        "{incidentally}"
    );
}

#[test]
fn deteriorating_debtors_get_later_over_the_run() {
    let run = default_run();
    let early = run.lateness(|due| due.month() <= 4 && due.year() == 2025);
    let late = run.lateness(|due| due.month() >= 9 && due.year() == 2025);
    let (e, l) = (
        late_share(&early, Behaviour::Deteriorating),
        late_share(&late, Behaviour::Deteriorating),
    );
    assert!(l > e + 0.3, "first months {e}, last months {l}");
}

#[test]
fn good_debtors_turning_bad_pay_on_time_then_late_then_not_at_all() {
    let run = default_run();
    let invoices = run.invoices();
    let payments = run.payments();
    let (mut before, mut before_late, mut after, mut after_late) = (0, 0, 0, 0);
    for (id, truth) in &run.truth.payments {
        let debtor = &run.truth.debtors[&truth.debtor_id];
        let Some(turn) = debtor.turns_bad_on else {
            continue;
        };
        if truth.is_reversed {
            continue;
        }
        let due = invoices[truth.allocations[0].invoice_number.as_str()].due_date;
        let late = payments[id.as_str()].value_date > crate::support::pay_by(due);
        if due < turn {
            before += 1;
            before_late += u32::from(late);
        } else {
            after += 1;
            after_late += u32::from(late);
        }
    }
    let before_share = f64::from(before_late) / f64::from(before);
    let after_share = f64::from(after_late) / f64::from(after);
    assert!(before_share < 0.05, "before the turn {before_share}");
    assert!(
        after_share > 0.3 && after_share > 8.0 * before_share,
        "after the turn {after_share}"
    );
    // They leave bad debt: most written-off invoices are theirs.
    let theirs = run
        .truth
        .written_off
        .iter()
        .filter(|n| {
            run.truth.debtors[&invoices[n.as_str()].debtor_id].behaviour == Behaviour::TurningBad
        })
        .count();
    assert!(
        theirs * 2 > run.truth.written_off.len(),
        "{theirs} of {}",
        run.truth.written_off.len()
    );
    assert!(
        run.truth
            .debtors
            .values()
            .filter(|d| d.stops_paying_on.is_some())
            .count()
            > 10
    );
}

#[test]
fn behaviours_leave_their_own_traces() {
    let run = default_run();
    let behaviour_of = |debtor: &str| run.truth.debtors[debtor].behaviour;
    // Per behaviour: payments, part payments, combined payments, reversals.
    let mut traces: BTreeMap<Behaviour, [u32; 4]> = BTreeMap::new();
    for p in run.truth.payments.values() {
        let t = traces.entry(behaviour_of(&p.debtor_id)).or_default();
        t[0] += 1;
        t[1] += u32::from(p.noise == NoiseKind::PartialWithReference);
        t[2] += u32::from(p.noise == NoiseKind::SeveralInvoices);
        t[3] += u32::from(p.is_reversed);
    }
    let rate = |b: Behaviour, i: usize| f64::from(traces[&b][i]) / f64::from(traces[&b][0]);
    assert!(rate(Behaviour::PartialPayer, 1) > 5.0 * rate(Behaviour::OnTime, 1).max(0.005));
    assert!(rate(Behaviour::CombinedPayer, 2) > 5.0 * rate(Behaviour::OnTime, 2));
    assert!(rate(Behaviour::ReversalProne, 3) > 5.0 * rate(Behaviour::OnTime, 3).max(0.001));

    let mut disputes: BTreeMap<Behaviour, u32> = BTreeMap::new();
    for d in run.truth.disputes.values() {
        *disputes.entry(behaviour_of(&d.debtor_id)).or_insert(0) += 1;
    }
    let disputer = disputes.get(&Behaviour::Disputer).copied().unwrap_or(0);
    let all: u32 = disputes.values().sum();
    assert!(
        disputer * 2 > all,
        "disputers opened {disputer} of {all} disputes"
    );
    assert!(
        run.truth
            .disputes
            .values()
            .any(|d| d.credit_note_number.is_some())
    );
}

#[test]
fn bureau_ratings_follow_behaviour() {
    let run = default_run();
    const GRADES: [&str; 10] = ["AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D"];
    let mut grades: BTreeMap<Behaviour, (f64, u32)> = BTreeMap::new();
    for e in &run.events {
        if let InputEvent::BureauRating(r) = &e.event {
            let grade = GRADES
                .iter()
                .position(|g| *g == r.rating)
                .expect("known grade");
            let entry = grades
                .entry(run.truth.debtors[&r.debtor_id].behaviour)
                .or_insert((0.0, 0));
            entry.0 += grade as f64;
            entry.1 += 1;
        }
    }
    let mean = |b: Behaviour| grades[&b].0 / f64::from(grades[&b].1);
    assert!(mean(Behaviour::OnTime) + 0.5 < mean(Behaviour::IncidentallyLate));
    assert!(mean(Behaviour::IncidentallyLate) + 1.0 < mean(Behaviour::StructurallyLate));
    assert!(mean(Behaviour::OnTime) + 1.5 < mean(Behaviour::PartialPayer));
}

#[test]
fn summer_is_slower_and_december_is_busier() {
    let run = default_run();
    let slow = run.lateness(|due| matches!(due.month(), 7 | 8));
    let normal = run.lateness(|due| matches!(due.month(), 3..=5));
    let share = |c: &BTreeMap<Behaviour, (u32, u32)>| {
        let (n, late) = c.values().fold((0, 0), |(n, l), &(a, b)| (n + a, l + b));
        f64::from(late) / f64::from(n)
    };
    assert!(
        share(&slow) > share(&normal) + 0.02,
        "{} vs {}",
        share(&slow),
        share(&normal)
    );

    let mut per_month = [0_u32; 12];
    for invoice in run.invoices().values() {
        per_month[invoice.issue_date.month0() as usize] += 1;
    }
    assert!(
        per_month[11] as f64 > 1.2 * per_month[7] as f64,
        "{per_month:?}"
    );
}
