//! Seeded pseudo-random numbers, written here so the stream never changes with a
//! dependency upgrade: SplitMix64 expands a seed into the state of a xoshiro256**
//! generator (both by Blackman and Vigna, public domain reference algorithms).
//!
//! On top of the raw 64-bit stream: uniform integers and floats in a range, Bernoulli
//! trials, a choice by weights, and normal / log-normal draws (Box–Muller).
//!
//! Floating-point draws go through `ln`, `exp`, `sqrt` and `cos` of the standard library;
//! on one platform they are bit-for-bit repeatable. Across platforms a last-bit
//! difference of `ln`/`cos` could in rare cases move a rounded value, so the byte-exact
//! promise is "same seed, same build target".

/// SplitMix64: a tiny generator used to spread one 64-bit seed over a larger state.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.state)
    }
}

/// The SplitMix64 finaliser: a strong 64-bit bit mixer (also used to derive stream seeds).
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256** with the helpers the simulator needs.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
    /// The second value of the last Box–Muller pair, not yet used.
    spare_normal: Option<f64>,
}

impl Rng {
    /// A generator whose state is four SplitMix64 outputs of `seed`.
    pub fn seed_from(seed: u64) -> Rng {
        let mut sm = SplitMix64::new(seed);
        let s = [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()];
        Rng::from_state(s)
    }

    /// An independent stream for `(seed, stream)`: used to give every debtor its own
    /// generator, so a debtor's attributes do not depend on how many debtors there are.
    pub fn stream(seed: u64, stream: u64) -> Rng {
        Rng::seed_from(seed ^ mix64(stream.wrapping_add(0x5851_F42D_4C95_7F2D)))
    }

    /// A generator with this exact state (the all-zero state, which would only ever
    /// return zeros, is replaced by a fixed non-zero one).
    pub fn from_state(s: [u64; 4]) -> Rng {
        let s = if s == [0; 4] { [1, 2, 3, 4] } else { s };
        Rng {
            s,
            spare_normal: None,
        }
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A float uniform in `[0, 1)` with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1_u64 << 53) as f64)
    }

    /// An integer uniform in `0..n` (`0` when `n` is 0), without modulo bias
    /// (Lemire's multiply-and-reject).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// An integer uniform in `lo..=hi` (`lo` when `hi < lo`).
    pub fn range_i64(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = hi.abs_diff(lo) + 1;
        lo.wrapping_add(self.below(span) as i64)
    }

    /// A float uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// `true` with probability `p` (clamped to `0..=1`).
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// An index drawn with probability proportional to `weights[i]`. Negative and
    /// non-finite weights count as zero; when all are zero the first index is returned
    /// (the caller makes sure that does not happen for a meaningful draw).
    pub fn weighted_index(&mut self, weights: &[f64]) -> usize {
        let clean = |w: f64| if w.is_finite() && w > 0.0 { w } else { 0.0 };
        let total: f64 = weights.iter().copied().map(clean).sum();
        if total <= 0.0 {
            return 0;
        }
        let mut target = self.unit() * total;
        let mut last_positive = 0;
        for (i, w) in weights.iter().copied().map(clean).enumerate() {
            if w > 0.0 {
                last_positive = i;
                if target < w {
                    return i;
                }
                target -= w;
            }
        }
        last_positive
    }

    /// One element of a non-empty slice, uniformly.
    ///
    /// # Panics
    /// When `items` is empty (only ever called on constant, non-empty tables).
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// One element of a non-empty table of `(item, weight)` pairs, by weight.
    ///
    /// # Panics
    /// When `items` is empty (only ever called on constant, non-empty tables).
    pub fn pick_weighted<T: Copy>(&mut self, items: &[(T, f64)]) -> T {
        let mut total = 0.0;
        for (_, w) in items {
            total += w.max(0.0);
        }
        let mut target = self.unit() * total;
        for (item, w) in items {
            let w = w.max(0.0);
            if target < w {
                return *item;
            }
            target -= w;
        }
        items[items.len() - 1].0
    }

    /// A standard normal draw (Box–Muller; the pair's second value is kept for the next
    /// call).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        // u1 in (0, 1] so that ln(u1) is finite.
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = std::f64::consts::TAU * u2;
        self.spare_normal = Some(r * theta.sin());
        r * theta.cos()
    }

    /// A normal draw with this mean and standard deviation.
    pub fn gaussian(&mut self, mean: f64, sd: f64) -> f64 {
        mean + sd * self.normal()
    }

    /// A log-normal draw given its median and the standard deviation of its logarithm.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// An exponential draw with this mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_output() {
        // First output of SplitMix64 seeded with 0 (reference implementation).
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn xoshiro256starstar_matches_the_reference_output() {
        // Reference sequence for the state [1, 2, 3, 4].
        let mut rng = Rng::from_state([1, 2, 3, 4]);
        let expected: [u64; 6] = [
            11520,
            0,
            1509978240,
            1215971899390074240,
            1216172134540287360,
            607988272756665600,
        ];
        for e in expected {
            assert_eq!(rng.next_u64(), e);
        }
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = Rng::seed_from(7);
        let mut seen = [0_u32; 7];
        for _ in 0..7000 {
            let v = rng.below(7) as usize;
            seen[v] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800), "{seen:?}");
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.range_i64(5, 5), 5);
        for _ in 0..100 {
            let v = rng.range_i64(-3, 3);
            assert!((-3..=3).contains(&v));
        }
    }

    #[test]
    fn normal_draws_have_mean_zero_and_unit_variance() {
        let mut rng = Rng::seed_from(11);
        let n = 100_000;
        let (mut sum, mut sq) = (0.0, 0.0);
        for _ in 0..n {
            let z = rng.normal();
            sum += z;
            sq += z * z;
        }
        let mean = sum / f64::from(n);
        let var = sq / f64::from(n) - mean * mean;
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
    }

    #[test]
    fn weighted_index_follows_the_weights_and_skips_zero_weights() {
        let mut rng = Rng::seed_from(3);
        let weights = [0.0, 1.0, 3.0, 0.0];
        let mut seen = [0_u32; 4];
        for _ in 0..40_000 {
            seen[rng.weighted_index(&weights)] += 1;
        }
        assert_eq!(seen[0], 0);
        assert_eq!(seen[3], 0);
        let ratio = f64::from(seen[2]) / f64::from(seen[1]);
        assert!((ratio - 3.0).abs() < 0.15, "ratio {ratio}");
    }

    #[test]
    fn streams_of_one_seed_differ() {
        let a = Rng::stream(42, 1).next_u64();
        let b = Rng::stream(42, 2).next_u64();
        let c = Rng::stream(43, 1).next_u64();
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, Rng::stream(42, 1).next_u64());
    }
}
