//! A tiny SplitMix64 generator: reproducible demo data from a fixed seed, and fresh record ids
//! from a per-process random seed. Not for anything secret.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{SystemTime, UNIX_EPOCH};

use jiff::{SignedDuration, Timestamp};

/// Characters of the random part of ids (`ref_3k9x0a7mq2bz`).
const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const ID_LEN: usize = 12;

pub struct Prng(u64);

impl Prng {
    pub fn new(seed: u64) -> Prng {
        Prng(seed)
    }

    /// Seeded from the hasher keys std draws from the OS, mixed with the clock.
    pub fn unpredictable() -> Prng {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Prng(RandomState::new().hash_one(nanos))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`; `n` must not be 0.
    pub fn below(&mut self, n: u64) -> u64 {
        // Multiply-shift keeps the bias below 2^-64 per draw, plenty for demo data.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A whole second in `from..to` (just `from` when the range is empty).
    pub fn timestamp_between(&mut self, from: Timestamp, to: Timestamp) -> Timestamp {
        let span = (to.as_second() - from.as_second()).unsigned_abs();
        from + SignedDuration::from_secs(self.below(span.max(1)) as i64)
    }

    /// `prefix` followed by 12 lowercase letters and digits.
    pub fn id(&mut self, prefix: &str) -> String {
        let mut id = String::with_capacity(prefix.len() + ID_LEN);
        id.push_str(prefix);
        for _ in 0..ID_LEN {
            id.push(char::from(*self.pick(ID_ALPHABET)));
        }
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let (mut a, mut b) = (Prng::new(7), Prng::new(7));
        let first: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let second: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(first, second);
        assert_ne!(first[0], first[1]);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = Prng::new(1);
        let mut seen = [false; 6];
        for _ in 0..1000 {
            let n = rng.below(6) as usize;
            seen[n] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn timestamps_fall_inside_the_range() {
        let mut rng = Prng::new(5);
        let from = Timestamp::constant(1_000_000, 0);
        let to = Timestamp::constant(1_000_010, 0);
        for _ in 0..100 {
            let at = rng.timestamp_between(from, to);
            assert!(from <= at && at < to, "{at}");
        }
        assert_eq!(rng.timestamp_between(from, from), from);
    }

    #[test]
    fn ids_have_prefix_and_twelve_lowercase_alnum() {
        let id = Prng::new(3).id("ref_");
        let tail = id.strip_prefix("ref_").unwrap();
        assert_eq!(tail.len(), 12);
        assert!(
            tail.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
    }

    #[test]
    fn unpredictable_generators_differ() {
        assert_ne!(
            Prng::unpredictable().id("ref_"),
            Prng::unpredictable().id("ref_")
        );
    }
}
