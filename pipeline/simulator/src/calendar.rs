//! Simulated time: day numbers relative to the start, instants in seconds, business
//! days, and the seasonality of invoice volume and of lateness.
//!
//! Inside the simulator a day is an `i32` counted from the start date (day 0) and an
//! instant is an `i64` number of seconds since the start date's midnight (UTC); they turn
//! into chrono values only when an event is written.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc, Weekday};

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Seconds in an hour.
pub const HOUR: i64 = 3_600;

/// Relative invoice volume per calendar month (January first): a summer dip and a busy
/// autumn and December.
const VOLUME: [f64; 12] = [
    0.95, 0.95, 1.0, 1.0, 1.0, 1.0, 0.85, 0.8, 1.05, 1.1, 1.1, 1.2,
];

/// How much later payments due in a month are (January first): summer holidays and
/// December are slower.
const LATENESS: [f64; 12] = [1.1, 1.0, 1.0, 1.0, 1.0, 1.05, 1.3, 1.5, 1.0, 1.0, 1.05, 1.4];

/// Converts between day numbers, dates and instants for one run.
#[derive(Debug, Clone)]
pub struct Calendar {
    start: NaiveDate,
    start_instant: DateTime<Utc>,
    /// Weekday of day 0, Monday = 0.
    start_weekday: u32,
}

impl Calendar {
    /// The calendar of a run starting on `start`.
    pub fn new(start: NaiveDate) -> Calendar {
        Calendar {
            start,
            start_instant: start.and_time(chrono::NaiveTime::MIN).and_utc(),
            start_weekday: start.weekday().num_days_from_monday(),
        }
    }

    /// The date of day `day`.
    pub fn date(&self, day: i32) -> NaiveDate {
        self.start + TimeDelta::days(i64::from(day))
    }

    /// The day number of `date`.
    pub fn day_of(&self, date: NaiveDate) -> i32 {
        i32::try_from((date - self.start).num_days()).unwrap_or(i32::MAX)
    }

    /// The instant `at` (seconds since the start) as a UTC time.
    pub fn instant(&self, at: i64) -> DateTime<Utc> {
        self.start_instant + TimeDelta::seconds(at)
    }

    /// Weekday of day `day`.
    pub fn weekday(&self, day: i32) -> Weekday {
        let index = (i64::from(self.start_weekday) + i64::from(day)).rem_euclid(7);
        match index {
            0 => Weekday::Mon,
            1 => Weekday::Tue,
            2 => Weekday::Wed,
            3 => Weekday::Thu,
            4 => Weekday::Fri,
            5 => Weekday::Sat,
            _ => Weekday::Sun,
        }
    }

    /// `day` itself on a weekday, otherwise the Monday after (banks book on weekdays).
    pub fn business_day(&self, day: i32) -> i32 {
        match self.weekday(day) {
            Weekday::Sat => day + 2,
            Weekday::Sun => day + 1,
            _ => day,
        }
    }

    /// `day` itself on a weekday, otherwise the Friday before (to pay by a date).
    pub fn business_day_by(&self, day: i32) -> i32 {
        match self.weekday(day) {
            Weekday::Sat => day - 1,
            Weekday::Sun => day - 2,
            _ => day,
        }
    }

    /// Calendar month (1 to 12) of day `day`.
    pub fn month(&self, day: i32) -> u32 {
        self.date(day).month()
    }

    /// Months elapsed since the start at day `day` (fractional, 30.44 days a month).
    pub fn months_since_start(&self, day: i32) -> f64 {
        f64::from(day) / 30.44
    }

    /// Relative invoice volume in the month of day `day`.
    pub fn volume_factor(&self, day: i32) -> f64 {
        VOLUME[self.month_index(day)]
    }

    /// How much later than usual payments due on day `day` are.
    pub fn lateness_factor(&self, day: i32) -> f64 {
        LATENESS[self.month_index(day)]
    }

    fn month_index(&self, day: i32) -> usize {
        (self.month(day) as usize).saturating_sub(1).min(11)
    }
}

/// The instant of second `second_of_day` on day `day`.
pub fn at(day: i32, second_of_day: i64) -> i64 {
    i64::from(day) * DAY + second_of_day
}

/// The day an instant falls on.
pub fn day_of_instant(at: i64) -> i32 {
    i32::try_from(at.div_euclid(DAY)).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn weekend_days_move_to_the_next_monday() {
        // 2025-01-01 is a Wednesday.
        let cal = Calendar::new(date(2025, 1, 1));
        assert_eq!(cal.weekday(0), Weekday::Wed);
        assert_eq!(cal.business_day(3), 5); // Saturday 4 Jan → Monday 6 Jan
        assert_eq!(cal.business_day(4), 5); // Sunday 5 Jan → Monday 6 Jan
        assert_eq!(cal.business_day(5), 5);
        assert_eq!(cal.date(5), date(2025, 1, 6));
        assert_eq!(cal.weekday(5), date(2025, 1, 6).weekday());
    }

    #[test]
    fn instants_and_days_round_trip() {
        let cal = Calendar::new(date(2025, 1, 1));
        let instant = at(31, 9 * HOUR);
        assert_eq!(day_of_instant(instant), 31);
        assert_eq!(
            cal.instant(instant).to_rfc3339(),
            "2025-02-01T09:00:00+00:00"
        );
        assert_eq!(cal.day_of(date(2025, 2, 1)), 31);
    }

    #[test]
    fn summer_and_december_are_slower() {
        let cal = Calendar::new(date(2025, 1, 1));
        let march = cal.day_of(date(2025, 3, 10));
        let august = cal.day_of(date(2025, 8, 10));
        let december = cal.day_of(date(2025, 12, 10));
        assert!(cal.lateness_factor(august) > cal.lateness_factor(march));
        assert!(cal.lateness_factor(december) > cal.lateness_factor(march));
        assert!(cal.volume_factor(august) < cal.volume_factor(march));
    }
}
