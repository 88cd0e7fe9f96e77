//! Aging: how long open items are past their due date, in the usual buckets.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Open amounts by days past due.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgingBuckets {
    /// Not past due.
    pub current: Decimal,
    /// 1 to 30 days past due.
    pub days_1_30: Decimal,
    /// 31 to 60 days past due.
    pub days_31_60: Decimal,
    /// 61 to 90 days past due.
    pub days_61_90: Decimal,
    /// More than 90 days past due.
    pub over_90: Decimal,
}

impl AgingBuckets {
    /// Adds an open amount that is `days_past_due` days past due (zero or less: current).
    pub fn add(&mut self, days_past_due: i64, amount: Decimal) {
        let bucket = match days_past_due {
            i64::MIN..=0 => &mut self.current,
            1..=30 => &mut self.days_1_30,
            31..=60 => &mut self.days_31_60,
            61..=90 => &mut self.days_61_90,
            _ => &mut self.over_90,
        };
        *bucket += amount;
    }

    /// Sum over all buckets.
    pub fn total(&self) -> Decimal {
        self.current + self.days_1_30 + self.days_31_60 + self.days_61_90 + self.over_90
    }
}

/// Index of the aging bucket for `days_past_due`: 0 current, 1 for 1-30, 2 for 31-60,
/// 3 for 61-90, 4 for more than 90 days past due.
pub fn bucket_index(days_past_due: i64) -> u8 {
    match days_past_due {
        i64::MIN..=0 => 0,
        1..=30 => 1,
        31..=60 => 2,
        61..=90 => 3,
        _ => 4,
    }
}

/// Days from `due_date` to `on` (negative before the due date).
pub fn days_past_due(due_date: NaiveDate, on: NaiveDate) -> i64 {
    on.signed_duration_since(due_date).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn bucket_edges_follow_the_usual_ranges() {
        let mut b = AgingBuckets::default();
        for (days, amount) in [
            (0, 1),
            (1, 2),
            (30, 4),
            (31, 8),
            (60, 16),
            (61, 32),
            (90, 64),
            (91, 128),
        ] {
            b.add(days, Decimal::from(amount));
        }
        assert_eq!(b.current, Decimal::from(1));
        assert_eq!(b.days_1_30, Decimal::from(6));
        assert_eq!(b.days_31_60, Decimal::from(24));
        assert_eq!(b.days_61_90, Decimal::from(96));
        assert_eq!(b.over_90, Decimal::from(128));
        assert_eq!(b.total(), Decimal::from(255));
    }

    #[test]
    fn days_past_due_counts_calendar_days() {
        assert_eq!(days_past_due(d("2025-01-31"), d("2025-03-01")), 29);
        assert_eq!(days_past_due(d("2025-03-01"), d("2025-02-28")), -1);
    }
}
