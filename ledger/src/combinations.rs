//! The combination search of rule 4: which of a payer's open items add up exactly to a
//! payment. A bounded depth-first search over the items (largest amount first, with the
//! sum of the rest as a bound), stopped after the second solution: one solution is a
//! match, two are ambiguous, and a search that would exceed its caps proves nothing.

use rust_decimal::Decimal;

/// What the combination search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Combination {
    /// No set of at least the minimum size adds up to the target.
    None,
    /// Exactly one set does: indices into the input, ascending.
    Unique(Vec<usize>),
    /// At least two different sets do: the first two found, indices ascending.
    Ambiguous(Vec<usize>, Vec<usize>),
    /// More candidate items than allowed, or the search needed more steps than allowed.
    TooLarge,
}

/// Caps of one search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchLimits {
    /// Fewest items in a combination.
    pub min_items: usize,
    /// Most candidate items (after those larger than the target are left out).
    pub max_items: usize,
    /// Most search steps.
    pub max_steps: usize,
}

/// Finds the sets of at least `limits.min_items` of `amounts` whose sum is exactly
/// `target`. Amounts that are not positive or exceed the target cannot take part and do
/// not count towards `max_items`. Deterministic: the same input gives the same answer.
pub fn find_combination(amounts: &[Decimal], target: Decimal, limits: SearchLimits) -> Combination {
    if target <= Decimal::ZERO {
        return Combination::None;
    }
    // Candidates, largest first (ties by input position), so the bound prunes early.
    let mut candidates: Vec<(usize, Decimal)> = amounts
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, a)| *a > Decimal::ZERO && *a <= target)
        .collect();
    if candidates.len() > limits.max_items {
        return Combination::TooLarge;
    }
    if candidates.len() < limits.min_items.max(1) {
        return Combination::None;
    }
    candidates.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let total: Decimal = candidates.iter().map(|c| c.1).sum();
    if total < target {
        return Combination::None;
    }
    // suffix[i]: sum of candidates[i..].
    let mut suffix = vec![Decimal::ZERO; candidates.len() + 1];
    for i in (0..candidates.len()).rev() {
        suffix[i] = suffix[i + 1] + candidates[i].1;
    }
    let mut search = Search {
        candidates: &candidates,
        suffix: &suffix,
        min_items: limits.min_items.max(1),
        steps_left: limits.max_steps,
        chosen: Vec::new(),
        found: Vec::new(),
        exhausted: false,
    };
    search.run(0, target);
    let mut found: Vec<Vec<usize>> = search
        .found
        .into_iter()
        .map(|mut s| {
            s.sort_unstable();
            s
        })
        .collect();
    match (found.len(), search.exhausted) {
        (n, _) if n >= 2 => {
            let second = found.swap_remove(1);
            let first = found.swap_remove(0);
            Combination::Ambiguous(first, second)
        }
        (_, true) => Combination::TooLarge,
        (1, false) => Combination::Unique(found.swap_remove(0)),
        _ => Combination::None,
    }
}

struct Search<'a> {
    candidates: &'a [(usize, Decimal)],
    suffix: &'a [Decimal],
    min_items: usize,
    steps_left: usize,
    chosen: Vec<usize>,
    found: Vec<Vec<usize>>,
    exhausted: bool,
}

impl Search<'_> {
    /// Tries the candidates from `i` on for the `rest` still to reach.
    fn run(&mut self, i: usize, rest: Decimal) {
        if self.found.len() >= 2 || self.exhausted {
            return;
        }
        if rest.is_zero() {
            if self.chosen.len() >= self.min_items {
                self.found.push(self.chosen.clone());
            }
            return;
        }
        if i == self.candidates.len() || self.suffix[i] < rest {
            return;
        }
        if self.steps_left == 0 {
            self.exhausted = true;
            return;
        }
        self.steps_left -= 1;
        let (index, amount) = self.candidates[i];
        if amount <= rest {
            self.chosen.push(index);
            self.run(i + 1, rest - amount);
            self.chosen.pop();
        }
        self.run(i + 1, rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(v: &[i64]) -> Vec<Decimal> {
        v.iter().map(|c| Decimal::new(*c, 2)).collect()
    }

    const LIMITS: SearchLimits = SearchLimits {
        min_items: 2,
        max_items: 24,
        max_steps: 100_000,
    };

    #[test]
    fn finds_the_unique_pair_in_input_order() {
        let amounts = d(&[1000, 2500, 4000, 700]);
        assert_eq!(
            find_combination(&amounts, Decimal::new(4700, 2), LIMITS),
            Combination::Unique(vec![2, 3])
        );
    }

    #[test]
    fn a_single_item_is_not_a_combination() {
        let amounts = d(&[1000, 2500]);
        assert_eq!(
            find_combination(&amounts, Decimal::new(2500, 2), LIMITS),
            Combination::None
        );
    }

    #[test]
    fn two_different_sets_are_ambiguous() {
        let amounts = d(&[1000, 1000, 2000]);
        assert!(matches!(
            find_combination(&amounts, Decimal::new(3000, 2), LIMITS),
            Combination::Ambiguous(..)
        ));
        let amounts = d(&[100, 200, 300, 400]);
        assert!(matches!(
            find_combination(&amounts, Decimal::new(500, 2), LIMITS),
            Combination::Ambiguous(..)
        ));
    }

    #[test]
    fn caps_make_the_search_give_up_rather_than_guess() {
        let amounts = d(&[1; 30]);
        assert_eq!(
            find_combination(&amounts, Decimal::new(2, 2), LIMITS),
            Combination::TooLarge
        );
        let tight = SearchLimits {
            max_steps: 3,
            ..LIMITS
        };
        let amounts = d(&[700, 500, 300, 110, 90]);
        assert_eq!(
            find_combination(&amounts, Decimal::new(1200, 2), tight),
            Combination::TooLarge
        );
        // Items larger than the payment do not count towards the item cap.
        let mut amounts = d(&[100_000; 40]);
        amounts.extend(d(&[300, 400]));
        assert_eq!(
            find_combination(&amounts, Decimal::new(700, 2), LIMITS),
            Combination::Unique(vec![40, 41])
        );
    }
}
