//! Proof of work: find a nonce whose SHA-256 with the data has enough leading zero bits.

use super::{Goal, Outcome, Search};
use crate::pool::CancelToken;
use sha2::{Digest, Sha256};

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
            let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
            Outcome::Match {
                value: format!("nonce {task} hash {hex}…"),
                score: Some(f64::from(zeros)),
            }
        } else {
            Outcome::Scored(f64::from(zeros))
        }
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
}
