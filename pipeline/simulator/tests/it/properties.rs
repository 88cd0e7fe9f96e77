//! Properties that hold for any seed and any small portfolio.

use std::collections::BTreeMap;

use events::{DEFAULT_MAX_EVENT_BYTES, Envelope, InputEvent};
use proptest::prelude::*;
use rust_decimal::Decimal;
use simulator::{SimConfig, Simulator};

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn any_small_run_is_ordered_valid_and_consistent_with_its_truth(
        seed in any::<u64>(),
        debtors in 1_u32..40,
        months in 1_u32..5,
        tick_daily in any::<bool>(),
    ) {
        let config = SimConfig { seed, debtors, months, tick_daily, ..SimConfig::default() };
        let mut sim = Simulator::new(config.check().expect("valid"));
        let events: Vec<Envelope> = sim.by_ref().collect();
        let mut invoices = BTreeMap::new();
        for pair in events.windows(2) {
            prop_assert!(pair[0].event_time <= pair[1].event_time);
        }
        for e in &events {
            let decoded = Envelope::decode(&e.to_json(), DEFAULT_MAX_EVENT_BYTES);
            prop_assert!(decoded.is_ok(), "{:?}", decoded);
            if let InputEvent::InvoiceIssued(i) = &e.event {
                invoices.insert(i.invoice_number.clone(), (i.debtor_id.clone(), i.amount));
            }
        }
        let truth = sim.truth();
        prop_assert_eq!(truth.debtors.len(), debtors as usize);
        for p in truth.payments.values() {
            for a in &p.allocations {
                let (debtor, amount) = &invoices[&a.invoice_number];
                prop_assert_eq!(debtor, &p.debtor_id);
                prop_assert!(a.amount > Decimal::ZERO && a.amount <= *amount);
            }
        }
    }
}
