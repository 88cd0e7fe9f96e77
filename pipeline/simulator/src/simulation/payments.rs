//! Paying: bank transfers remitted as their noise kind, part payments and their rests,
//! combined payers' monthly runs, direct-debit collections and their returns.

use chrono::{DateTime, Utc};
use events::{Currency, InputEvent, PaymentMethod, PaymentReceived, PaymentReversed};

use super::accounts::{Item, ItemState, cents, invoice_number, payment_reference};
use super::{Action, PayMode, Simulator, run_day_after, time_of_day};
use crate::behaviour::Behaviour;
use crate::iban;
use crate::names;
use crate::portfolio::ReferenceStyle;
use crate::remittance::{self, NoiseKind};
use crate::reversal;
use crate::rng::Rng;
use crate::truth::{Allocation, PaymentTruth};

/// A payment before it is written.
pub(super) struct Draft {
    pub(super) kind: NoiseKind,
    pub(super) method: PaymentMethod,
    pub(super) allocations: Vec<(u32, i64)>,
    pub(super) unapplied: i64,
    pub(super) remittance: Option<String>,
    pub(super) structured: Option<String>,
    pub(super) stranger: bool,
}

impl Simulator {
    pub(super) fn pay(&mut self, d: usize, seq: u32, mode: PayMode, day: i32, time: DateTime<Utc>) {
        let st = &mut self.debtors[d];
        let Some(index) = st.find(seq) else { return };
        let item = &st.open[index];
        // An invoice on a payment plan is paid as the debtor would have paid it anyway,
        // if that comes first: taking a plan never delays a payment.
        if item.state != ItemState::Open {
            return;
        }
        // A behaviour forces its kind only when the mix allows that kind at all.
        let forced_partial = mode == PayMode::Regular
            && self.config.noise.partial_with_reference > 0.0
            && item.open == item.amount
            && item.amount >= 2000
            && st.rng.bernoulli(st.debtor.profile.partial_probability());
        let others: Vec<u32> = if matches!(mode, PayMode::Regular | PayMode::AfterReturn) {
            st.open
                .iter()
                .filter(|o| {
                    o.seq != seq
                        && o.state == ItemState::Open
                        && !o.abandoned
                        && o.open == o.amount
                        && o.issue_day < day
                })
                .map(|o| o.seq)
                .take(3)
                .collect()
        } else {
            Vec::new()
        };
        let kind = if forced_partial {
            NoiseKind::PartialWithReference
        } else {
            let applicable = self.applicable(d, index, mode, !others.is_empty());
            let st = &mut self.debtors[d];
            self.out.quota.draw(&mut st.rng, &applicable)
        };
        let mut items = vec![seq];
        if kind == NoiseKind::SeveralInvoices {
            let st = &mut self.debtors[d];
            let k = st.rng.range_i64(1, others.len() as i64) as usize;
            items.extend(others.iter().take(k));
        }
        self.transfer(d, kind, &items, day, time);
    }

    /// Which kinds a single-invoice payment of item `index` can take.
    pub(super) fn applicable(
        &self,
        d: usize,
        index: usize,
        mode: PayMode,
        has_others: bool,
    ) -> [bool; 10] {
        let st = &self.debtors[d];
        let item = &st.open[index];
        let unique = st.amount_is_unique(item.open);
        let other_reference = unique
            && (st.open.iter().any(|o| {
                o.seq != item.seq && o.state != ItemState::Collected && o.amount != item.open
            }) || st.recent.iter().any(|r| r.1 != item.open));
        NoiseKind::ALL.map(|kind| match kind {
            NoiseKind::StructuredReference => item.reference.is_some(),
            NoiseKind::InvoiceNumberExact
            | NoiseKind::InvoiceNumberTypo
            | NoiseKind::Overpayment
            | NoiseKind::UnknownPayer => true,
            NoiseKind::SeveralInvoices => has_others,
            NoiseKind::NoReferenceAmountMatch => unique,
            NoiseKind::PartialWithReference => {
                mode != PayMode::Rest && item.open == item.amount && item.amount >= 2000
            }
            NoiseKind::ShortByBankCosts => item.open >= (10 * self.tolerance_cents).max(2500),
            NoiseKind::OtherInvoiceReference => other_reference,
        })
    }

    /// A payment by bank transfer of `items` (the first is the one the payer has in
    /// mind) remitted as `kind`.
    pub(super) fn transfer(
        &mut self,
        d: usize,
        kind: NoiseKind,
        items: &[u32],
        day: i32,
        time: DateTime<Utc>,
    ) {
        let tolerance = self.tolerance_cents;
        let st = &mut self.debtors[d];
        let Some(main_index) = st.find(items[0]) else {
            return;
        };
        let main = st.open[main_index].clone();
        let number = invoice_number(main.seq);
        let country = st.debtor.country;
        let rng = &mut st.rng;
        let reference_or_text = |rng: &mut Rng| -> (Option<String>, Option<String>) {
            match main.reference {
                Some(style) if rng.bernoulli(0.5) => {
                    (None, Some(payment_reference(style, main.seq)))
                }
                _ => (Some(remittance::invoice_text(&number, country, rng)), None),
            }
        };
        let mut draft = Draft {
            kind,
            method: PaymentMethod::BankTransfer,
            allocations: vec![(main.seq, main.open)],
            unapplied: 0,
            remittance: None,
            structured: None,
            stranger: false,
        };
        match kind {
            NoiseKind::StructuredReference => {
                draft.structured = main
                    .reference
                    .map(|style| payment_reference(style, main.seq));
            }
            NoiseKind::InvoiceNumberExact => {
                draft.remittance = Some(remittance::invoice_text(&number, country, rng));
            }
            NoiseKind::InvoiceNumberTypo => {
                let mangled = remittance::mangled_number(&number, rng);
                draft.remittance = Some(remittance::invoice_text(&mangled, country, rng));
            }
            NoiseKind::SeveralInvoices => {
                draft.allocations = items
                    .iter()
                    .filter_map(|s| {
                        st.open
                            .iter()
                            .find(|i| i.seq == *s)
                            .map(|i| (i.seq, i.open))
                    })
                    .collect();
                let rng = &mut st.rng;
                draft.remittance = if rng.bernoulli(0.5) {
                    let numbers: Vec<String> = draft
                        .allocations
                        .iter()
                        .map(|a| invoice_number(a.0))
                        .collect();
                    Some(remittance::several_text(&numbers, country, rng))
                } else {
                    remittance::generic_text(country, rng)
                };
            }
            NoiseKind::NoReferenceAmountMatch => {
                draft.remittance = remittance::generic_text(country, rng);
            }
            NoiseKind::PartialWithReference => {
                let fraction = rng.uniform(0.2, 0.8);
                let mut paid = ((main.open as f64 * fraction / 100.0).round() as i64) * 100;
                if paid <= 0 || paid >= main.open {
                    paid = (main.open / 2).max(1);
                }
                draft.allocations = vec![(main.seq, paid)];
                (draft.remittance, draft.structured) = reference_or_text(rng);
            }
            NoiseKind::ShortByBankCosts => {
                let common = [35, 50, 75, 100, 125, 150, 200, 250];
                let cost = if rng.bernoulli(0.6) {
                    rng.pick(&common)
                } else {
                    rng.range_i64(1, tolerance)
                }
                .min(tolerance);
                draft.allocations = vec![(main.seq, main.open - cost)];
                (draft.remittance, draft.structured) = reference_or_text(rng);
            }
            NoiseKind::Overpayment => {
                let next_ten = (main.open / 1000 + 1) * 1000;
                draft.unapplied = if rng.bernoulli(0.4) {
                    next_ten - main.open
                } else {
                    rng.range_i64(1, (main.open / 20).max(100))
                };
                (draft.remittance, draft.structured) = reference_or_text(rng);
            }
            NoiseKind::OtherInvoiceReference => {
                let mut candidates: Vec<(u32, Option<ReferenceStyle>)> = st
                    .open
                    .iter()
                    .filter(|o| {
                        o.seq != main.seq
                            && o.state != ItemState::Collected
                            && o.amount != main.open
                    })
                    .map(|o| (o.seq, o.reference))
                    .collect();
                candidates.extend(
                    st.recent
                        .iter()
                        .filter(|r| r.1 != main.open)
                        .map(|r| (r.0, r.2)),
                );
                let rng = &mut st.rng;
                if let Some(&(other, style)) =
                    candidates.get(rng.below(candidates.len() as u64) as usize)
                {
                    match style {
                        Some(style) if rng.bernoulli(0.5) => {
                            draft.structured = Some(payment_reference(style, other));
                        }
                        _ => {
                            draft.remittance = Some(remittance::invoice_text(
                                &invoice_number(other),
                                country,
                                rng,
                            ));
                        }
                    }
                } else {
                    draft.kind = NoiseKind::InvoiceNumberExact;
                    draft.remittance = Some(remittance::invoice_text(&number, country, rng));
                }
            }
            NoiseKind::UnknownPayer => {
                draft.stranger = true;
                draft.remittance = remittance::generic_text(country, rng);
            }
        }
        self.book(d, draft, day, time, None);

        if kind == NoiseKind::PartialWithReference {
            self.plan_rest(d, main.seq, day);
        }
    }

    /// After a part payment: the rest is paid later, or never.
    pub(super) fn plan_rest(&mut self, d: usize, seq: u32, day: i32) {
        let st = &mut self.debtors[d];
        let Some(index) = st.find(seq) else { return };
        if st
            .rng
            .bernoulli(st.debtor.profile.abandons_rest_probability())
        {
            st.open[index].abandoned = true;
            self.out.truth.written_off.insert(invoice_number(seq));
            return;
        }
        let delay = if st.debtor.profile.behaviour == Behaviour::PartialPayer {
            st.rng.range_i64(10, 40)
        } else {
            st.rng.range_i64(3, 15)
        } as i32;
        let second = time_of_day(&mut st.rng, 7, 20);
        self.schedule.on(
            self.cal.business_day(day + delay),
            second,
            Action::Pay {
                debtor: d as u32,
                invoice: seq,
                mode: PayMode::Rest,
            },
        );
    }

    /// Writes a payment, records its truth and applies it to the open items. `collection`
    /// carries the end-to-end id of a direct debit.
    pub(super) fn book(
        &mut self,
        d: usize,
        draft: Draft,
        day: i32,
        time: DateTime<Utc>,
        collection: Option<String>,
    ) -> String {
        let st = &mut self.debtors[d];
        let payment_id = format!("TX-{:09}", self.out.next_payment);
        self.out.next_payment += 1;
        self.out.quota.record(draft.kind);
        let allocated: i64 = draft.allocations.iter().map(|a| a.1).sum();
        let amount = allocated + draft.unapplied;
        let (name, iban) = if draft.stranger {
            let name = (st.rng.bernoulli(0.7)).then(|| names::stranger_name(&mut st.rng));
            let country = st.rng.pick(&["NL", "DE", "BE", "FR"]);
            (name, Some(iban::generate(country, &mut st.rng)))
        } else {
            let name = if st.rng.bernoulli(0.2) {
                st.debtor.name.to_uppercase()
            } else {
                st.debtor.name.clone()
            };
            (Some(name), Some(st.debtor.iban.clone()))
        };
        let direct = draft.method == PaymentMethod::DirectDebit;
        self.out.emit(
            format!("pay-{payment_id}"),
            time,
            InputEvent::PaymentReceived(PaymentReceived {
                payment_id: payment_id.clone(),
                amount: cents(amount),
                currency: Currency::EUR,
                value_date: self.cal.date(day),
                method: draft.method,
                counterparty_name: name,
                counterparty_iban: iban,
                remittance_text: draft.remittance,
                structured_reference: draft.structured,
                end_to_end_id: collection,
                debtor_id: direct.then(|| st.debtor.id.clone()),
            }),
        );
        self.out.truth.payments.insert(
            payment_id.clone(),
            PaymentTruth {
                debtor_id: st.debtor.id.clone(),
                allocations: draft
                    .allocations
                    .iter()
                    .map(|&(seq, c)| Allocation {
                        invoice_number: invoice_number(seq),
                        amount: cents(c),
                    })
                    .collect(),
                unapplied: cents(draft.unapplied),
                noise: draft.kind,
                method: draft.method,
                is_reversed: false,
                reversal_reason: None,
            },
        );
        if !direct {
            for &(seq, paid) in &draft.allocations {
                if let Some(index) = st.find(seq) {
                    // Money reached an invoice thought lost (a response brought it): it is
                    // not written off after all.
                    if st.open[index].abandoned {
                        st.open[index].abandoned = false;
                        self.out.truth.written_off.remove(&invoice_number(seq));
                    }
                    st.open[index].open -= paid;
                    // A payment short by bank costs settles the item: the ledger writes
                    // the rest off within its tolerance.
                    if st.open[index].open <= 0 || draft.kind == NoiseKind::ShortByBankCosts {
                        st.settle(index);
                    }
                }
            }
        }
        payment_id
    }

    pub(super) fn collect(&mut self, d: usize, seq: u32, day: i32, time: DateTime<Utc>) {
        let st = &mut self.debtors[d];
        let Some(index) = st.find(seq) else { return };
        if st.open[index].state != ItemState::Open {
            return;
        }
        if !st.mandate {
            // The mandate was revoked after this collection was planned.
            self.plan_transfer(d, seq, day);
            return;
        }
        let item = &mut st.open[index];
        item.collections = item.collections.saturating_add(1);
        let item = item.clone();
        let number = invoice_number(seq);
        let draft = Draft {
            kind: NoiseKind::StructuredReference,
            method: PaymentMethod::DirectDebit,
            allocations: vec![(seq, item.open)],
            unapplied: 0,
            remittance: Some(number.clone()),
            structured: item.reference.map(|style| payment_reference(style, seq)),
            stranger: false,
        };
        let profile = &st.debtor.profile;
        let weight = profile.reversal_weight(day);
        let broke = profile.has_stopped(day);
        let returned = self.out.reversals.decide(weight, broke, &mut st.rng);
        let return_day = self.cal.business_day(day + st.rng.range_i64(2, 5) as i32);
        let second = time_of_day(&mut st.rng, 6, 9);
        let payment = self.out.next_payment;
        let end_to_end = format!("{number}-{}", item.collections);
        self.book(d, draft, day, time, Some(end_to_end));
        let st = &mut self.debtors[d];
        if returned {
            st.open[index].state = ItemState::Collected;
            self.schedule.on(
                return_day,
                second,
                Action::Return {
                    debtor: d as u32,
                    invoice: seq,
                    payment,
                    cents: item.open,
                },
            );
        } else {
            st.settle(index);
        }
    }

    pub(super) fn return_collection(
        &mut self,
        d: usize,
        seq: u32,
        payment: u64,
        amount: i64,
        day: i32,
        time: DateTime<Utc>,
    ) {
        let debtor = d as u32;
        let st = &mut self.debtors[d];
        let Some(index) = st.find(seq) else { return };
        st.open[index].state = ItemState::Open;
        let broke = st.debtor.profile.has_stopped(day);
        let turned = st.debtor.profile.has_turned(day);
        let reason = if broke {
            reversal::bad_debt_reason(&mut st.rng)
        } else {
            reversal::reason(&mut st.rng)
        };
        let payment_id = format!("TX-{payment:09}");
        self.out.emit(
            format!("rev-{payment_id}"),
            time,
            InputEvent::PaymentReversed(PaymentReversed {
                payment_id: payment_id.clone(),
                amount: cents(amount),
                currency: Currency::EUR,
                value_date: self.cal.date(day),
                reason_code: reason.to_owned(),
                debtor_id: Some(st.debtor.id.clone()),
            }),
        );
        if let Some(truth) = self.out.truth.payments.get_mut(&payment_id) {
            truth.is_reversed = true;
            truth.reversal_reason = Some(reason.to_owned());
        }
        if broke || (turned && st.rng.bernoulli(0.5)) {
            // No money left: the mandate is cancelled, the debtor pays by transfer (late)
            // if at all.
            st.mandate = false;
            st.version += 1;
            let (id, event) = self.debtor_event(d);
            self.out.emit(id, time, event);
            self.plan_transfer(d, seq, day);
            return;
        }
        if st.rng.bernoulli(0.6) {
            let again = self.cal.business_day(day + st.rng.range_i64(7, 14) as i32);
            let second = time_of_day(&mut st.rng, 5, 6);
            self.schedule.on(
                again,
                second,
                Action::Collect {
                    debtor,
                    invoice: seq,
                },
            );
        } else {
            let pay_day = self.cal.business_day(day + st.rng.range_i64(3, 15) as i32);
            let second = time_of_day(&mut st.rng, 7, 20);
            self.schedule.on(
                pay_day,
                second,
                Action::Pay {
                    debtor,
                    invoice: seq,
                    mode: PayMode::AfterReturn,
                },
            );
        }
    }

    /// A combined payer's monthly run: everything due within ten days goes in one payment.
    pub(super) fn payment_run(&mut self, d: usize, day: i32, time: DateTime<Utc>) {
        let debtor = d as u32;
        let run_day = self.debtors[d].debtor.profile.run_day;
        let next = run_day_after(&self.cal, day, run_day);
        let st = &mut self.debtors[d];
        let second = time_of_day(&mut st.rng, 9, 15);
        self.schedule.on(next, second, Action::Run { debtor });
        if st.rng.bernoulli(0.1) {
            return; // this month's run is skipped
        }
        let mut due: Vec<&Item> = st
            .open
            .iter()
            .filter(|i| {
                i.state == ItemState::Open
                    && !i.abandoned
                    && i.issue_day < day
                    && i.due_day <= day + 10
            })
            .collect();
        due.sort_by_key(|i| (i.due_day, i.seq));
        let items: Vec<u32> = due.iter().take(12).map(|i| i.seq).collect();
        if items.len() >= 2 && self.config.noise.several_invoices > 0.0 {
            self.transfer(d, NoiseKind::SeveralInvoices, &items, day, time);
        } else {
            for seq in items {
                self.pay(d, seq, PayMode::Regular, day, time);
            }
        }
    }
}
