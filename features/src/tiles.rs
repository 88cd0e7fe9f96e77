//! Tiles: the per-debtor state of the windowed aggregates. Each window keeps, per debtor,
//! one tile per hop period that had facts, oldest first, in a flat buffer of 32-bit words:
//! `[period, value, value, ...]`. A window's value is the merge of the tiles of the periods
//! it spans; tiles of periods a window no longer spans are dropped. Lifetime aggregates
//! keep one tile per debtor that never expires.

use crate::definitions::{AggregateType, Definitions, Merge};

/// Most words a windowed tile may take (the definitions are refused beyond it).
pub const MAX_TILE_WORDS: usize = 257;

/// How many rows ahead of the one being merged (or slots ahead of the one being expired)
/// the tiles are asked for: far enough for a memory load to arrive, near enough for the
/// lines to stay in cache. The tile buffers of a portfolio do not fit in cache, so without
/// it each row waits for several loads from memory in turn.
pub const PREFETCH_AHEAD: usize = 8;

/// Asks the processor to bring the cache line holding `p` in, without waiting for it.
/// A hint only: it reads nothing into the program, never faults, whatever the address,
/// and does nothing on targets without a prefetch instruction.
#[inline(always)]
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    // SAFETY: PREFETCHT0 is a hint; it does not read into a register, cannot fault on any
    // address (valid, dangling or null) and has no effect the program can observe besides
    // timing. The intrinsic is `unsafe` only because it is a `target_feature` function;
    // SSE, the feature it needs, is part of every x86_64 target.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

impl Layout {
    /// Prefetches a whole buffer (a window's values read every tile).
    #[inline(always)]
    pub fn prefetch_all(&self, tiles: &[u32]) {
        for word in (0..tiles.len()).step_by(16) {
            prefetch(tiles.as_ptr().wrapping_add(word));
        }
    }

    /// Prefetches a buffer's newest tile and the room after it: new facts almost always
    /// go to the newest period, in that tile or in a new one appended after it.
    #[inline(always)]
    pub fn prefetch_last(&self, tiles: &[u32]) {
        let start = tiles.len().saturating_sub(self.tile_words);
        // 16 words: one 64-byte cache line.
        for word in (start..start + 2 * self.tile_words).step_by(16) {
            prefetch(tiles.as_ptr().wrapping_add(word));
        }
    }
}

/// One aggregate value on its way in or out of a tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// No value (a max or min over no facts).
    Null,
    /// Count or days.
    Int(i64),
    /// Money: Decimal128 mantissa at scale 6.
    Money(i128),
}

impl Value {
    /// Whether the value is a zero (adds nothing to a sum).
    pub fn is_zero(self) -> bool {
        matches!(self, Value::Int(0) | Value::Money(0))
    }
}

/// Where one aggregate sits in a tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// First word (after the period word for windowed tiles).
    pub offset: usize,
    /// How the value is kept.
    pub kind: AggregateType,
    /// How values combine.
    pub merge: Merge,
}

impl Cell {
    /// The value of an empty tile: 0 for sums, a sentinel that reads as NULL otherwise.
    fn empty(self) -> i128 {
        match (self.merge, self.kind) {
            (Merge::Sum, _) => 0,
            (Merge::Max, AggregateType::Money) => i128::MIN,
            (Merge::Min, AggregateType::Money) => i128::MAX,
            (Merge::Max, _) => i128::from(i32::MIN),
            (Merge::Min, _) => i128::from(i32::MAX),
        }
    }

    fn empty_words(self, out: &mut [u32]) {
        self.write(out, self.empty());
    }

    fn read(self, words: &[u32]) -> i128 {
        let w = &words[self.offset..];
        match self.kind {
            AggregateType::Count => i128::from(w[0]),
            AggregateType::Days => i128::from(w[0] as i32),
            AggregateType::Money => {
                let bits = u128::from(w[0])
                    | (u128::from(w[1]) << 32)
                    | (u128::from(w[2]) << 64)
                    | (u128::from(w[3]) << 96);
                bits as i128
            }
        }
    }

    fn write(self, words: &mut [u32], v: i128) {
        let w = &mut words[self.offset..];
        match self.kind {
            AggregateType::Count => w[0] = v.clamp(0, i128::from(u32::MAX)) as u32,
            AggregateType::Days => {
                w[0] = v.clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i32 as u32;
            }
            AggregateType::Money => {
                let bits = v as u128;
                w[0] = bits as u32;
                w[1] = (bits >> 32) as u32;
                w[2] = (bits >> 64) as u32;
                w[3] = (bits >> 96) as u32;
            }
        }
    }

    fn is_sentinel(self, v: i128) -> bool {
        self.merge != Merge::Sum && v == self.empty()
    }

    fn combine(self, a: i128, b: i128) -> i128 {
        match self.merge {
            Merge::Sum => a.saturating_add(b),
            Merge::Max => a.max(b),
            Merge::Min => a.min(b),
        }
    }

    /// Merges a partial value into the tile's words.
    pub fn merge_into(self, words: &mut [u32], value: Value) {
        let v = match value {
            Value::Null => return,
            Value::Int(v) => i128::from(v),
            Value::Money(v) => v,
        };
        let current = self.read(words);
        self.write(words, self.combine(current, v));
    }

    /// Folds a tile's value into an accumulator (`None`: nothing yet).
    fn fold(self, acc: &mut Option<i128>, words: &[u32]) {
        let v = self.read(words);
        if self.is_sentinel(v) {
            return;
        }
        *acc = Some(acc.map_or(v, |a| self.combine(a, v)));
    }

    /// Folds this cell over a run of whole tiles (`tile_words` each) into the value the
    /// feature inputs see: the same as [`Cell::fold`] tile by tile, with the kind and
    /// merge decided once per run instead of once per tile. Sums start from 0 (what an
    /// empty sum reads as); a max or min starts from the empty sentinel, which no tile
    /// value passes, and reads as NULL if it is still there at the end.
    fn fold_run(self, tiles: &[u32], tile_words: usize) -> Value {
        let tiles = tiles.chunks_exact(tile_words);
        let word = |t: &[u32]| t[self.offset];
        let acc = match (self.kind, self.merge) {
            // At most MAX_PERIODS_PER_WINDOW tiles of 32-bit values: no overflow in 64 bits.
            (AggregateType::Count, Merge::Sum) => {
                i128::from(tiles.map(|t| u64::from(word(t))).sum::<u64>())
            }
            (AggregateType::Days, Merge::Sum) => {
                i128::from(tiles.map(|t| i64::from(word(t) as i32)).sum::<i64>())
            }
            _ => tiles.fold(self.empty(), |acc, t| self.combine(acc, self.read(t))),
        };
        let acc = if self.is_sentinel(acc) {
            None
        } else {
            Some(acc)
        };
        self.output(acc)
    }

    /// The accumulated value as the feature inputs see it.
    fn output(self, acc: Option<i128>) -> Value {
        match (acc, self.merge, self.kind) {
            (None, Merge::Sum, AggregateType::Money) => Value::Money(0),
            (None, Merge::Sum, _) => Value::Int(0),
            (None, _, _) => Value::Null,
            (Some(v), _, AggregateType::Money) => Value::Money(v),
            (Some(v), _, _) => Value::Int(v as i64),
        }
    }
}

/// Where every aggregate sits in the tiles, from the definitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Windowed aggregates, in definition order (offsets after the period word).
    pub windowed: Vec<Cell>,
    /// Index of each windowed aggregate in the definitions' aggregate list.
    pub windowed_index: Vec<usize>,
    /// Words of one windowed tile, the period word included.
    pub tile_words: usize,
    /// Lifetime aggregates, in definition order.
    pub lifetime: Vec<Cell>,
    /// Index of each lifetime aggregate in the definitions' aggregate list.
    pub lifetime_index: Vec<usize>,
    /// Words of one debtor's lifetime tile.
    pub lifetime_words: usize,
}

impl Layout {
    /// A layout without aggregates: a windowed tile is its period word alone.
    fn without_aggregates() -> Layout {
        Layout {
            windowed: Vec::new(),
            windowed_index: Vec::new(),
            tile_words: 1,
            lifetime: Vec::new(),
            lifetime_index: Vec::new(),
            lifetime_words: 0,
        }
    }

    /// The layout of the definitions' aggregates.
    pub fn new(definitions: &Definitions) -> Layout {
        let mut layout = Layout::without_aggregates();
        for (i, a) in definitions.aggregates.iter().enumerate() {
            if a.lifetime {
                layout.lifetime.push(Cell {
                    offset: layout.lifetime_words,
                    kind: a.kind,
                    merge: a.merge,
                });
                layout.lifetime_index.push(i);
                layout.lifetime_words += a.kind.words();
            } else {
                layout.windowed.push(Cell {
                    offset: layout.tile_words,
                    kind: a.kind,
                    merge: a.merge,
                });
                layout.windowed_index.push(i);
                layout.tile_words += a.kind.words();
            }
        }
        layout
    }

    /// An empty lifetime tile.
    pub fn empty_lifetime(&self) -> Vec<u32> {
        let mut words = vec![0; self.lifetime_words];
        for c in &self.lifetime {
            c.empty_words(&mut words);
        }
        words
    }

    /// Inserts an empty windowed tile of `period` at word index `at`. Buffers grow by
    /// one tile at a time, two when the buffer already holds several (fewer reallocations
    /// for busy debtors, little slack for quiet ones).
    fn insert_empty_tile(&self, tiles: &mut Vec<u32>, at: usize, period: i32) {
        let mut words = [0_u32; MAX_TILE_WORDS];
        let words = &mut words[..self.tile_words];
        words[0] = period as u32;
        for c in &self.windowed {
            c.empty_words(words);
        }
        if tiles.capacity() - tiles.len() < self.tile_words {
            let grow = if tiles.len() >= 4 * self.tile_words {
                2
            } else {
                1
            };
            tiles.reserve_exact(grow * self.tile_words);
        }
        if at == tiles.len() {
            tiles.extend_from_slice(words);
        } else {
            tiles.splice(at..at, words.iter().copied());
        }
    }

    /// The tile of `period` in a debtor's buffer, made if missing; returns its word range
    /// start.
    pub fn tile_for(&self, tiles: &mut Vec<u32>, period: i32) -> usize {
        let n = tiles.len() / self.tile_words;
        // New facts almost always belong to the last tile: search from the end.
        let mut i = n;
        while i > 0 {
            let start = (i - 1) * self.tile_words;
            let p = tiles[start] as i32;
            if p == period {
                return start;
            }
            if p < period {
                break;
            }
            i -= 1;
        }
        let at = i * self.tile_words;
        self.insert_empty_tile(tiles, at, period);
        at
    }

    /// Drops the tiles of periods before `first_kept`; whether any was dropped.
    pub fn expire(&self, tiles: &mut Vec<u32>, first_kept: i32) -> bool {
        let n = tiles.len() / self.tile_words;
        let mut drop = 0;
        while drop < n && (tiles[drop * self.tile_words] as i32) < first_kept {
            drop += 1;
        }
        if drop == 0 {
            return false;
        }
        tiles.drain(..drop * self.tile_words);
        if tiles.capacity() >= 2 * tiles.len() + 2 * self.tile_words {
            tiles.shrink_to_fit();
        }
        true
    }

    /// Period of the oldest tile.
    pub fn first_period(&self, tiles: &[u32]) -> Option<i32> {
        tiles.first().map(|&p| p as i32)
    }

    /// Merges the tiles of periods in `first..=last` into one value per windowed
    /// aggregate, appended to `out`.
    pub fn window_values(&self, tiles: &[u32], first: i32, last: i32, out: &mut Vec<Value>) {
        let tw = self.tile_words;
        // Tiles are in period order, one per period: those spanned are one run.
        let period = |i: usize| tiles[i * tw] as i32;
        let n = tiles.len() / tw;
        // Expiry keeps a tier's tiles near its window, so the run is most often all of
        // them: checked at the ends before searching.
        let start = if n == 0 || period(0) >= first {
            0
        } else {
            first_where(1, n, |i| period(i) >= first)
        };
        let end = if n == 0 || period(n - 1) <= last {
            n
        } else {
            first_where(start, n - 1, |i| period(i) > last)
        };
        let spanned = &tiles[start * tw..end * tw];
        out.extend(self.windowed.iter().map(|c| c.fold_run(spanned, tw)));
    }

    /// The lifetime values of one debtor's lifetime tile, appended to `out`.
    pub fn lifetime_values(&self, words: &[u32], out: &mut Vec<Value>) {
        for c in &self.lifetime {
            let mut acc = None;
            c.fold(&mut acc, words);
            out.push(c.output(acc));
        }
    }
}

/// The first index in `lo..hi` where `holds` is true, `hi` if none; `holds` must be false
/// then true along the range (a binary search).
fn first_where(mut lo: usize, mut hi: usize, holds: impl Fn(usize) -> bool) -> usize {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if holds(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A layout with every kind and merge, laid out as [`Layout::new`] would.
    fn every_cell() -> Layout {
        let kinds = [
            AggregateType::Count,
            AggregateType::Days,
            AggregateType::Money,
        ];
        let merges = [Merge::Sum, Merge::Max, Merge::Min];
        let mut layout = Layout::without_aggregates();
        for kind in kinds {
            for merge in merges {
                layout.windowed_index.push(layout.windowed.len());
                layout.windowed.push(Cell {
                    offset: layout.tile_words,
                    kind,
                    merge,
                });
                layout.tile_words += kind.words();
            }
        }
        layout
    }

    /// The window's values tile by tile, as [`Cell::fold`] takes them.
    fn tile_by_tile(layout: &Layout, tiles: &[u32], first: i32, last: i32) -> Vec<Value> {
        let mut acc = vec![None; layout.windowed.len()];
        for tile in tiles.chunks_exact(layout.tile_words) {
            let p = tile[0] as i32;
            if p < first || p > last {
                continue;
            }
            for (c, a) in layout.windowed.iter().zip(acc.iter_mut()) {
                c.fold(a, tile);
            }
        }
        layout
            .windowed
            .iter()
            .zip(acc)
            .map(|(c, a)| c.output(a))
            .collect()
    }

    fn value_of(kind: AggregateType, raw: i64) -> Value {
        match kind {
            AggregateType::Money => Value::Money(i128::from(raw) * 1_000_000),
            _ => Value::Int(raw),
        }
    }

    proptest! {
        /// Folding the run of tiles a window spans gives what folding tile by tile gives,
        /// for every kind and merge, empty tiles and windows included.
        #[test]
        fn window_values_equal_a_tile_by_tile_fold(
            facts in prop::collection::vec((0_i32..40, 0_usize..9, -5_000_i64..5_000), 0..60),
            first in -2_i32..42,
            span in 0_i32..45,
        ) {
            let layout = every_cell();
            let mut tiles = Vec::new();
            for (period, cell, raw) in facts {
                let start = layout.tile_for(&mut tiles, period);
                let c = layout.windowed[cell];
                // Counts are never negative.
                let raw = if c.kind == AggregateType::Count { raw.abs() } else { raw };
                c.merge_into(&mut tiles[start..start + layout.tile_words], value_of(c.kind, raw));
            }
            let last = first + span;
            let mut values = Vec::new();
            layout.window_values(&tiles, first, last, &mut values);
            prop_assert_eq!(values, tile_by_tile(&layout, &tiles, first, last));
        }
    }
}
