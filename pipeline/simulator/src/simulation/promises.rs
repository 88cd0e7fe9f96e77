//! Promises to pay: a late debtor promises a date; at the end of that date the truth
//! records whether money came in.

use chrono::{DateTime, Utc};
use events::{Currency, InputEvent, PromiseToPay};

use super::accounts::{ItemState, cents, invoice_number};
use super::{Action, END_OF_DAY, Simulator};
use crate::calendar::HOUR;
use crate::truth::PromiseTruth;

impl Simulator {
    pub(super) fn promise(
        &mut self,
        d: usize,
        seq: u32,
        promised_day: i32,
        kept: bool,
        time: DateTime<Utc>,
    ) {
        let st = &self.debtors[d];
        let Some(index) = st.find(seq) else { return };
        let item = &st.open[index];
        if item.state != ItemState::Open {
            return;
        }
        let promise = self.out.next_promise;
        self.out.next_promise += 1;
        let promise_id = format!("PTP-{promise:07}");
        let open = item.open;
        let number = invoice_number(seq);
        let promised_date = self.cal.date(promised_day);
        self.out.emit(
            format!("ptp-{promise_id}"),
            time,
            InputEvent::PromiseToPay(PromiseToPay {
                promise_id: promise_id.clone(),
                debtor_id: st.debtor.id.clone(),
                promised_date,
                amount: cents(item.open),
                currency: Currency::EUR,
                invoice_numbers: vec![number.clone()],
            }),
        );
        self.out.truth.promises.insert(
            promise_id,
            PromiseTruth {
                debtor_id: st.debtor.id.clone(),
                invoice_numbers: vec![number],
                promised_date,
                kept,
            },
        );
        // On the promised date the truth records what really happened.
        self.schedule.on(
            promised_day,
            END_OF_DAY - HOUR,
            Action::PromiseDue {
                debtor: d as u32,
                invoice: seq,
                promise,
                open,
            },
        );
    }

    /// The end of a promised day: kept if money came in on the invoice since the promise.
    pub(super) fn promise_due(&mut self, d: usize, seq: u32, promise: u32, open_then: i64) {
        let st = &self.debtors[d];
        let paid = st.find(seq).is_none_or(|i| {
            st.open[i].open < open_then || st.open[i].state == ItemState::Collected
        });
        if let Some(truth) = self
            .out
            .truth
            .promises
            .get_mut(&format!("PTP-{promise:07}"))
        {
            truth.kept = paid;
        }
    }
}
