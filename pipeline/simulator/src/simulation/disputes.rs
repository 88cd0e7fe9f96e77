//! Disputes: a debtor disputes (part of) an invoice; the dispute is settled weeks later
//! for the debtor (with a credit note), for the invoice, or withdrawn, and the invoice is
//! then paid.

use chrono::{DateTime, Utc};
use events::{
    CreditNoteIssued, Currency, DisputeOpened, DisputeOutcome, DisputeResolved, InputEvent,
};

use super::accounts::{ItemState, cents, invoice_number};
use super::{Action, PayMode, Simulator, time_of_day};
use crate::truth::DisputeTruth;

/// Dispute reasons as a debtor states them.
const DISPUTE_REASONS: [&str; 6] = [
    "goods damaged on delivery",
    "price differs from the quotation",
    "service not delivered",
    "quantity invoiced is wrong",
    "already paid",
    "invoice sent to the wrong department",
];

impl Simulator {
    pub(super) fn open_dispute(&mut self, d: usize, seq: u32, day: i32, time: DateTime<Utc>) {
        let debtor = d as u32;
        let st = &mut self.debtors[d];
        let Some(index) = st.find(seq) else { return };
        let item = &st.open[index];
        if item.state != ItemState::Open || item.open != item.amount {
            // Partly paid in the meantime: nothing to dispute, it gets paid instead.
            self.plan_transfer(d, seq, day);
            return;
        }
        let dispute = self.out.next_dispute;
        self.out.next_dispute += 1;
        let dispute_id = format!("DSP-{dispute:07}");
        let partial = st.rng.bernoulli(0.4).then(|| {
            let share = st.rng.uniform(0.2, 0.6);
            ((item.amount as f64 * share).round() as i64).clamp(1, item.amount)
        });
        let reason = st.rng.pick(&DISPUTE_REASONS);
        let number = invoice_number(seq);
        self.out.emit(
            format!("dsp-{dispute_id}-opened"),
            time,
            InputEvent::DisputeOpened(DisputeOpened {
                dispute_id: dispute_id.clone(),
                debtor_id: st.debtor.id.clone(),
                invoice_number: number.clone(),
                amount: partial.map(cents),
                reason: reason.to_owned(),
            }),
        );
        self.out.truth.disputes.insert(
            dispute_id,
            DisputeTruth {
                debtor_id: st.debtor.id.clone(),
                invoice_number: number,
                outcome: None,
                credit_note_number: None,
            },
        );
        st.open[index].state = ItemState::Disputed;
        let resolve_day = self.cal.business_day(day + st.rng.range_i64(10, 45) as i32);
        let second = time_of_day(&mut st.rng, 9, 17);
        self.schedule.on(
            resolve_day,
            second,
            Action::ResolveDispute {
                debtor,
                invoice: seq,
                dispute,
                cents: partial.unwrap_or(0),
            },
        );
    }

    pub(super) fn resolve_dispute(
        &mut self,
        d: usize,
        seq: u32,
        dispute: u32,
        disputed: i64,
        day: i32,
        time: DateTime<Utc>,
    ) {
        let debtor = d as u32;
        let st = &mut self.debtors[d];
        let Some(index) = st.find(seq) else { return };
        st.open[index].state = ItemState::Open;
        let outcome = st.rng.pick_weighted(&[
            (DisputeOutcome::DebtorUpheld, 0.4),
            (DisputeOutcome::InvoiceUpheld, 0.4),
            (DisputeOutcome::Withdrawn, 0.2),
        ]);
        let dispute_id = format!("DSP-{dispute:07}");
        let number = invoice_number(seq);
        self.out.emit(
            format!("dsp-{dispute_id}-resolved"),
            time,
            InputEvent::DisputeResolved(DisputeResolved {
                dispute_id: dispute_id.clone(),
                debtor_id: st.debtor.id.clone(),
                invoice_number: number.clone(),
                outcome,
            }),
        );
        let mut credit_note_number = None;
        let pay_after = match outcome {
            DisputeOutcome::DebtorUpheld => {
                let open = st.open[index].open;
                let credit = if disputed > 0 {
                    disputed.min(open)
                } else {
                    open
                };
                let cn = format!("CN-{:07}", self.out.next_credit_note);
                self.out.next_credit_note += 1;
                self.out.emit(
                    format!("cn-{cn}"),
                    time,
                    InputEvent::CreditNoteIssued(CreditNoteIssued {
                        credit_note_number: cn.clone(),
                        debtor_id: st.debtor.id.clone(),
                        amount: cents(credit),
                        currency: Currency::EUR,
                        issue_date: self.cal.date(day),
                        invoice_number: Some(number),
                    }),
                );
                credit_note_number = Some(cn);
                st.open[index].open -= credit;
                if st.open[index].open <= 0 {
                    st.settle(index);
                    None
                } else {
                    Some(st.rng.range_i64(2, 10))
                }
            }
            DisputeOutcome::InvoiceUpheld => Some(st.rng.range_i64(3, 15)),
            DisputeOutcome::Withdrawn => Some(st.rng.range_i64(1, 7)),
        };
        if let Some(truth) = self.out.truth.disputes.get_mut(&dispute_id) {
            truth.outcome = Some(outcome);
            truth.credit_note_number = credit_note_number;
        }
        if let Some(delay) = pay_after {
            let second = time_of_day(&mut st.rng, 7, 20);
            self.schedule.on(
                self.cal.business_day(day + delay as i32),
                second,
                Action::Pay {
                    debtor,
                    invoice: seq,
                    mode: PayMode::AfterDispute,
                },
            );
        }
    }
}
