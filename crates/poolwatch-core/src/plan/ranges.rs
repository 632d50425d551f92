//! An exact set of completed ids as merged half-open ranges: what a checkpoint records and a resume skips.

/// Sorted, disjoint, non-touching half-open ranges `[start, end)`.
///
/// Batches complete out of order, so the set holds one range per gap between batches
/// still in flight: it stays about as small as the number of workers while a run goes on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeSet {
    ranges: Vec<(u64, u64)>,
}

impl RangeSet {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A set holding `ranges` (in any order, overlapping or not).
    #[must_use]
    pub fn from_ranges(ranges: &[(u64, u64)]) -> Self {
        let mut set = Self::new();
        for &range in ranges {
            set.insert(range);
        }
        set
    }

    /// Adds the ids `start..end`.
    pub fn insert(&mut self, (start, end): (u64, u64)) {
        if start >= end {
            return;
        }
        let first = self.ranges.partition_point(|&(_, e)| e < start);
        let mut last = first;
        let (mut merged_start, mut merged_end) = (start, end);
        while last < self.ranges.len() && self.ranges[last].0 <= end {
            merged_start = merged_start.min(self.ranges[last].0);
            merged_end = merged_end.max(self.ranges[last].1);
            last += 1;
        }
        self.ranges.splice(first..last, [(merged_start, merged_end)]);
    }

    /// Removes the one id `id`.
    pub fn remove(&mut self, id: u64) {
        let index = self.ranges.partition_point(|&(_, end)| end <= id);
        let Some(&(start, end)) = self.ranges.get(index) else {
            return;
        };
        if id < start {
            return;
        }
        let pieces = [(start, id), (id + 1, end)];
        let kept: Vec<(u64, u64)> = pieces.into_iter().filter(|(s, e)| s < e).collect();
        self.ranges.splice(index..=index, kept);
    }

    /// True when `id` is in the set.
    #[must_use]
    pub fn contains(&self, id: u64) -> bool {
        self.range_of(id).is_some()
    }

    /// The range `(start, end)` holding `id`, if one does.
    #[must_use]
    pub fn range_of(&self, id: u64) -> Option<(u64, u64)> {
        let index = self.ranges.partition_point(|&(_, end)| end <= id);
        self.ranges.get(index).copied().filter(|&(start, _)| start <= id)
    }

    /// How many ids the set holds.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|&(start, end)| end - start).sum()
    }

    /// True when the set holds no id.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The ranges, sorted.
    #[must_use]
    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_merge_and_removes_split() {
        let mut set = RangeSet::new();
        for range in [(10, 20), (30, 40), (0, 5), (20, 30), (5, 6), (50, 50), (39, 45)] {
            set.insert(range);
        }
        assert_eq!(set.ranges(), &[(0, 6), (10, 45)]);
        assert_eq!(set.len(), 41);
        set.remove(10);
        set.remove(20);
        set.remove(44);
        set.remove(7);
        assert_eq!(set.ranges(), &[(0, 6), (11, 20), (21, 44)]);
        assert!(set.contains(11) && !set.contains(20) && !set.contains(44) && set.contains(0));
    }

    #[test]
    fn matches_a_plain_set_under_random_operations() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut set = RangeSet::new();
        let mut plain = std::collections::BTreeSet::new();
        for _ in 0..2_000 {
            let start = next() % 500;
            if next() % 4 == 0 {
                set.remove(start);
                plain.remove(&start);
            } else {
                let end = start + next() % 20;
                set.insert((start, end));
                plain.extend(start..end);
            }
        }
        let from_set: Vec<u64> = set.ranges().iter().flat_map(|&(s, e)| s..e).collect();
        assert_eq!(from_set, plain.into_iter().collect::<Vec<_>>());
        assert!(set.ranges().windows(2).all(|pair| pair[0].1 < pair[1].0));
    }
}
