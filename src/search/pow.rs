//! Proof of work: find a nonce whose SHA-256 with the data has enough leading zero bits.

use super::{Goal, Outcome, Search};
use crate::cancel::CancelToken;
use sha2::{Digest, Sha256};
use std::ops::Range;

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

impl Pow {
    /// The digest of `data ++ nonce` as little-endian bytes.
    #[must_use]
    pub fn digest(&self, nonce: u64) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(self.data.as_bytes());
        hasher.update(nonce.to_le_bytes());
        hasher.finalize().into()
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

    /// Hashes the nonces of `tasks` in order, stopping at once on cancel. Every score is
    /// a candidate best, but only one that beats the best seen earlier in this chunk can
    /// beat the run's best, so only those (and matches) are passed on: the run's bests
    /// come out exactly as with [`Search::run`] per nonce, without a call per nonce.
    fn run_batch(
        &self,
        tasks: Range<u64>,
        cancel: &CancelToken,
        notable: &mut dyn FnMut(u64, Outcome),
    ) -> u64 {
        let mut chunk_best = None;
        let mut ran = 0;
        for task in tasks {
            if cancel.is_cancelled() {
                break;
            }
            let digest = self.digest(task);
            let zeros = leading_zero_bits(&digest);
            ran += 1;
            if zeros >= self.bits {
                chunk_best = chunk_best.max(Some(zeros));
                notable(task, match_outcome(task, &digest, zeros));
            } else if chunk_best.is_none_or(|best| zeros > best) {
                chunk_best = Some(zeros);
                notable(task, Outcome::Scored(f64::from(zeros)));
            }
        }
        ran
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
