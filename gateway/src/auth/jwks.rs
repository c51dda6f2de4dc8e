//! The identity provider's signing keys (JWKS), kept so that a provider outage does not
//! turn into rejected requests. A background task re-fetches the set every refresh period
//! and retries with back-off when that fails; requests only ever read the last fetched set
//! and never wait for the provider while it still holds their key. The last set keeps
//! verifying for a bounded staleness after it was fetched; past that (or before any set was
//! fetched) there is nothing to verify with, which the authenticator reports as
//! [`AuthError::KeysUnavailable`] (503), not as the caller's fault.
//!
//! A token with a `kid` the set does not hold (the provider rotated) triggers one fetch on
//! demand; concurrent requests join the fetch in flight, and on-demand fetches are spaced
//! out so garbage tokens cannot turn the gateway into a JWKS request amplifier. No lock is
//! held while a fetch is in flight.

use std::{
    sync::{Arc, Weak},
    time::{Duration, Instant},
};

use futures::future::{BoxFuture, FutureExt, Shared};
use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{JwkSet, KeyAlgorithm},
};
use parking_lot::{Mutex, RwLock};

use super::AuthError;

/// Minimum time between two fetches started on demand (unknown `kid`, no usable keys).
const MIN_ON_DEMAND_INTERVAL: Duration = Duration::from_secs(10);
/// First wait before retrying a failed background fetch; doubles up to
/// [`MAX_RETRY_DELAY`] (or the refresh period when shorter).
const FIRST_RETRY_DELAY: Duration = Duration::from_secs(1);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// How the key set is kept.
#[derive(Debug, Clone, Copy)]
pub struct JwksPolicy {
    /// How often the set is re-fetched in the background.
    pub refresh_period: Duration,
    /// How long after its fetch a set still verifies tokens when no newer one arrives.
    pub max_staleness: Duration,
}

#[derive(Debug, Clone, thiserror::Error)]
enum FetchError {
    #[error("the JWKS request failed: {0}")]
    Request(String),
    #[error("the JWKS response is not a key set: {0}")]
    NotAKeySet(String),
    #[error("the JWKS fetch task failed: {0}")]
    TaskFailed(String),
}

type SharedFetch = Shared<BoxFuture<'static, Result<(), FetchError>>>;

struct FetchedKeys {
    set: JwkSet,
    fetched_at: Instant,
}

#[derive(Default)]
struct Fetching {
    in_flight: Option<SharedFetch>,
    last_on_demand_start: Option<Instant>,
}

/// What the current set says about a token's key.
enum Lookup {
    Found(DecodingKey, Algorithm),
    /// The set holds no key with this id: perhaps the provider rotated.
    UnknownKid,
    /// The key exists but cannot verify this token (wrong algorithm, unusable JWK, no
    /// `kid` while several keys are published); fetching again would not help.
    Unusable,
    /// No set, or only one older than the staleness bound.
    NoUsableKeys,
}

pub struct JwksCache {
    inner: Arc<Inner>,
}

struct Inner {
    url: String,
    policy: JwksPolicy,
    client: reqwest::Client,
    keys: RwLock<Option<Arc<FetchedKeys>>>,
    fetching: Mutex<Fetching>,
}

impl JwksCache {
    /// A cache that fetches on first use; [`JwksCache::start`] also refreshes in the
    /// background.
    pub fn new(url: String, policy: JwksPolicy) -> Self {
        let client = reqwest::Client::builder().timeout(FETCH_TIMEOUT).build().unwrap_or_default();
        let inner = Inner { url, policy, client, keys: RwLock::new(None), fetching: Mutex::default() };
        JwksCache { inner: Arc::new(inner) }
    }

    /// Fetches now and then every refresh period in a background task that ends when the
    /// cache is dropped. Needs a Tokio runtime.
    pub fn start(url: String, policy: JwksPolicy) -> Self {
        let cache = JwksCache::new(url, policy);
        // Started here rather than in the task, so the first requests find it in flight
        // and join it instead of spending the on-demand allowance.
        let first_fetch = cache.inner.fetch(Trigger::Background);
        tokio::spawn(refresh_in_background(Arc::downgrade(&cache.inner), first_fetch));
        cache
    }

    pub async fn key_for(&self, kid: Option<&str>, alg: Algorithm) -> Result<(DecodingKey, Algorithm), AuthError> {
        let seen = self.inner.current();
        match self.inner.lookup(seen.as_deref(), kid, alg) {
            Lookup::Found(key, algorithm) => return Ok((key, algorithm)),
            Lookup::Unusable => return Err(AuthError::UnknownKey),
            Lookup::UnknownKid | Lookup::NoUsableKeys => {}
        }
        let seen_fetched_at = seen.map(|keys| keys.fetched_at);
        if let Some(fetch) = self.inner.fetch(Trigger::OnDemand { seen_fetched_at }) {
            // A failure is already logged; the lookup below reports what is left.
            let _ = fetch.await;
        }
        match self.inner.lookup(self.inner.current().as_deref(), kid, alg) {
            Lookup::Found(key, algorithm) => Ok((key, algorithm)),
            Lookup::NoUsableKeys => Err(AuthError::KeysUnavailable),
            Lookup::UnknownKid | Lookup::Unusable => Err(AuthError::UnknownKey),
        }
    }
}

#[derive(Clone, Copy)]
enum Trigger {
    Background,
    /// A request found no key in the set fetched at `seen_fetched_at`.
    OnDemand {
        seen_fetched_at: Option<Instant>,
    },
}

impl Inner {
    fn current(&self) -> Option<Arc<FetchedKeys>> {
        self.keys.read().clone()
    }

    fn lookup(&self, keys: Option<&FetchedKeys>, kid: Option<&str>, alg: Algorithm) -> Lookup {
        let Some(keys) = keys else { return Lookup::NoUsableKeys };
        if keys.fetched_at.elapsed() > self.policy.max_staleness {
            return Lookup::NoUsableKeys;
        }
        let jwk = match kid {
            Some(kid) => match keys.set.find(kid) {
                Some(jwk) => jwk,
                None => return Lookup::UnknownKid,
            },
            None if keys.set.keys.len() == 1 => &keys.set.keys[0],
            None => return Lookup::Unusable,
        };
        let algorithm = match jwk.common.key_algorithm {
            Some(KeyAlgorithm::RS256) => Algorithm::RS256,
            Some(KeyAlgorithm::ES256) => Algorithm::ES256,
            Some(KeyAlgorithm::EdDSA) => Algorithm::EdDSA,
            // Keys without `alg` are bound to the token's algorithm only among the
            // asymmetric ones we accept.
            None if matches!(alg, Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA) => alg,
            _ => return Lookup::Unusable,
        };
        match DecodingKey::from_jwk(jwk) {
            Ok(key) => Lookup::Found(key, algorithm),
            Err(_) => Lookup::Unusable,
        }
    }

    /// The fetch in flight, or a new one. `None` when an on-demand fetch is refused
    /// because the last one started too recently.
    fn fetch(self: &Arc<Self>, trigger: Trigger) -> Option<SharedFetch> {
        let mut fetching = self.fetching.lock();
        if let Some(in_flight) = &fetching.in_flight {
            return Some(in_flight.clone());
        }
        if let Trigger::OnDemand { seen_fetched_at } = trigger {
            // A fetch finished since the caller looked: the caller looks again instead.
            if self.current().map(|keys| keys.fetched_at) != seen_fetched_at {
                return Some(futures::future::ready(Ok(())).boxed().shared());
            }
            if fetching.last_on_demand_start.is_some_and(|started| started.elapsed() < MIN_ON_DEMAND_INTERVAL) {
                return None;
            }
            fetching.last_on_demand_start = Some(Instant::now());
        }
        let inner = Arc::clone(self);
        // Its own task, so a request that gives up does not cancel the fetch for the
        // others. The task clears the entry only after it is set below: it needs the lock
        // this function holds. It stores the new set and clears the entry under that lock
        // in one step, so whoever has seen the new set finds no fetch in flight, and
        // whoever joins a fetch in flight has not seen its set yet.
        let task = tokio::spawn(async move {
            let fetched = inner.fetch_from_provider().await;
            let mut fetching = inner.fetching.lock();
            let outcome = fetched.map(|set| {
                *inner.keys.write() = Some(Arc::new(FetchedKeys { set, fetched_at: Instant::now() }));
            });
            fetching.in_flight = None;
            outcome
        });
        let shared = async move { task.await.unwrap_or_else(|error| Err(FetchError::TaskFailed(error.to_string()))) }
            .boxed()
            .shared();
        fetching.in_flight = Some(shared.clone());
        Some(shared)
    }

    async fn fetch_from_provider(&self) -> Result<JwkSet, FetchError> {
        let fetched = async {
            let response = self
                .client
                .get(&self.url)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|error| FetchError::Request(error.to_string()))?;
            response.json::<JwkSet>().await.map_err(|error| FetchError::NotAKeySet(error.to_string()))
        };
        fetched.await.inspect_err(|error| {
            let age_seconds = self.current().map(|keys| keys.fetched_at.elapsed().as_secs());
            tracing::warn!(%error, url = %self.url, ?age_seconds, "JWKS fetch failed; keeping the last keys");
        })
    }
}

async fn refresh_in_background(inner: Weak<Inner>, mut fetch: Option<SharedFetch>) {
    let mut retry_delay = FIRST_RETRY_DELAY;
    loop {
        let outcome = match fetch.take() {
            Some(fetch) => fetch.await,
            None => Ok(()),
        };
        // Only a weak reference is kept between fetches, so dropping the cache ends the task.
        let Some(refresh_period) = inner.upgrade().map(|inner| inner.policy.refresh_period) else { return };
        let refresh_period = refresh_period.max(Duration::from_secs(1));
        let wait = match outcome {
            Ok(()) => {
                retry_delay = FIRST_RETRY_DELAY;
                refresh_period
            }
            Err(_) => {
                let wait = retry_delay.min(refresh_period);
                retry_delay = (retry_delay * 2).min(MAX_RETRY_DELAY);
                wait
            }
        };
        tokio::time::sleep(wait).await;
        let Some(inner) = inner.upgrade() else { return };
        fetch = inner.fetch(Trigger::Background);
    }
}
