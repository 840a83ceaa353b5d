//! What every write (v1 `PUT`/`POST`, v2 `PUT` and batch `POST`s) goes through after the gate and
//! before it reads its body or changes anything: the configured extra delay, then the chaos roll
//! that may refuse it with a 500. Reads never come here.
//!
//! One instance is shared by both contracts, so [`Writes::set_chaos`] changes them together. The
//! roll uses a [`Prng`] with a fixed seed, so the same sequence of writes meets the same failures
//! on every run.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::prng::Prng;

/// The message of a write refused by the chaos roll, in both contracts' error shapes.
pub const INJECTED_FAILURE: &str = "Injected failure (chaos)";

/// Seed of the chaos roll, fixed so failures repeat from run to run.
const CHAOS_SEED: u64 = 0x00C4_A05E;

pub struct Writes {
    /// Slept (asynchronously) by every write before it is applied; zero normally.
    delay: Duration,
    chaos: Mutex<Chaos>,
}

struct Chaos {
    /// Chance of refusing a write, within `0.0..=1.0`.
    probability: f64,
    rng: Prng,
}

/// A write the chaos roll refused; each contract turns it into its own 500 answer.
#[derive(Debug)]
pub struct Injected;

impl Writes {
    /// `probability` is clamped into `0.0..=1.0` (NaN counts as 0).
    pub fn new(delay: Duration, probability: f64) -> Writes {
        Writes {
            delay,
            chaos: Mutex::new(Chaos {
                probability: clamp(probability),
                rng: Prng::new(CHAOS_SEED),
            }),
        }
    }

    /// Changes the chance of refusing a write from the next write on; clamped like in
    /// [`Writes::new`].
    pub fn set_chaos(&self, probability: f64) {
        self.lock().probability = clamp(probability);
    }

    /// Waits out the delay, then rolls: `Err` means answer 500 without changing anything.
    pub async fn admit(&self) -> Result<(), Injected> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        if self.roll() { Err(Injected) } else { Ok(()) }
    }

    /// True when this write is to fail.
    fn roll(&self) -> bool {
        let mut chaos = self.lock();
        // 53 random bits give a uniform fraction in 0..1, so 0.0 never fails and 1.0 always does.
        let fraction = (chaos.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        fraction < chaos.probability
    }

    /// Nothing panics while holding the lock, so a poisoned one still holds consistent values.
    fn lock(&self) -> MutexGuard<'_, Chaos> {
        self.chaos.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn clamp(probability: f64) -> f64 {
    if probability.is_nan() {
        0.0
    } else {
        probability.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures(writes: &Writes, rolls: usize) -> usize {
        (0..rolls).filter(|_| writes.roll()).count()
    }

    #[test]
    fn zero_never_fails_one_always_fails_a_half_fails_about_half() {
        let writes = Writes::new(Duration::ZERO, 0.0);
        assert_eq!(failures(&writes, 1000), 0);
        writes.set_chaos(1.0);
        assert_eq!(failures(&writes, 1000), 1000);
        writes.set_chaos(0.5);
        let half = failures(&writes, 1000);
        assert!((400..=600).contains(&half), "{half}");
    }

    #[test]
    fn out_of_range_probabilities_are_clamped() {
        let writes = Writes::new(Duration::ZERO, 7.0);
        assert_eq!(failures(&writes, 100), 100);
        writes.set_chaos(-1.0);
        assert_eq!(failures(&writes, 100), 0);
        writes.set_chaos(f64::NAN);
        assert_eq!(failures(&writes, 100), 0);
    }

    #[test]
    fn the_same_seed_fails_the_same_writes() {
        let pattern = || {
            let writes = Writes::new(Duration::ZERO, 0.3);
            (0..64).map(|_| writes.roll()).collect::<Vec<_>>()
        };
        assert_eq!(pattern(), pattern());
    }

    #[tokio::test]
    async fn admit_waits_out_the_delay_before_answering() {
        let delay = Duration::from_millis(50);
        let writes = Writes::new(delay, 1.0);
        let started = std::time::Instant::now();
        assert!(writes.admit().await.is_err());
        assert!(started.elapsed() >= delay);
        writes.set_chaos(0.0);
        assert!(writes.admit().await.is_ok());
    }
}
