//! The in-process limiter: GCRA state per bucket in a map, used when no Redis is
//! configured and while Redis is unreachable.

use std::{collections::HashMap, time::Instant};

use parking_lot::Mutex;

use super::{Decision, RateTier, gcra};

/// Buckets whose TAT lies this far in the past are full again and can be forgotten.
const SWEEP_EVERY: usize = 4096;

pub(super) struct LocalLimiter {
    epoch: Instant,
    buckets: Mutex<(HashMap<String, f64>, usize)>,
}

impl Default for LocalLimiter {
    fn default() -> Self {
        LocalLimiter { epoch: Instant::now(), buckets: Mutex::new((HashMap::new(), 0)) }
    }
}

impl LocalLimiter {
    pub(super) fn charge(&self, key: &str, tier: RateTier, units: u32) -> Decision {
        let now = self.epoch.elapsed().as_secs_f64() * 1000.0;
        let mut guard = self.buckets.lock();
        let (buckets, charges) = &mut *guard;
        let (decision, tat) = gcra::step(now, buckets.get(key).copied(), tier, units);
        buckets.insert(key.to_owned(), tat);
        *charges += 1;
        // Bound memory: a bucket whose TAT has passed is indistinguishable from a new one.
        if *charges % SWEEP_EVERY == 0 {
            buckets.retain(|_, tat| *tat > now);
        }
        decision
    }
}
