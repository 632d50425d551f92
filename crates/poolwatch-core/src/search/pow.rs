//! Proof of work: find a nonce whose SHA-256 with the data has enough leading zero bits.

use super::sha256x8::{Avx2, LANES, LaneWords};
use super::{Goal, Outcome, Search};
use crate::cancel::CancelToken;
use sha2::compress256;
use sha2::digest::generic_array::GenericArray;
use std::ops::Range;
use std::slice;

/// Task `n` hashes `data ++ n.to_le_bytes()`; the score is its leading zero bits.
#[derive(Debug, Clone)]
pub struct Pow {
    /// Size of the nonce space.
    pub tasks: u64,
    /// The bytes hashed before the nonce.
    pub data: String,
    /// Leading zero bits needed for a match.
    pub bits: u32,
}

/// Leading zero bits of a digest.
#[must_use]
pub fn leading_zero_bits(digest: &[u8]) -> u32 {
    let mut bits = 0;
    for byte in digest {
        if *byte == 0 {
            bits += 8;
        } else {
            return bits + byte.leading_zeros();
        }
    }
    bits
}

/// Leading zero bits of a digest given as its eight big-endian words.
fn leading_zero_bits_of_words(words: &[u32; 8]) -> u32 {
    let mut bits = 0;
    for word in words {
        if *word == 0 {
            bits += 32;
        } else {
            return bits + word.leading_zeros();
        }
    }
    bits
}

/// The digest's bytes from its eight big-endian words.
fn digest_bytes(words: &[u32; 8]) -> [u8; 32] {
    let mut bytes = [0; 32];
    for (chunk, word) in bytes.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    bytes
}

/// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// Bytes in one SHA-256 block.
const BLOCK: usize = 64;

/// SHA-256 of `data ++ nonce` with everything but the nonce done once: the state after the
/// data's full blocks (the midstate) and the padded last block(s) with a slot for the nonce.
/// Each nonce then costs one compression, or two when the data's last partial block is longer
/// than 47 bytes and the nonce and padding spill into a second block.
struct PreparedHash {
    /// The state after the data's full 64-byte blocks.
    midstate: [u32; 8],
    /// The data's last partial block, the nonce, the `0x80` byte, zeros and the bit length.
    tail: [u8; 2 * BLOCK],
    /// Where the nonce's eight little-endian bytes go in `tail`.
    nonce_at: usize,
    /// Whether `tail` is two blocks rather than one.
    two_blocks: bool,
}

impl PreparedHash {
    /// Compresses the full blocks of `data` and pads the rest around a slot for the nonce.
    fn new(data: &[u8]) -> Self {
        let (full, rest) = data.split_at(data.len() - data.len() % BLOCK);
        let mut midstate = SHA256_IV;
        for block in full.chunks_exact(BLOCK) {
            compress256(&mut midstate, slice::from_ref(GenericArray::from_slice(block)));
        }
        let mut tail = [0; 2 * BLOCK];
        tail[..rest.len()].copy_from_slice(rest);
        let nonce_at = rest.len();
        let padding_at = nonce_at + 8;
        tail[padding_at] = 0x80;
        // The padding byte and the 8-byte length must follow the nonce in the same block.
        let two_blocks = padding_at + 1 + 8 > BLOCK;
        let message_bits = (data.len() as u64 + 8).wrapping_mul(8);
        let end = if two_blocks { 2 * BLOCK } else { BLOCK };
        tail[end - 8..end].copy_from_slice(&message_bits.to_be_bytes());
        Self {
            midstate,
            tail,
            nonce_at,
            two_blocks,
        }
    }

    /// The digest of `data ++ nonce.to_le_bytes()` as eight big-endian words.
    #[inline]
    fn words(&mut self, nonce: u64) -> [u32; 8] {
        self.tail[self.nonce_at..self.nonce_at + 8].copy_from_slice(&nonce.to_le_bytes());
        let (first, second) = self.tail.split_at(BLOCK);
        let mut state = self.midstate;
        compress256(&mut state, slice::from_ref(GenericArray::from_slice(first)));
        if self.two_blocks {
            compress256(&mut state, slice::from_ref(GenericArray::from_slice(second)));
        }
        state
    }

    /// Word `word` of the tail, big-endian as SHA-256 reads it.
    fn tail_word(&self, word: usize) -> u32 {
        let bytes = &self.tail[4 * word..4 * word + 4];
        u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }

    /// The tail's blocks for eight nonces at a time, every word broadcast to the lanes.
    fn lane_blocks(&self, avx2: Avx2) -> LaneBlocks {
        LaneBlocks {
            avx2,
            blocks: std::array::from_fn(|block| {
                std::array::from_fn(|t| [self.tail_word(block * 16 + t); LANES])
            }),
            nonce_words: self.nonce_at / 4..(self.nonce_at + 8).div_ceil(4),
        }
    }

    /// The digests of nonces `first..first + LANES` (`[lane][word]`), hashed side by side in
    /// the lanes of [`Avx2::compress`].
    fn lane_words(&mut self, lanes: &mut LaneBlocks, first: u64) -> [[u32; 8]; LANES] {
        for (lane, nonce) in (first..).take(LANES).enumerate() {
            self.tail[self.nonce_at..self.nonce_at + 8].copy_from_slice(&nonce.to_le_bytes());
            for word in lanes.nonce_words.clone() {
                lanes.blocks[word / 16][word % 16][lane] = self.tail_word(word);
            }
        }
        let mut state: [LaneWords; 8] = self.midstate.map(|word| [word; LANES]);
        lanes.avx2.compress(&mut state, &lanes.blocks[0]);
        if self.two_blocks {
            lanes.avx2.compress(&mut state, &lanes.blocks[1]);
        }
        std::array::from_fn(|lane| std::array::from_fn(|word| state[word][lane]))
    }
}

/// [`PreparedHash`]'s tail for [`LANES`] nonces: `blocks[b][t][lane]` is word `t` of block `b`.
struct LaneBlocks {
    avx2: Avx2,
    blocks: [[LaneWords; 16]; 2],
    /// The tail's words (0 to 31, across both blocks) that hold bytes of the nonce.
    nonce_words: Range<usize>,
}

impl Pow {
    /// The digest of `data ++ nonce` as little-endian bytes.
    ///
    /// Prepares the hash of the data on every call: [`Search::run_batch`] prepares it once per chunk.
    #[must_use]
    pub fn digest(&self, nonce: u64) -> [u8; 32] {
        digest_bytes(&PreparedHash::new(self.data.as_bytes()).words(nonce))
    }
}

impl Search for Pow {
    fn name(&self) -> &str {
        "pow"
    }

    fn match_odds(&self) -> super::MatchOdds {
        super::MatchOdds::PerTask(0.5_f64.powf(f64::from(self.bits)))
    }

    fn params(&self) -> String {
        format!("tasks={} data={:?} bits={}", self.tasks, self.data, self.bits)
    }

    fn space(&self) -> u64 {
        self.tasks
    }

    fn goal(&self) -> Goal {
        Goal::Maximize
    }

    fn run(&self, task: u64, _cancel: &CancelToken) -> Outcome {
        let digest = self.digest(task);
        let zeros = leading_zero_bits(&digest);
        if zeros >= self.bits {
            match_outcome(task, &digest, zeros)
        } else {
            Outcome::Scored(f64::from(zeros))
        }
    }

    /// A hash takes well under a microsecond: run chunks of nonces in one loop.
    fn tight_batches(&self) -> bool {
        true
    }

    /// Hashes the nonces of `tasks` in order, eight at a time side by side where the CPU has
    /// AVX2 but no SHA extensions, and stops on cancel within eight nonces. Every score is a candidate best, but
    /// only one that beats the best seen earlier in this chunk can beat the run's best, so
    /// only those (and matches) are passed on: the run's bests come out exactly as with
    /// [`Search::run`] per nonce, without a call per nonce.
    fn run_batch(
        &self,
        tasks: Range<u64>,
        cancel: &CancelToken,
        notable: &mut dyn FnMut(u64, Outcome),
    ) -> u64 {
        self.hash_range(tasks, cancel, notable, Avx2::preferred())
    }
}

impl Pow {
    /// [`Search::run_batch`], in eight lanes with `avx2` (a chunk's last nonces, and every
    /// nonce without it, one at a time).
    fn hash_range(
        &self,
        tasks: Range<u64>,
        cancel: &CancelToken,
        notable: &mut dyn FnMut(u64, Outcome),
        avx2: Option<Avx2>,
    ) -> u64 {
        let mut hash = PreparedHash::new(self.data.as_bytes());
        let mut lanes = avx2.map(|avx2| hash.lane_blocks(avx2));
        let mut judge = Judge {
            bits: self.bits,
            chunk_best: None,
            notable,
        };
        let mut next = tasks.start;
        while next < tasks.end && !cancel.is_cancelled() {
            match lanes.as_mut() {
                Some(lanes) if tasks.end - next >= LANES as u64 => {
                    // The digests first: `next..` would step once past the last nonce.
                    for (words, task) in hash.lane_words(lanes, next).iter().zip(next..) {
                        judge.judge(task, words);
                    }
                    next += LANES as u64;
                }
                _ => {
                    judge.judge(next, &hash.words(next));
                    next += 1;
                }
            }
        }
        next - tasks.start
    }
}

/// Passes on a chunk's matches and the scores that beat the best seen earlier in it.
struct Judge<'a> {
    bits: u32,
    chunk_best: Option<u32>,
    notable: &'a mut dyn FnMut(u64, Outcome),
}

impl Judge<'_> {
    #[inline]
    fn judge(&mut self, task: u64, words: &[u32; 8]) {
        let zeros = leading_zero_bits_of_words(words);
        if zeros >= self.bits {
            self.chunk_best = self.chunk_best.max(Some(zeros));
            (self.notable)(task, match_outcome(task, &digest_bytes(words), zeros));
        } else if self.chunk_best.is_none_or(|best| zeros > best) {
            self.chunk_best = Some(zeros);
            (self.notable)(task, Outcome::Scored(f64::from(zeros)));
        }
    }
}

/// The outcome of a nonce whose digest has enough leading zero bits.
fn match_outcome(task: u64, digest: &[u8; 32], zeros: u32) -> Outcome {
    // The full digest: machine output carries it whole; the screen may shorten it.
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Outcome::Match {
        value: format!("nonce {task} hash {hex}"),
        score: Some(f64::from(zeros)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use sha2::{Digest, Sha256};

    /// The plain `Digest` path: SHA-256 over the data, then the nonce.
    fn reference_digest(data: &str, nonce: u64) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(data.as_bytes());
        hasher.update(nonce.to_le_bytes());
        hasher.finalize().into()
    }

    /// What `run_batch` must report, worked out with the `Digest` path: every match, and every
    /// score above the best seen earlier in the chunk.
    fn reference_events(pow: &Pow, tasks: Range<u64>) -> Vec<(u64, Outcome)> {
        let mut chunk_best = None;
        let mut events = Vec::new();
        for task in tasks {
            let digest = reference_digest(&pow.data, task);
            let zeros = leading_zero_bits(&digest);
            if zeros >= pow.bits {
                chunk_best = chunk_best.max(Some(zeros));
                events.push((task, match_outcome(task, &digest, zeros)));
            } else if chunk_best.is_none_or(|best| zeros > best) {
                chunk_best = Some(zeros);
                events.push((task, Outcome::Scored(f64::from(zeros))));
            }
        }
        events
    }

    /// One lane always, and eight where the CPU can (said on stderr where it cannot).
    fn lane_choices() -> Vec<Option<Avx2>> {
        let eight = Avx2::detect();
        if eight.is_none() {
            eprintln!("SKIPPED: this CPU has no AVX2, so only the one-lane path is tested");
        }
        [None].into_iter().chain(eight.map(Some)).collect()
    }

    /// What [`Pow::hash_range`] ran and reported over `tasks` with `avx2`.
    fn hashed(
        pow: &Pow,
        tasks: Range<u64>,
        avx2: Option<Avx2>,
        cancel: &CancelToken,
    ) -> (u64, Vec<(u64, Outcome)>) {
        let mut reported = Vec::new();
        let ran = pow.hash_range(
            tasks,
            cancel,
            &mut |task, outcome| reported.push((task, outcome)),
            avx2,
        );
        (ran, reported)
    }

    /// Printable ASCII data of 0 to 200 bytes: every block layout of the tail (one block, two
    /// blocks, the nonce split across them) and up to three full blocks before it.
    fn data_strategy() -> impl Strategy<Value = String> {
        proptest::collection::vec(0x20_u8..0x7f, 0..=200)
            .prop_map(|bytes| String::from_utf8(bytes).expect("printable ASCII is UTF-8"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// One compression per nonce on the prepared block gives the `Digest` path's digest.
        #[test]
        fn digest_matches_the_digest_path(data in data_strategy(), nonce in any::<u64>()) {
            let pow = Pow { tasks: u64::MAX, data, bits: 8 };
            for nonce in [nonce, 0, u64::MAX, nonce.wrapping_add(1)] {
                prop_assert_eq!(pow.digest(nonce), reference_digest(&pow.data, nonce));
            }
        }

        /// `run_batch` reports the same nonces and the same best-score events as the `Digest`
        /// path, in one lane and (where the CPU has AVX2, whatever `run_batch` prefers) in eight.
        #[test]
        fn run_batch_events_match_the_digest_path(
            data in data_strategy(),
            start in any::<u64>().prop_map(|n| n % (u64::MAX - 300)),
            bits in 3_u32..9,
        ) {
            let pow = Pow { tasks: u64::MAX, data, bits };
            let tasks = start..start + 300;
            for avx2 in lane_choices() {
                let (ran, reported) = hashed(&pow, tasks.clone(), avx2, &CancelToken::new());
                prop_assert_eq!(ran, 300);
                prop_assert_eq!(reported, reference_events(&pow, tasks.clone()));
            }
        }
    }

    /// The block layouts at their edges: 47 bytes of tail fit one block, 48 need two, and at
    /// 57-63 the nonce itself straddles the two blocks.
    #[test]
    fn digest_matches_the_digest_path_at_every_tail_length() {
        for len in 0..=200 {
            let data = "x".repeat(len);
            let pow = Pow {
                tasks: 1,
                data,
                bits: 1,
            };
            for nonce in [0, 1, 0x0102_0304_0506_0708, u64::MAX] {
                assert_eq!(
                    pow.digest(nonce),
                    reference_digest(&pow.data, nonce),
                    "data length {len}"
                );
            }
        }
    }

    /// The eight-lane path gives each nonce the digest the one-lane path gives, at every
    /// tail layout (one block, two blocks, the nonce straddling them).
    #[test]
    fn eight_lanes_give_each_nonce_its_own_digest_at_every_tail_length() {
        let Some(avx2) = Avx2::detect() else {
            eprintln!("SKIPPED: this CPU has no AVX2, so the eight-lane path is never used");
            return;
        };
        for len in 0..=200 {
            let mut hash = PreparedHash::new("y".repeat(len).as_bytes());
            let mut lanes = hash.lane_blocks(avx2);
            for first in [0, 0x0102_0304_0506_0700, u64::MAX - 8] {
                let digests = hash.lane_words(&mut lanes, first);
                for (words, nonce) in digests.iter().zip(first..) {
                    assert_eq!(*words, hash.words(nonce), "data length {len}, nonce {nonce}");
                }
            }
        }
    }

    #[test]
    fn counts_leading_zero_bits() {
        assert_eq!(leading_zero_bits(&[0, 0, 0x10, 0xff]), 19);
        assert_eq!(leading_zero_bits(&[0x80]), 0);
        assert_eq!(leading_zero_bits(&[0, 0]), 16);
    }

    /// The tight loop reports every match and every score that could be a new best.
    #[test]
    fn run_batch_reports_matches_and_chunk_bests_like_run() {
        let pow = Pow {
            tasks: 5000,
            data: "poolwatch".into(),
            bits: 12,
        };
        let cancel = CancelToken::new();
        let mut reported = Vec::new();
        let ran = pow.run_batch(0..5000, &cancel, &mut |task, outcome| {
            reported.push((task, outcome))
        });
        assert_eq!(ran, 5000);
        let mut best = None;
        let mut expected = Vec::new();
        for task in 0..5000 {
            let outcome = pow.run(task, &cancel);
            let score = match &outcome {
                Outcome::Match { score, .. } => score.expect("pow matches have a score"),
                Outcome::Scored(score) => *score,
                other => panic!("unexpected {other:?}"),
            };
            let is_match = matches!(outcome, Outcome::Match { .. });
            if is_match || best.is_none_or(|b| score > b) {
                expected.push((task, outcome));
            }
            best = Some(best.map_or(score, |b: f64| b.max(score)));
        }
        assert_eq!(reported, expected);
        assert!(reported.iter().any(|(_, o)| matches!(o, Outcome::Match { .. })));
    }

    /// The last nonces of the space, in both paths: nothing steps past `u64::MAX`.
    #[test]
    fn the_last_nonces_of_the_space_hash_like_the_digest_path() {
        let pow = Pow {
            tasks: u64::MAX,
            data: "end".into(),
            bits: 4,
        };
        // Two full groups: the second ends on the last nonce.
        let tasks = u64::MAX - 16..u64::MAX;
        for avx2 in lane_choices() {
            let (ran, reported) = hashed(&pow, tasks.clone(), avx2, &CancelToken::new());
            assert_eq!(ran, 16);
            assert_eq!(reported, reference_events(&pow, tasks.clone()));
        }
    }

    /// A cancel during a chunk stops it within one group of eight nonces, in both paths.
    #[test]
    fn run_batch_stops_within_a_group_when_cancelled_during_the_chunk() {
        let pow = Pow {
            tasks: 10_000,
            data: "poolwatch".into(),
            bits: 64,
        };
        for avx2 in lane_choices() {
            let cancel = CancelToken::new();
            // The first nonce is always a new best: its event cancels the run.
            let ran = pow.hash_range(0..10_000, &cancel, &mut |_, _| cancel.cancel(), avx2);
            let group = if avx2.is_some() { LANES as u64 } else { 1 };
            assert_eq!(ran, group, "{avx2:?}");
        }
    }

    #[test]
    fn run_batch_stops_on_cancel() {
        let pow = Pow {
            tasks: 100,
            data: String::new(),
            bits: 64,
        };
        let cancel = CancelToken::new();
        cancel.cancel();
        assert_eq!(pow.run_batch(0..100, &cancel, &mut |_, _| {}), 0);
    }
}
