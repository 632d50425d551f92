//! The id plan (which ids of the space a run covers: a window, a shard, minus ids done before) and the completed-range set.

mod ranges;

pub use ranges::RangeSet;
use std::fmt;
use std::ops::Range;

/// Largest shard chunk the default rule picks, and the pool's largest batch: one batch fills a
/// chunk, so a shard's batches stay full.
pub const MAX_SHARD_CHUNK: u64 = 1 << 18;
/// Chunks each shard gets at least (where the window is large enough) under the default rule,
/// so that all shards move through the space together.
const CHUNKS_PER_SHARD: u64 = 64;

/// One shard of `count`: chunk `k` of the window (ids `skip + k*chunk ..`) belongs to shard `k % count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: u64,
    /// How many shards split the window.
    pub count: u64,
    /// Ids per chunk; `None` picks [`Shard::default_chunk`] from the window's size.
    pub chunk: Option<u64>,
}

/// Why a shard was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadShard(pub String);

impl fmt::Display for BadShard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad shard {:?} (expected I/N with N >= 1 and I < N, for example 0/4)",
            self.0
        )
    }
}

impl std::error::Error for BadShard {}

impl Shard {
    /// Shard `index` of `count`, with the default chunk size.
    ///
    /// # Errors
    /// When `count` is 0 or `index >= count`.
    pub fn new(index: u64, count: u64) -> Result<Self, BadShard> {
        if count == 0 || index >= count {
            return Err(BadShard(format!("{index}/{count}")));
        }
        Ok(Self {
            index,
            count,
            chunk: None,
        })
    }

    /// The same shard with an explicit chunk size (at least 1). Every shard of a split must use the same.
    #[must_use]
    pub fn with_chunk(mut self, chunk: u64) -> Self {
        self.chunk = Some(chunk.max(1));
        self
    }

    /// The chunk size every shard of `count` picks for a window of `window` ids (`None`: open,
    /// size unknown): `window / (64 * count)` clamped to `1..=`[`MAX_SHARD_CHUNK`], so each shard
    /// gets 64 or more chunks and the largest chunk holds one full batch. Open windows use the largest chunk.
    #[must_use]
    pub fn default_chunk(window: Option<u64>, count: u64) -> u64 {
        window.map_or(MAX_SHARD_CHUNK, |window| {
            (window / CHUNKS_PER_SHARD.saturating_mul(count.max(1))).clamp(1, MAX_SHARD_CHUNK)
        })
    }
}

impl std::str::FromStr for Shard {
    type Err = BadShard;

    /// Parses `I/N`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadShard(text.to_string());
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index = index.trim().parse().map_err(|_| bad())?;
        let count = count.trim().parse().map_err(|_| bad())?;
        Self::new(index, count).map_err(|_| bad())
    }
}

/// Which ids of the space a run covers: the window `skip..skip+limit`, its share of a split into
/// shards, minus ranges already completed (a resumed run). Set with [`crate::RunConfig::with_skip`],
/// [`crate::RunConfig::with_limit`], [`crate::RunConfig::with_shard`] and [`crate::RunConfig::with_done`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdPlan {
    /// First id of the window.
    pub skip: u64,
    /// Ids in the window (`None`: to the end of the space).
    pub limit: Option<u64>,
    /// This run's shard of the window, if split.
    pub shard: Option<Shard>,
    /// Ranges `[start, end)` of absolute ids completed before (not run again).
    pub done: Vec<(u64, u64)>,
}

/// An [`IdPlan`] fixed for one run: the window's bounds and the chunk size decided.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedPlan {
    lo: u64,
    /// End of the window (before the end of the space is applied).
    hi: u64,
    /// `(index, count, chunk)` of the shard; `(0, 1, u64::MAX)` when not split.
    index: u64,
    count: u64,
    chunk: u64,
    done: RangeSet,
}

impl ResolvedPlan {
    /// Fixes `plan` for a space of `space` ids (`None`: open, size unknown).
    pub fn new(plan: &IdPlan, space: Option<u64>) -> Self {
        let lo = plan.skip;
        let hi = plan.limit.map_or(u64::MAX, |limit| lo.saturating_add(limit));
        let window = space.map(|space| hi.min(space).saturating_sub(lo));
        let (index, count, chunk) = match plan.shard {
            // The fields are public: hold them to the rules `Shard::new` and `with_chunk` check.
            Some(shard) if shard.count > 1 => (
                shard.index.min(shard.count - 1),
                shard.count,
                shard
                    .chunk
                    .unwrap_or_else(|| Shard::default_chunk(window, shard.count))
                    .max(1),
            ),
            _ => (0, 1, u64::MAX),
        };
        let done = RangeSet::from_ranges(&plan.done);
        Self {
            lo,
            hi,
            index,
            count,
            chunk,
            done,
        }
    }

    /// The chunk size in use (`u64::MAX` when the window is not split).
    pub fn chunk(&self) -> u64 {
        self.chunk
    }

    /// Ids of this plan (window ∩ shard, done ones included) below absolute id `x`.
    pub fn rank(&self, x: u64) -> u64 {
        let x = x.clamp(self.lo, self.hi);
        let offset = x - self.lo;
        if self.count == 1 {
            return offset;
        }
        let stride = u128::from(self.chunk) * u128::from(self.count);
        let offset = u128::from(offset);
        let full = offset / stride;
        let rest = offset % stride;
        let mine = rest
            .saturating_sub(u128::from(self.index) * u128::from(self.chunk))
            .min(u128::from(self.chunk));
        u64::try_from(full * u128::from(self.chunk) + mine).unwrap_or(u64::MAX)
    }

    /// Ids this run covers when the space holds `space` ids: |window ∩ shard|.
    pub fn total(&self, space: u64) -> u64 {
        self.rank(space)
    }

    /// Ids of the plan inside the done ranges, below `space`.
    pub fn done_count(&self, space: u64) -> u64 {
        self.done
            .ranges()
            .iter()
            .map(|&(start, end)| {
                self.rank(end.min(space))
                    .saturating_sub(self.rank(start.min(space)))
            })
            .sum()
    }

    /// The done ranges, merged.
    pub fn done(&self) -> &RangeSet {
        &self.done
    }

    /// True when a run of this plan hands out id `x`: in the window, in the shard, not done.
    pub fn hands_out(&self, x: u64) -> bool {
        (self.lo..self.hi).contains(&x) && self.next_in_shard(x) == x && !self.done.contains(x)
    }

    /// The first id at or after `x` that a run of this plan hands out, if any.
    pub fn first_from(&self, x: u64) -> Option<u64> {
        let mut x = x.max(self.lo);
        loop {
            x = self.next_in_shard(x);
            if x >= self.hi {
                return None;
            }
            match self.done.range_of(x) {
                // Done ranges end before u64::MAX: each turn moves past one.
                Some((_, end)) => x = end,
                None => return Some(x),
            }
        }
    }

    /// The chunk holding `x` ends here (or the window does).
    fn chunk_end(&self, x: u64) -> u64 {
        if self.count == 1 {
            return self.hi;
        }
        let k = (x - self.lo) / self.chunk;
        self.lo
            .saturating_add(k.saturating_add(1).saturating_mul(self.chunk))
            .min(self.hi)
    }

    /// The first id at or after `x` that belongs to this shard (ignoring done ranges).
    fn next_in_shard(&self, x: u64) -> u64 {
        let x = x.max(self.lo);
        if self.count == 1 || x >= self.hi {
            return x;
        }
        let k = (x - self.lo) / self.chunk;
        // Chunks from k to the next one of this shard, without overflow for any count.
        let rest = k % self.count;
        let skip = if self.index >= rest {
            self.index - rest
        } else {
            self.count - (rest - self.index)
        };
        if skip == 0 {
            x
        } else {
            self.lo
                .saturating_add(k.saturating_add(skip).saturating_mul(self.chunk))
        }
    }
}

/// The ids a run of an [`IdPlan`] over an open space (inputs read as the run goes) hands
/// out, for a search that reads ahead and must know which reads it will be asked for.
///
/// The engine's own rule, resolved the way a run resolves it: the window, the shard's chunks
/// (the default chunk of an open window when none is set), minus the done ranges.
#[derive(Debug, Clone)]
pub struct PlannedIds(ResolvedPlan);

impl PlannedIds {
    /// The ids `plan` hands out when the space is open.
    #[must_use]
    pub fn of_open_space(plan: &IdPlan) -> Self {
        Self(ResolvedPlan::new(plan, None))
    }

    /// The ids of a plan the engine has resolved for a run.
    pub(crate) fn from_resolved(plan: &ResolvedPlan) -> Self {
        Self(plan.clone())
    }

    /// True when the run hands out id `id`.
    #[must_use]
    pub fn contains(&self, id: u64) -> bool {
        self.0.hands_out(id)
    }

    /// The first id at or after `id` that the run hands out, if any.
    #[must_use]
    pub fn first_from(&self, id: u64) -> Option<u64> {
        self.0.first_from(id)
    }
}

/// The submitter's place in a [`ResolvedPlan`]: walks its ranges lazily, in order.
#[derive(Debug, Default)]
pub(crate) struct PlanCursor {
    next: u64,
    /// Index of the first done range that may still lie ahead.
    done_index: usize,
}

impl PlanCursor {
    /// Where the walk stands: every plan id below it was handed out or skipped.
    pub fn position(&self) -> u64 {
        self.next
    }

    /// The next range of at most `max` plan ids below `end`, contiguous in the space;
    /// `None` when no plan id is left below `end`.
    pub fn next_range(&mut self, plan: &ResolvedPlan, max: u64, end: u64) -> Option<Range<u64>> {
        let end = end.min(plan.hi);
        loop {
            self.next = plan.next_in_shard(self.next);
            if self.next >= end {
                return None;
            }
            let done = plan.done.ranges();
            while self.done_index < done.len() && done[self.done_index].1 <= self.next {
                self.done_index += 1;
            }
            let mut stop = plan.chunk_end(self.next).min(end);
            if let Some(&(start, done_end)) = done.get(self.done_index) {
                if start <= self.next {
                    self.next = done_end;
                    continue;
                }
                stop = stop.min(start);
            }
            let stop = stop.min(self.next.saturating_add(max.max(1)));
            let range = self.next..stop;
            self.next = stop;
            return Some(range);
        }
    }

    /// True once no plan id is left at all (the window is used up).
    pub fn window_done(&self, plan: &ResolvedPlan) -> bool {
        plan.next_in_shard(self.next) >= plan.hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_skips_other_shards_and_done_ranges() {
        let plan = IdPlan {
            skip: 2,
            limit: Some(20),
            shard: Some(Shard::new(1, 2).map(|s| s.with_chunk(3)).expect("valid shard")),
            done: vec![(9, 10)],
        };
        let plan = ResolvedPlan::new(&plan, Some(100));
        let mut cursor = PlanCursor::default();
        let mut ranges = Vec::new();
        while let Some(range) = cursor.next_range(&plan, 2, 100) {
            ranges.push(range);
        }
        // Window 2..22, chunks of 3: 2..5 (0), 5..8 (1), 8..11 (0), 11..14 (1), 14..17, 17..20 (1), 20..22.
        assert_eq!(ranges, vec![5..7, 7..8, 11..13, 13..14, 17..19, 19..20]);
        assert_eq!(plan.total(100), 9);
        assert_eq!(plan.rank(11), 3);
    }

    #[test]
    fn planned_ids_are_exactly_the_ids_the_cursor_hands_out() {
        // An open space: the default chunk of an open window, a window, done ranges.
        for shard in [None, Some((0, 3)), Some((2, 3))] {
            let plan = IdPlan {
                skip: 5,
                limit: Some(3 * MAX_SHARD_CHUNK + 17),
                shard: shard.map(|(index, count)| Shard::new(index, count).expect("valid shard")),
                done: vec![(40, 90), (MAX_SHARD_CHUNK, MAX_SHARD_CHUNK + 3)],
            };
            let planned = PlannedIds::of_open_space(&plan);
            let resolved = ResolvedPlan::new(&plan, None);
            let mut cursor = PlanCursor::default();
            let mut handed_out = RangeSet::default();
            let end = 5 * MAX_SHARD_CHUNK;
            while let Some(range) = cursor.next_range(&resolved, 100_000, end) {
                handed_out.insert((range.start, range.end));
            }
            let differs = (0..end).find(|&id| planned.contains(id) != handed_out.contains(id));
            assert_eq!(differs, None, "shard {shard:?}");
            for from in [
                0,
                5,
                39,
                40,
                89,
                90,
                MAX_SHARD_CHUNK - 1,
                3 * MAX_SHARD_CHUNK + 21,
            ] {
                let first = (from..end).find(|&id| handed_out.contains(id));
                assert_eq!(planned.first_from(from), first, "shard {shard:?}, from {from}");
            }
        }
    }
}
