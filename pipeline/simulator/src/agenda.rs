//! The agenda: future actions ordered by `(instant, sequence)`. The sequence number
//! breaks ties in the order actions were planned, so the run is deterministic and events
//! come out in non-decreasing event time. Only what is still to happen is held (a few
//! entries per debtor), never the whole run.
//!
//! Actions are kept day by day: a plain list per future day, and a min-heap for the day
//! being simulated, built when that day starts. Planning is O(1) and each take works on
//! one day's heap, which keeps the hot path small and cache-friendly; the order is
//! exactly that of one global heap keyed by `(instant, sequence)`.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use crate::calendar::day_of_instant;

/// One planned action of type `A` at an instant (seconds since the start).
#[derive(Debug, Clone)]
struct Entry<A> {
    at: i64,
    seq: u64,
    action: A,
}

impl<A> PartialEq for Entry<A> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<A> Eq for Entry<A> {}

impl<A> PartialOrd for Entry<A> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<A> Ord for Entry<A> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Future actions, earliest first.
#[derive(Debug, Clone)]
pub struct Agenda<A> {
    /// Actions of the day being simulated.
    today: BinaryHeap<Reverse<Entry<A>>>,
    /// The day being simulated.
    day: i32,
    /// Actions of later days, by day number (unordered within a day).
    later: Vec<Vec<Entry<A>>>,
    /// Number of planned actions.
    len: usize,
    next_seq: u64,
    /// The instant of the last action taken; nothing is planned before it.
    now: i64,
}

impl<A> Default for Agenda<A> {
    fn default() -> Self {
        Agenda {
            today: BinaryHeap::new(),
            day: 0,
            later: Vec::new(),
            len: 0,
            next_seq: 0,
            now: 0,
        }
    }
}

impl<A> Agenda<A> {
    /// Plans `action` at instant `at` (seconds since the start, not negative); an instant
    /// in the past is moved to now, so time never runs backwards.
    pub fn plan(&mut self, at: i64, action: A) {
        let at = at.max(self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.len += 1;
        let entry = Entry { at, seq, action };
        let day = day_of_instant(at);
        if day <= self.day {
            self.today.push(Reverse(entry));
        } else {
            let index = day as usize;
            if self.later.len() <= index {
                self.later.resize_with(index + 1, Vec::new);
            }
            self.later[index].push(entry);
        }
    }

    /// Takes the earliest action and moves now to its instant.
    pub fn take_next(&mut self) -> Option<(i64, A)> {
        loop {
            if let Some(Reverse(entry)) = self.today.pop() {
                self.len -= 1;
                self.now = entry.at;
                return Some((entry.at, entry.action));
            }
            // Today is done: start the next day that has anything planned.
            let next_day =
                (self.day as usize + 1..self.later.len()).find(|&d| !self.later[d].is_empty())?;
            self.day = next_day as i32;
            let entries = std::mem::take(&mut self.later[next_day]);
            self.today = entries.into_iter().map(Reverse).collect();
        }
    }

    /// The instant of the last action taken.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Number of planned actions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is planned.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::DAY;

    #[test]
    fn actions_come_out_by_instant_then_by_planning_order() {
        let mut agenda = Agenda::default();
        agenda.plan(10, "b");
        agenda.plan(5, "a");
        agenda.plan(10, "c");
        assert_eq!(agenda.take_next(), Some((5, "a")));
        assert_eq!(agenda.take_next(), Some((10, "b")));
        // Planned in the past: moved to now.
        agenda.plan(1, "d");
        assert_eq!(agenda.take_next(), Some((10, "c")));
        assert_eq!(agenda.take_next(), Some((10, "d")));
        assert_eq!(agenda.take_next(), None);
        assert!(agenda.is_empty());
    }

    #[test]
    fn later_days_keep_the_order_of_one_global_heap() {
        let mut agenda = Agenda::default();
        let mut reference = BinaryHeap::new();
        let mut rng = crate::rng::Rng::seed_from(1);
        let mut seq = 0_u64;
        let mut plan =
            |agenda: &mut Agenda<u64>, reference: &mut BinaryHeap<Reverse<(i64, u64)>>, at: i64| {
                let at = at.max(agenda.now());
                agenda.plan(at, seq);
                reference.push(Reverse((at, seq)));
                seq += 1;
            };
        for _ in 0..500 {
            let at = rng.range_i64(0, 30 * DAY);
            plan(&mut agenda, &mut reference, at);
        }
        let mut taken = 0;
        while let Some((at, s)) = agenda.take_next() {
            let Reverse(expected) = reference.pop().expect("same length");
            assert_eq!((at, s), expected);
            taken += 1;
            // Plan some more as actions do: the same day, later days, and in the past.
            if taken % 3 == 0 {
                let delta = rng.range_i64(-DAY, 5 * DAY);
                plan(&mut agenda, &mut reference, at + delta);
            }
            if taken > 2000 {
                break;
            }
        }
        assert!(reference.is_empty() || taken > 2000);
        assert_eq!(agenda.len(), reference.len());
    }
}
