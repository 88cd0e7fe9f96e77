//! The [`Simulator`]: a discrete-event run over the portfolio. Every action (issue an
//! invoice, pay, collect a direct debit, return it, open or settle a dispute, promise,
//! rate, tick the clock) is planned on the agenda at an instant; taking the earliest
//! action changes the debtor's open items, writes its events, records the truth and plans
//! what follows. Events therefore come out in non-decreasing event time, and only what is
//! still to happen is held in memory.
//!
//! This module holds the run itself (master data, invoicing and each invoice's fate,
//! ratings, clock ticks); its children the rest: `accounts` (a debtor's open items),
//! `payments` (transfers, part payments, payment runs, direct debits and returns),
//! `disputes` and `promises`.

mod accounts;
mod disputes;
mod payments;
mod promises;
mod responses;

use std::collections::VecDeque;
use std::io::{self, Write};

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use events::{
    BureauRating, ClockTick, Currency, DebtorUpdated, Envelope, InputEvent, InvoiceIssued,
    PaymentMethod,
};
use rust_decimal::Decimal;

use self::accounts::{DebtorState, Item, ItemState, cents, invoice_number, payment_reference};
use crate::agenda::Agenda;
use crate::behaviour::Behaviour;
use crate::bureau;
use crate::calendar::{Calendar, DAY, HOUR, at, day_of_instant};
use crate::config::{SimConfig, ValidSimConfig};
use crate::portfolio::draw_debtor;
use crate::remittance::KindQuota;
use crate::reversal::ReversalRate;
use crate::rng::Rng;
use crate::truth::{DebtorTruth, GroundTruth};

/// Second of the day of the clock tick: the last one.
const END_OF_DAY: i64 = DAY - 1;

/// Salt of the debtors' response streams (`Rng::stream(seed ^ this, index)`).
const RESPONSE_STREAMS: u64 = 0x7265_7370_6f6e_7365;

/// Salt of the invoices' fate streams (`Rng::stream(seed ^ this, debtor << 32 | order)`).
const FATE_STREAMS: u64 = 0x6661_7465_7300_0001;

/// Salt of the debtors' order streams (invoices and their fates).
const ORDER_STREAMS: u64 = 0x6f72_6465_7273_0001;

/// Largest invoice, in cents (one million EUR).
const MAX_INVOICE_CENTS: i64 = 100_000_000;

/// Why a payment is made, which decides the kinds it may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PayMode {
    /// The invoice's first payment.
    Regular,
    /// The rest after a part payment.
    Rest,
    /// After a dispute was settled.
    AfterDispute,
    /// After a returned direct debit, by transfer.
    AfterReturn,
}

/// One planned action. Small and `Copy`: the details live in the debtor's state.
#[derive(Debug, Clone, Copy)]
enum Action {
    MasterData {
        debtor: u32,
    },
    Issue {
        debtor: u32,
    },
    Pay {
        debtor: u32,
        invoice: u32,
        mode: PayMode,
    },
    Collect {
        debtor: u32,
        invoice: u32,
    },
    Return {
        debtor: u32,
        invoice: u32,
        payment: u64,
        cents: i64,
    },
    Run {
        debtor: u32,
    },
    OpenDispute {
        debtor: u32,
        invoice: u32,
    },
    ResolveDispute {
        debtor: u32,
        invoice: u32,
        dispute: u32,
        cents: i64,
    },
    Promise {
        debtor: u32,
        invoice: u32,
        promised_day: i32,
        kept: bool,
    },
    PromiseDue {
        debtor: u32,
        invoice: u32,
        promise: u32,
        open: i64,
    },
    Rating {
        debtor: u32,
    },
    /// A payment of the whole open amount brought forward by a response.
    Settle {
        debtor: u32,
        invoice: u32,
    },
    /// An installment of a plan the debtor took (`kept`: paid, otherwise missed).
    Installment {
        debtor: u32,
        invoice: u32,
        plan: u8,
        cents: i64,
        last: bool,
        kept: bool,
    },
    Tick {
        day: i32,
    },
}

/// Where a debtor's draws come from for a while, instead of its payment stream (`rng`).
enum Stream {
    /// Its invoices and ratings.
    Orders,
    /// Its responses to what it receives.
    Reply,
    /// A stream of one thing's own (an invoice's fate).
    Own(Rng),
}

/// Everything the run writes: the events ready to hand out, the truth, the id counters
/// and the mix controllers.
struct Output {
    ready: VecDeque<Envelope>,
    truth: GroundTruth,
    quota: KindQuota,
    reversals: ReversalRate,
    next_invoice: u32,
    next_payment: u64,
    next_credit_note: u32,
    next_dispute: u32,
    next_promise: u32,
}

impl Output {
    fn emit(&mut self, event_id: String, time: DateTime<Utc>, event: InputEvent) {
        self.ready.push_back(Envelope::new(event_id, time, event));
    }
}

/// Plans actions, dropping those after the end of the run.
struct Schedule {
    agenda: Agenda<Action>,
    end_day: i32,
}

impl Schedule {
    fn on(&mut self, day: i32, second: i64, action: Action) {
        if day < self.end_day {
            self.agenda.plan(at(day, second), action);
        }
    }
}

/// A second of the day between `from` and `to` o'clock.
fn time_of_day(rng: &mut Rng, from: i64, to: i64) -> i64 {
    from * HOUR + rng.range_i64(0, (to - from) * HOUR - 1)
}

/// The first business day after `day` that falls on day `run_day` of a month (moved
/// past a weekend).
fn run_day_after(cal: &Calendar, day: i32, run_day: u32) -> i32 {
    let date = cal.date(day);
    let this_month = NaiveDate::from_ymd_opt(date.year(), date.month(), run_day);
    let candidate = match this_month {
        Some(c) if cal.day_of(c) > day => c,
        _ => this_month
            .and_then(|c| c.checked_add_months(Months::new(1)))
            .unwrap_or(date),
    };
    cal.business_day(cal.day_of(candidate)).max(day + 1)
}

/// A deterministic synthetic portfolio, run as an iterator of input events.
///
/// ```
/// use simulator::{SimConfig, Simulator};
/// let config = SimConfig { debtors: 20, months: 2, ..SimConfig::default() };
/// let mut sim = Simulator::new(config.check().expect("valid config"));
/// let events: Vec<_> = sim.by_ref().collect();
/// assert!(events.windows(2).all(|w| w[0].event_time <= w[1].event_time));
/// assert_eq!(sim.truth().debtors.len(), 20);
/// ```
pub struct Simulator {
    config: SimConfig,
    cal: Calendar,
    days: i32,
    debtors: Vec<DebtorState>,
    schedule: Schedule,
    out: Output,
    tolerance_cents: i64,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("config", &self.config)
            .field("planned", &self.schedule.agenda.len())
            .field("ready", &self.out.ready.len())
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Draws the portfolio and plans the first actions; no event is made before the
    /// first call to `next`.
    pub fn new(config: ValidSimConfig) -> Simulator {
        let days = i32::try_from(config.days()).unwrap_or(i32::MAX);
        let config = config.config().clone();
        let cal = Calendar::new(config.start);
        let mut truth = GroundTruth::default();
        let mut debtors = Vec::with_capacity(config.debtors as usize);
        for index in 0..config.debtors {
            let (debtor, rng) = draw_debtor(index, config.seed, &config.behaviours, days);
            let profile = &debtor.profile;
            let on = |day: i32| (day < days).then(|| cal.date(day));
            truth.debtors.insert(
                debtor.id.clone(),
                DebtorTruth {
                    behaviour: profile.behaviour,
                    debtor_type: debtor.debtor_type,
                    payment_method: debtor.method,
                    country: debtor.country.to_owned(),
                    turns_bad_on: on(profile.turn_day),
                    stops_paying_on: on(profile.stop_day),
                },
            );
            let inv = &debtor.invoicing;
            let fee_cents =
                (((inv.median_cents / 100.0).round() as i64) * 100 - 5).max(inv.min_cents);
            debtors.push(DebtorState {
                mandate: debtor.method == PaymentMethod::DirectDebit,
                debtor,
                rng,
                open: Vec::new(),
                recent: VecDeque::new(),
                version: 0,
                fee_cents,
                held: false,
                reply: Rng::stream(config.seed ^ RESPONSE_STREAMS, u64::from(index)),
                orders: Rng::stream(config.seed ^ ORDER_STREAMS, u64::from(index)),
                orders_placed: 0,
            });
        }
        let mut schedule = Schedule {
            agenda: Agenda::default(),
            end_day: days,
        };
        schedule.on(0, 0, Action::MasterData { debtor: 0 });
        if config.tick_daily {
            schedule.on(0, END_OF_DAY, Action::Tick { day: 0 });
        }
        let tolerance_cents = (config.noise.bank_cost_tolerance * Decimal::ONE_HUNDRED)
            .trunc()
            .try_into()
            .unwrap_or(250_i64);
        Simulator {
            out: Output {
                ready: VecDeque::new(),
                truth,
                quota: KindQuota::new(&config.noise),
                reversals: ReversalRate::new(config.noise.reversals),
                next_invoice: 1,
                next_payment: 1,
                next_credit_note: 1,
                next_dispute: 1,
                next_promise: 1,
            },
            config,
            cal,
            days,
            debtors,
            schedule,
            tolerance_cents,
        }
    }

    /// The ground truth so far (complete once the iterator is exhausted).
    pub fn truth(&self) -> &GroundTruth {
        &self.out.truth
    }

    /// The ground truth, taking the simulator apart.
    pub fn into_truth(self) -> GroundTruth {
        self.out.truth
    }

    /// The configuration of the run.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The simulated date reached so far.
    pub fn current_date(&self) -> NaiveDate {
        self.cal.date(day_of_instant(self.schedule.agenda.now()))
    }

    /// Share of the simulated days done, from 0 to 1 (for a progress bar).
    pub fn progress(&self) -> f64 {
        if self.schedule.agenda.is_empty() && self.out.ready.is_empty() {
            return 1.0;
        }
        let day = day_of_instant(self.schedule.agenda.now());
        (f64::from(day) / f64::from(self.days.max(1))).clamp(0.0, 1.0)
    }

    /// Writes the remaining events as JSON lines (the wire form, one event a line) and
    /// returns how many were written.
    pub fn write_jsonl(&mut self, w: &mut impl Write) -> io::Result<u64> {
        let mut written = 0;
        for envelope in self.by_ref() {
            w.write_all(&envelope.to_json())?;
            w.write_all(b"\n")?;
            written += 1;
        }
        Ok(written)
    }

    fn act(&mut self, instant: i64, action: Action) {
        let day = day_of_instant(instant);
        let time = self.cal.instant(instant);
        match action {
            Action::MasterData { debtor } => self.master_data(debtor, instant, time),
            // An invoice and its fate, and a rating, come from the debtor's order stream:
            // the same whatever its payments did, so backtest arms share them.
            Action::Issue { debtor } => {
                let d = debtor as usize;
                self.drawing_from(d, Stream::Orders, |sim| sim.issue(d, day, time));
            }
            Action::Pay {
                debtor,
                invoice,
                mode,
            } => self.pay(debtor as usize, invoice, mode, day, time),
            Action::Collect { debtor, invoice } => {
                self.collect(debtor as usize, invoice, day, time)
            }
            Action::Return {
                debtor,
                invoice,
                payment,
                cents,
            } => self.return_collection(debtor as usize, invoice, payment, cents, day, time),
            Action::Run { debtor } => self.payment_run(debtor as usize, day, time),
            Action::OpenDispute { debtor, invoice } => {
                self.open_dispute(debtor as usize, invoice, day, time);
            }
            Action::ResolveDispute {
                debtor,
                invoice,
                dispute,
                cents,
            } => self.resolve_dispute(debtor as usize, invoice, dispute, cents, day, time),
            Action::Promise {
                debtor,
                invoice,
                promised_day,
                kept,
            } => self.promise(debtor as usize, invoice, promised_day, kept, time),
            Action::PromiseDue {
                debtor,
                invoice,
                promise,
                open,
            } => self.promise_due(debtor as usize, invoice, promise, open),
            Action::Rating { debtor } => {
                let d = debtor as usize;
                self.drawing_from(d, Stream::Orders, |sim| sim.rating(d, day, time));
            }
            Action::Settle { debtor, invoice } => self.settle(debtor as usize, invoice, day, time),
            Action::Installment {
                debtor,
                invoice,
                plan,
                cents,
                last,
                kept,
            } => self.installment(
                debtor as usize,
                invoice,
                (plan, cents, last, kept),
                day,
                time,
            ),
            Action::Tick { day } => self.tick(day, time),
        }
    }

    /// Runs `f` with debtor `d`'s draws coming from `stream` instead of its payment stream.
    fn drawing_from(&mut self, d: usize, stream: Stream, f: impl FnOnce(&mut Simulator)) {
        fn swap(st: &mut DebtorState, stream: &mut Stream) {
            match stream {
                Stream::Orders => std::mem::swap(&mut st.rng, &mut st.orders),
                Stream::Reply => std::mem::swap(&mut st.rng, &mut st.reply),
                Stream::Own(rng) => std::mem::swap(&mut st.rng, rng),
            }
        }
        let mut stream = stream;
        swap(&mut self.debtors[d], &mut stream);
        f(self);
        swap(&mut self.debtors[d], &mut stream);
    }

    fn debtor_event(&self, d: usize) -> (String, InputEvent) {
        let st = &self.debtors[d];
        let debtor = &st.debtor;
        let method = if st.mandate {
            PaymentMethod::DirectDebit
        } else {
            PaymentMethod::BankTransfer
        };
        (
            format!("dbt-{}-{}", debtor.id, st.version),
            InputEvent::DebtorUpdated(DebtorUpdated {
                debtor_id: debtor.id.clone(),
                name: debtor.name.clone(),
                debtor_type: debtor.debtor_type,
                country: debtor.country.to_owned(),
                payment_method: method,
                preferred_channel: debtor.channel,
                credit_limit: cents(debtor.credit_limit_cents),
                currency: Currency::EUR,
                ibans: vec![debtor.iban.clone()],
            }),
        )
    }

    /// Master data of one debtor at the start; plans its first invoice, rating and
    /// payment run, then the next debtor's master data at the same instant.
    fn master_data(&mut self, debtor: u32, instant: i64, time: DateTime<Utc>) {
        let d = debtor as usize;
        self.debtors[d].version += 1;
        let (id, event) = self.debtor_event(d);
        self.out.emit(id, time, event);

        let st = &mut self.debtors[d];
        // The first invoice comes as it would in a running portfolio: somewhere in the
        // first billing period, or after a random wait for irregular invoicing.
        let inv = &st.debtor.invoicing;
        let first = if inv.regular {
            st.rng.uniform(0.0, inv.mean_interval)
        } else {
            st.rng.exponential(inv.mean_interval).min(90.0)
        };
        let issue_day = self.cal.business_day(first as i32);
        self.schedule.on(
            issue_day,
            time_of_day(&mut st.rng, 8, 17),
            Action::Issue { debtor },
        );
        let rating_day = st.rng.range_i64(0, 20) as i32;
        self.schedule.on(
            rating_day,
            time_of_day(&mut st.rng, 2, 4),
            Action::Rating { debtor },
        );
        if st.debtor.profile.behaviour == Behaviour::CombinedPayer {
            let run = run_day_after(&self.cal, -1, st.debtor.profile.run_day);
            self.schedule
                .on(run, time_of_day(&mut st.rng, 9, 15), Action::Run { debtor });
        }
        if debtor + 1 < self.config.debtors {
            self.schedule
                .agenda
                .plan(instant, Action::MasterData { debtor: debtor + 1 });
        }
    }

    fn issue(&mut self, d: usize, day: i32, time: DateTime<Utc>) {
        let st = &mut self.debtors[d];
        let exposure: i64 = st.open.iter().map(|i| i.open).sum();
        let overdue = st.open.iter().any(|i| i.due_day < day);
        // Orders of a debtor over its limit with overdue items are blocked, and those of a
        // debtor on credit hold: no invoice.
        let blocked = (exposure > st.debtor.credit_limit_cents && overdue) || st.held;
        // The order's own stream for the invoice's fate, numbered by the debtor's orders
        // (blocked ones too): the fate of its n-th invoice is the same whatever happened
        // before it.
        let order = st.orders_placed;
        st.orders_placed += 1;
        // Drawn whether or not the order is blocked, so the debtor's invoices stay the same
        // draws whatever happens to its payments.
        let inv = &st.debtor.invoicing;
        let amount = if st.rng.bernoulli(inv.fixed_share) {
            st.fee_cents
        } else {
            (st.rng.lognormal(inv.median_cents, inv.sigma).round() as i64)
                .clamp(inv.min_cents, MAX_INVOICE_CENTS)
        };
        let reference = (st.mandate || st.rng.bernoulli(0.92)).then_some(st.debtor.reference_style);
        let mut issued = None;
        if !blocked {
            let seq = self.out.next_invoice;
            self.out.next_invoice += 1;
            let due_day = day + inv.terms;
            let number = invoice_number(seq);
            self.out.emit(
                format!("inv-{number}"),
                time,
                InputEvent::InvoiceIssued(InvoiceIssued {
                    invoice_number: number,
                    debtor_id: st.debtor.id.clone(),
                    amount: cents(amount),
                    currency: Currency::EUR,
                    issue_date: self.cal.date(day),
                    due_date: self.cal.date(due_day),
                    payment_reference: reference.map(|style| payment_reference(style, seq)),
                }),
            );
            st.open.push(Item {
                seq,
                amount,
                open: amount,
                issue_day: day,
                due_day,
                reference,
                state: ItemState::Open,
                collections: 0,
                abandoned: false,
                reminders: 0,
                on_plan: false,
                plan: 0,
                plan_missed: 0,
            });
            issued = Some(seq);
        }

        let inv = &st.debtor.invoicing;
        let season = self.cal.volume_factor(day);
        let interval = if inv.regular {
            inv.mean_interval * st.rng.uniform(0.93, 1.07) / season
        } else {
            st.rng.exponential(inv.mean_interval) / season
        };
        let next = self
            .cal
            .business_day(day + (interval.round() as i32).max(1));
        let second = time_of_day(&mut st.rng, 8, 17);
        self.schedule
            .on(next, second, Action::Issue { debtor: d as u32 });

        if let Some(seq) = issued {
            let fate = Rng::stream(
                self.config.seed ^ FATE_STREAMS,
                (d as u64) << 32 | u64::from(order),
            );
            self.drawing_from(d, Stream::Own(fate), |sim| sim.plan_fate(d, seq, day));
        }
    }

    /// Decides what happens to a new invoice: collected, paid in a run, disputed, paid on
    /// some day (with a promise on the way) or never paid.
    fn plan_fate(&mut self, d: usize, seq: u32, day: i32) {
        let debtor = d as u32;
        let st = &mut self.debtors[d];
        let Some(index) = st.find(seq) else { return };
        let (issue_day, due_day) = (st.open[index].issue_day, st.open[index].due_day);
        if st.mandate {
            let collect_day = self.cal.business_day(due_day);
            let second = time_of_day(&mut st.rng, 5, 6);
            self.schedule.on(
                collect_day,
                second,
                Action::Collect {
                    debtor,
                    invoice: seq,
                },
            );
            return;
        }
        if st.debtor.profile.behaviour == Behaviour::CombinedPayer {
            return; // paid by the monthly payment run
        }
        if st.rng.bernoulli(st.debtor.profile.dispute_probability()) {
            let latest = (st.debtor.invoicing.terms - 1).clamp(2, 12);
            let open_day = self
                .cal
                .business_day(issue_day + st.rng.range_i64(2, i64::from(latest)) as i32);
            let second = time_of_day(&mut st.rng, 9, 17);
            self.schedule.on(
                open_day,
                second,
                Action::OpenDispute {
                    debtor,
                    invoice: seq,
                },
            );
            return;
        }
        self.plan_transfer(d, seq, day);
    }

    /// Plans a bank transfer for an invoice from its behaviour's delay, and maybe a
    /// promise on the way; or writes it off when it will never be paid.
    fn plan_transfer(&mut self, d: usize, seq: u32, today: i32) {
        let debtor = d as u32;
        let st = &mut self.debtors[d];
        let Some(index) = st.find(seq) else { return };
        let (issue_day, due_day) = (st.open[index].issue_day, st.open[index].due_day);
        let profile = &st.debtor.profile;
        let (make, keep) = profile.promise_odds(due_day);
        match profile.payment_delay(due_day, &self.cal, &mut st.rng) {
            None => {
                st.open[index].abandoned = true;
                self.out.truth.written_off.insert(invoice_number(seq));
                if st.rng.bernoulli(make) {
                    let promise_day = self
                        .cal
                        .business_day(due_day.max(today) + st.rng.range_i64(7, 30) as i32);
                    let promised_day = promise_day + st.rng.range_i64(3, 14) as i32;
                    let second = time_of_day(&mut st.rng, 10, 17);
                    self.schedule.on(
                        promise_day,
                        second,
                        Action::Promise {
                            debtor,
                            invoice: seq,
                            promised_day,
                            kept: false,
                        },
                    );
                }
            }
            Some(delay) => {
                let pay_day = self
                    .cal
                    .business_day((due_day + delay).max(issue_day + 1).max(today + 1));
                let second = time_of_day(&mut st.rng, 7, 20);
                self.schedule.on(
                    pay_day,
                    second,
                    Action::Pay {
                        debtor,
                        invoice: seq,
                        mode: PayMode::Regular,
                    },
                );
                if delay >= 12 && st.rng.bernoulli(make) {
                    let promise_day =
                        due_day + st.rng.range_i64(7, i64::from((delay - 3).max(7))) as i32;
                    if promise_day > today && promise_day + 1 < pay_day {
                        let mut kept = st.rng.bernoulli(keep);
                        if !kept && pay_day - promise_day < 4 {
                            kept = true;
                        }
                        let promised_day = if kept {
                            pay_day + st.rng.range_i64(0, 3) as i32
                        } else {
                            st.rng
                                .range_i64(i64::from(promise_day + 2), i64::from(pay_day - 2))
                                as i32
                        };
                        let second = time_of_day(&mut st.rng, 10, 17);
                        self.schedule.on(
                            promise_day,
                            second,
                            Action::Promise {
                                debtor,
                                invoice: seq,
                                promised_day,
                                kept,
                            },
                        );
                    }
                }
            }
        }
    }

    fn rating(&mut self, d: usize, day: i32, time: DateTime<Utc>) {
        let st = &mut self.debtors[d];
        let latent =
            st.debtor.profile.latent_risk(day) + bureau::type_adjustment(st.debtor.debtor_type);
        let (grade, pd) = bureau::rate(latent, &mut st.rng);
        let date = self.cal.date(day);
        let quarter = (date.month() - 1) / 3;
        self.out.emit(
            format!("rat-{}-{}Q{}", st.debtor.id, date.year(), quarter + 1),
            time,
            InputEvent::BureauRating(BureauRating {
                debtor_id: st.debtor.id.clone(),
                bureau: bureau::bureau_name(st.debtor.debtor_type).to_owned(),
                rating: grade.to_owned(),
                probability_of_default: Some(pd),
            }),
        );
        let quarter_start = NaiveDate::from_ymd_opt(date.year(), quarter * 3 + 1, 1)
            .and_then(|q| q.checked_add_months(Months::new(3)))
            .unwrap_or(date);
        let next = self.cal.day_of(quarter_start) + st.rng.range_i64(0, 20) as i32;
        let second = time_of_day(&mut st.rng, 2, 4);
        self.schedule
            .on(next, second, Action::Rating { debtor: d as u32 });
    }

    fn tick(&mut self, day: i32, time: DateTime<Utc>) {
        self.out.emit(
            format!("tick-{}", self.cal.date(day)),
            time,
            InputEvent::ClockTick(ClockTick {}),
        );
        self.schedule
            .on(day + 1, END_OF_DAY, Action::Tick { day: day + 1 });
    }
}

impl Iterator for Simulator {
    type Item = Envelope;

    fn next(&mut self) -> Option<Envelope> {
        loop {
            if let Some(envelope) = self.out.ready.pop_front() {
                return Some(envelope);
            }
            let (instant, action) = self.schedule.agenda.take_next()?;
            self.act(instant, action);
        }
    }
}
