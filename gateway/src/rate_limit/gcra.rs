//! The generic cell rate algorithm: one timestamp per bucket (the theoretical arrival
//! time, TAT) instead of a token count and a refill clock, so a check is one atomic
//! read-modify-write — which is what makes it cheap to share through Redis.

use std::time::Duration;

use super::RateTier;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Limited { retry_after: Duration },
}

/// Milliseconds between two units at the sustained rate, and how far ahead of now the TAT
/// may run (the burst).
pub(super) fn parameters(tier: RateTier) -> (f64, f64) {
    let emission_interval = 1000.0 / tier.requests_per_second.max(f64::MIN_POSITIVE);
    let tolerance = emission_interval * f64::from(tier.burst.max(1));
    (emission_interval, tolerance)
}

/// One GCRA step at `now` (ms) for a bucket whose TAT is `tat` (ms, if any). Returns the
/// decision and the new TAT to store (unchanged when limited).
pub(super) fn step(now: f64, tat: Option<f64>, tier: RateTier, units: u32) -> (Decision, f64) {
    let (emission_interval, tolerance) = parameters(tier);
    let tat = tat.unwrap_or(now).max(now);
    let new_tat = tat + emission_interval * f64::from(units.max(1));
    let allowed_at = new_tat - tolerance;
    if allowed_at <= now {
        (Decision::Allowed, new_tat)
    } else {
        let wait = Duration::from_secs_f64((allowed_at - now) / 1000.0);
        (Decision::Limited { retry_after: wait }, tat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIER: RateTier = RateTier { requests_per_second: 10.0, burst: 3 };

    #[test]
    fn allows_the_burst_then_limits_until_one_interval_passes() {
        let mut tat = None;
        for _ in 0..3 {
            let (decision, next) = step(0.0, tat, TIER, 1);
            assert_eq!(decision, Decision::Allowed);
            tat = Some(next);
        }
        let (decision, unchanged) = step(0.0, tat, TIER, 1);
        assert_eq!(decision, Decision::Limited { retry_after: Duration::from_millis(100) });
        assert_eq!(Some(unchanged), tat);
        assert_eq!(step(100.0, tat, TIER, 1).0, Decision::Allowed);
    }

    #[test]
    fn charges_cost_units_against_the_same_bucket() {
        let (decision, tat) = step(0.0, None, TIER, 3);
        assert_eq!(decision, Decision::Allowed);
        assert!(matches!(step(0.0, Some(tat), TIER, 1).0, Decision::Limited { .. }));
        assert!(matches!(step(0.0, None, TIER, 4).0, Decision::Limited { .. }), "more than the burst never fits");
    }

    #[test]
    fn an_idle_bucket_refills_to_the_burst_and_no_further() {
        let (_, tat) = step(0.0, None, TIER, 3);
        let mut tat = Some(tat);
        for _ in 0..3 {
            let (decision, next) = step(10_000.0, tat, TIER, 1);
            assert_eq!(decision, Decision::Allowed);
            tat = Some(next);
        }
        assert!(matches!(step(10_000.0, tat, TIER, 1).0, Decision::Limited { .. }));
    }
}
