//! SHA-256 compression of eight blocks at once, one per 32-bit lane of AVX2 registers (x86-64, detected at run time), for proof of work's nonces.

/// Blocks compressed at once.
pub(crate) const LANES: usize = 8;

/// One word for each lane.
pub(crate) type LaneWords = [u32; LANES];

/// Proof that this CPU runs AVX2 (x86-64, detected at run time): the only way to call
/// [`Avx2::compress`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx2 {
    /// Never made off x86-64.
    #[cfg(not(target_arch = "x86_64"))]
    never: std::convert::Infallible,
}

impl Avx2 {
    /// The proof, if this CPU has AVX2.
    #[must_use]
    pub fn detect() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx2").then_some(Self {})
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            None
        }
    }

    /// The proof, if eight lanes beat one compression at a time on this CPU: it has AVX2 and
    /// lacks the SHA extensions (with them, `sha2`'s one-block compression runs in hardware,
    /// several times faster than software in one lane, and faster than eight lanes of it).
    #[must_use]
    pub fn preferred() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        {
            Self::detect().filter(|_| !std::arch::is_x86_feature_detected!("sha"))
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            None
        }
    }

    /// Compresses one block per lane into that lane's state: `state[i][lane]` is word `i` of
    /// lane `lane`'s state, `block[t][lane]` word `t` of its block (big-endian words, as
    /// SHA-256 reads them).
    pub fn compress(self, state: &mut [LaneWords; 8], block: &[LaneWords; 16]) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `self` exists only where AVX2 was detected.
        unsafe {
            avx2::compress(state, block);
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (state, block);
            match self.never {}
        }
    }
}

/// SHA-256's round constants (FIPS 180-4, 4.2.2).
const K: [u32; 64] = [
    0x428a_2f98,
    0x7137_4491,
    0xb5c0_fbcf,
    0xe9b5_dba5,
    0x3956_c25b,
    0x59f1_11f1,
    0x923f_82a4,
    0xab1c_5ed5,
    0xd807_aa98,
    0x1283_5b01,
    0x2431_85be,
    0x550c_7dc3,
    0x72be_5d74,
    0x80de_b1fe,
    0x9bdc_06a7,
    0xc19b_f174,
    0xe49b_69c1,
    0xefbe_4786,
    0x0fc1_9dc6,
    0x240c_a1cc,
    0x2de9_2c6f,
    0x4a74_84aa,
    0x5cb0_a9dc,
    0x76f9_88da,
    0x983e_5152,
    0xa831_c66d,
    0xb003_27c8,
    0xbf59_7fc7,
    0xc6e0_0bf3,
    0xd5a7_9147,
    0x06ca_6351,
    0x1429_2967,
    0x27b7_0a85,
    0x2e1b_2138,
    0x4d2c_6dfc,
    0x5338_0d13,
    0x650a_7354,
    0x766a_0abb,
    0x81c2_c92e,
    0x9272_2c85,
    0xa2bf_e8a1,
    0xa81a_664b,
    0xc24b_8b70,
    0xc76c_51a3,
    0xd192_e819,
    0xd699_0624,
    0xf40e_3585,
    0x106a_a070,
    0x19a4_c116,
    0x1e37_6c08,
    0x2748_774c,
    0x34b0_bcb5,
    0x391c_0cb3,
    0x4ed8_aa4a,
    0x5b9c_ca4f,
    0x682e_6ff3,
    0x748f_82ee,
    0x78a5_636f,
    0x84c8_7814,
    0x8cc7_0208,
    0x90be_fffa,
    0xa450_6ceb,
    0xbef9_a3f7,
    0xc671_78f2,
];

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{K, LaneWords};
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi32, _mm256_and_si256, _mm256_andnot_si256, _mm256_loadu_si256,
        _mm256_or_si256, _mm256_set1_epi32, _mm256_slli_epi32, _mm256_srli_epi32, _mm256_storeu_si256,
        _mm256_xor_si256,
    };

    /// Rotates each lane right by `$n` bits.
    macro_rules! rotr {
        ($x:expr, $n:literal) => {
            _mm256_or_si256(
                _mm256_srli_epi32::<$n>($x),
                _mm256_slli_epi32::<{ 32 - $n }>($x),
            )
        };
    }

    #[target_feature(enable = "avx2")]
    fn load(words: &LaneWords) -> __m256i {
        // SAFETY: `words` is 32 readable bytes; the unaligned load has no alignment needs.
        unsafe { _mm256_loadu_si256(words.as_ptr().cast()) }
    }

    #[target_feature(enable = "avx2")]
    fn store(words: &mut LaneWords, value: __m256i) {
        // SAFETY: `words` is 32 writable bytes; the unaligned store has no alignment needs.
        unsafe { _mm256_storeu_si256(words.as_mut_ptr().cast(), value) }
    }

    #[target_feature(enable = "avx2")]
    fn xor3(a: __m256i, b: __m256i, c: __m256i) -> __m256i {
        _mm256_xor_si256(_mm256_xor_si256(a, b), c)
    }

    /// Σ0, Σ1, σ0 and σ1 of FIPS 180-4, 4.1.2, lane by lane.
    #[target_feature(enable = "avx2")]
    fn big_sigma0(a: __m256i) -> __m256i {
        xor3(rotr!(a, 2), rotr!(a, 13), rotr!(a, 22))
    }

    #[target_feature(enable = "avx2")]
    fn big_sigma1(e: __m256i) -> __m256i {
        xor3(rotr!(e, 6), rotr!(e, 11), rotr!(e, 25))
    }

    #[target_feature(enable = "avx2")]
    fn small_sigma0(x: __m256i) -> __m256i {
        xor3(rotr!(x, 7), rotr!(x, 18), _mm256_srli_epi32::<3>(x))
    }

    #[target_feature(enable = "avx2")]
    fn small_sigma1(x: __m256i) -> __m256i {
        xor3(rotr!(x, 17), rotr!(x, 19), _mm256_srli_epi32::<10>(x))
    }

    /// One block per lane into each lane's state (see [`super::compress`]).
    #[target_feature(enable = "avx2")]
    pub(super) fn compress(state: &mut [LaneWords; 8], block: &[LaneWords; 16]) {
        let mut schedule = block.map(|words| load(&words));
        let start = state.map(|words| load(&words));
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = start;
        for (round, constant) in K.iter().enumerate() {
            let word = if round < 16 {
                schedule[round]
            } else {
                let next = _mm256_add_epi32(
                    _mm256_add_epi32(
                        small_sigma1(schedule[(round - 2) % 16]),
                        schedule[(round - 7) % 16],
                    ),
                    _mm256_add_epi32(small_sigma0(schedule[(round - 15) % 16]), schedule[round % 16]),
                );
                schedule[round % 16] = next;
                next
            };
            #[expect(
                clippy::cast_possible_wrap,
                reason = "the constant's bits, as SHA-256 adds them"
            )]
            let constant = _mm256_set1_epi32(*constant as i32);
            let choose = _mm256_xor_si256(_mm256_and_si256(e, f), _mm256_andnot_si256(e, g));
            let majority =
                _mm256_or_si256(_mm256_and_si256(a, b), _mm256_and_si256(c, _mm256_or_si256(a, b)));
            let temp1 = _mm256_add_epi32(
                _mm256_add_epi32(h, big_sigma1(e)),
                _mm256_add_epi32(choose, _mm256_add_epi32(constant, word)),
            );
            let temp2 = _mm256_add_epi32(big_sigma0(a), majority);
            (h, g, f) = (g, f, e);
            e = _mm256_add_epi32(d, temp1);
            (d, c, b) = (c, b, a);
            a = _mm256_add_epi32(temp1, temp2);
        }
        for ((words, before), after) in state.iter_mut().zip(start).zip([a, b, c, d, e, f, g, h]) {
            store(words, _mm256_add_epi32(before, after));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::compress256;
    use sha2::digest::generic_array::GenericArray;

    /// Eight different blocks and states through the lanes give what one compression each gives.
    #[test]
    fn each_lane_compresses_as_sha2_does() {
        let Some(avx2) = Avx2::detect() else {
            eprintln!("SKIPPED: this CPU has no AVX2, so the eight-lane compression is never used");
            return;
        };
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            u32::try_from(seed >> 32).expect("the top 32 bits fit")
        };
        for _ in 0..50 {
            let lanes_state: [[u32; 8]; LANES] = std::array::from_fn(|_| std::array::from_fn(|_| next()));
            let lanes_block: [[u32; 16]; LANES] = std::array::from_fn(|_| std::array::from_fn(|_| next()));
            let mut state: [LaneWords; 8] =
                std::array::from_fn(|i| std::array::from_fn(|lane| lanes_state[lane][i]));
            let block: [LaneWords; 16] =
                std::array::from_fn(|t| std::array::from_fn(|lane| lanes_block[lane][t]));
            avx2.compress(&mut state, &block);
            for lane in 0..LANES {
                let mut expected = lanes_state[lane];
                let bytes: Vec<u8> = lanes_block[lane].iter().flat_map(|w| w.to_be_bytes()).collect();
                compress256(
                    &mut expected,
                    std::slice::from_ref(GenericArray::from_slice(&bytes)),
                );
                let got: [u32; 8] = std::array::from_fn(|i| state[i][lane]);
                assert_eq!(got, expected, "lane {lane}");
            }
        }
    }
}
