//! The tenant-aware response cache. Query answers are reused only by callers who would
//! get exactly the same answer: the key covers the tenant, the caller's authorization
//! scope (roles, channel partner, customer account), what authorization removed from
//! the operation, the supergraph, the document, the operation name, the variables and
//! the invalidation generation of every type the answer depends on.
//!
//! How long an answer may be reused comes from the `@cacheControl` hints the subgraphs
//! declare (`policy`); the same policy sets the `Cache-Control` header. Services announce
//! changes through their outbox; each change event bumps the generation of its type in
//! its tenant (`store`), so every cached answer depending on that type is gone at once.
//!
//! The client kind and the user are not part of the key: no Atrium field answers
//! differently for two users holding the same roles and scopes, so a BI report run by an
//! API key and by a dashboard user of the same role is computed once. A field that ever
//! depends on the user must be hinted `maxAge: 0`.
//!
//! Only answers that executed without any error are stored. If the shared store (Redis)
//! is unreachable, requests run uncached (never with a stale or local copy that other
//! replicas' invalidations could not reach) and the failure is logged and counted.

mod config;
mod endpoint;
mod entities;
mod hints;
mod policy;
mod store;

use std::{sync::Arc, time::Duration};

use atrium_contract::{TenantContext, changes::ChangeEvent};
use opentelemetry::{KeyValue, metrics::Counter};
use sha2::{Digest, Sha256};

pub use config::ResponseCacheConfig;
pub use endpoint::{ChangeReceiver, router};
pub use entities::CallerEntityCache;
use hints::CacheHints;
pub(crate) use policy::CachePolicy;
use store::{CacheStore, StoredAnswer};

use crate::engine::{GraphQLRequest, RemovedSelections};

/// The answer to a lookup.
pub enum Lookup {
    /// Fresh answer from the cache, with the seconds it stays fresh.
    Hit { body: serde_json::Value, max_age: u32 },
    /// Not cached yet; store the answer under `Pending` once it executed cleanly.
    Miss(Pending),
    /// The operation may be reused for `max_age` seconds, but the cache is off or its
    /// store unavailable: execute, and still tell HTTP clients.
    Uncached { max_age: u32 },
    /// Not cacheable at all (`maxAge` 0, a mutation, introspection, an invalid document).
    NotCacheable,
}

impl Lookup {
    /// `Cache-Control` for the answer if it executes without errors.
    pub fn max_age(&self) -> u32 {
        match self {
            Lookup::Hit { max_age, .. } | Lookup::Uncached { max_age } => *max_age,
            Lookup::Miss(pending) => pending.max_age,
            Lookup::NotCacheable => 0,
        }
    }

    /// `hit`, `miss` or `bypass`, for the `x-atrium-cache` header.
    pub fn label(&self) -> &'static str {
        match self {
            Lookup::Hit { .. } => "hit",
            Lookup::Miss(_) => "miss",
            Lookup::Uncached { .. } | Lookup::NotCacheable => "bypass",
        }
    }
}

/// Where a missed answer goes.
pub struct Pending {
    tenant: uuid::Uuid,
    key: String,
    max_age: u32,
}

pub struct ResponseCache {
    config: ResponseCacheConfig,
    hints: CacheHints,
    /// Policies per document, operation and authorization outcome: the walk parses the
    /// document, which must not happen on every request.
    policies: moka::sync::Cache<(String, Option<String>, Arc<RemovedSelections>), Arc<CachePolicy>>,
    /// Policies of subgraph `_entities` fetches, by operation text.
    entity_policies: moka::sync::Cache<String, Arc<CachePolicy>>,
    store: CacheStore,
    /// Digest of the supergraph: answers computed under another schema are never reused.
    schema_version: String,
    metrics: CacheMetrics,
}

#[derive(Debug, thiserror::Error)]
pub enum ResponseCacheError {
    #[error("cannot read the supergraph's cache hints: {0}")]
    Hints(String),
    #[error("invalid Redis configuration for the response cache: {0}")]
    Redis(#[from] redis::RedisError),
}

impl ResponseCache {
    pub fn new(
        supergraph_sdl: &str,
        config: ResponseCacheConfig,
        redis_url: Option<&str>,
        key_prefix: &str,
        metrics: &atrium_contract::telemetry::Metrics,
    ) -> Result<Self, ResponseCacheError> {
        let document = graphql_tools::parser::parse_schema::<String>(supergraph_sdl)
            .map_err(|error| ResponseCacheError::Hints(error.to_string()))?
            .into_static();
        let store = match redis_url {
            Some(url) => CacheStore::redis(url, key_prefix)?,
            None => CacheStore::local(config.local_capacity_bytes),
        };
        Ok(ResponseCache {
            hints: CacheHints::from_supergraph(&document),
            policies: moka::sync::Cache::new(10_000),
            entity_policies: moka::sync::Cache::new(10_000),
            store,
            schema_version: hex(&Sha256::digest(supergraph_sdl.as_bytes())),
            metrics: CacheMetrics::new(metrics),
            config,
        })
    }

    /// The cache policy of `request` for a caller from whom `removed` is withheld.
    pub(crate) fn policy(&self, request: &GraphQLRequest, removed: &Arc<RemovedSelections>) -> Arc<CachePolicy> {
        if self.hints.is_empty() {
            return Arc::new(CachePolicy::UNCACHEABLE);
        }
        let key = (request.query.clone(), request.operation_name.clone(), Arc::clone(removed));
        self.policies.get_with(key, || Arc::new(policy::policy_of(&self.hints, request, removed)))
    }

    /// The cache policy of a subgraph `_entities` fetch.
    pub(crate) fn entity_policy(&self, operation: &str) -> Arc<CachePolicy> {
        self.entity_policies
            .get_with_by_ref(operation, || Arc::new(policy::entity_fetch_policy(&self.hints, operation)))
    }

    /// The entity cache for one caller's query, when entity caching is on and the
    /// subgraphs declare any hints.
    pub fn entity_cache_for(self: &Arc<Self>, context: &TenantContext) -> Option<Arc<dyn crate::engine::EntityCache>> {
        if !self.config.enabled || !self.config.entities || self.hints.is_empty() {
            return None;
        }
        Some(Arc::new(CallerEntityCache::new(Arc::clone(self), context)))
    }

    /// Looks the query up for `context`. Call only for queries that passed the caller's
    /// policy and authorization.
    pub async fn lookup(
        &self,
        context: &TenantContext,
        request: &GraphQLRequest,
        removed: &Arc<RemovedSelections>,
    ) -> Lookup {
        let policy = self.policy(request, removed);
        if !policy.is_cacheable() {
            return Lookup::NotCacheable;
        }
        if !self.config.enabled {
            return Lookup::Uncached { max_age: policy.max_age };
        }
        let generations = match self.store.generations(context.tenant_id, &policy.types).await {
            Ok(generations) => generations,
            Err(error) => {
                self.unavailable(&error, "response");
                return Lookup::Uncached { max_age: policy.max_age };
            }
        };
        let key = self.key(context, request, removed, &policy, &generations);
        match self.store.get(context.tenant_id, &key).await {
            Ok(Some(answer)) => {
                let remaining_ms = answer.expires_at_ms - chrono::Utc::now().timestamp_millis();
                if remaining_ms <= 0 {
                    return self.miss(context, key, policy.max_age);
                }
                self.metrics.lookups.add(1, &[KeyValue::new("kind", "response"), KeyValue::new("result", "hit")]);
                let max_age = u32::try_from(remaining_ms / 1000).unwrap_or(policy.max_age).min(policy.max_age);
                Lookup::Hit { body: answer.body, max_age }
            }
            Ok(None) => self.miss(context, key, policy.max_age),
            Err(error) => {
                self.unavailable(&error, "response");
                Lookup::Uncached { max_age: policy.max_age }
            }
        }
    }

    fn miss(&self, context: &TenantContext, key: String, max_age: u32) -> Lookup {
        self.metrics.lookups.add(1, &[KeyValue::new("kind", "response"), KeyValue::new("result", "miss")]);
        Lookup::Miss(Pending { tenant: context.tenant_id, key, max_age })
    }

    /// The store failed: the request (or fetch) runs uncached, and it is counted.
    fn unavailable(&self, error: &store::StoreError, kind: &'static str) {
        tracing::warn!(%error, kind, "response cache unavailable; running uncached");
        self.metrics.lookups.add(1, &[KeyValue::new("kind", kind), KeyValue::new("result", "unavailable")]);
        self.metrics.errors.add(1, &[]);
    }

    /// Stores an answer that executed without errors.
    pub async fn store(&self, pending: Pending, body: &serde_json::Value) {
        let expires_at_ms = chrono::Utc::now().timestamp_millis() + i64::from(pending.max_age) * 1000;
        let answer = StoredAnswer::of(body, expires_at_ms);
        if answer.json.len() > self.config.max_entry_bytes {
            self.metrics.lookups.add(1, &[KeyValue::new("kind", "response"), KeyValue::new("result", "too_large")]);
            return;
        }
        let ttl = Duration::from_secs(u64::from(pending.max_age));
        if let Err(error) = self.store.put(pending.tenant, &pending.key, answer, ttl).await {
            tracing::warn!(%error, "could not store an answer in the response cache");
            self.metrics.errors.add(1, &[]);
        }
    }

    /// Applies change events: every cached answer of the event's tenant that depends on
    /// the changed type is dropped. Fails when the store is unreachable, so the sender
    /// keeps the events and retries.
    pub async fn invalidate(&self, events: &[ChangeEvent]) -> Result<(), String> {
        let mut by_tenant: std::collections::BTreeMap<uuid::Uuid, Vec<String>> = Default::default();
        for event in events {
            let types = by_tenant.entry(event.tenant_id).or_default();
            if !types.contains(&event.entity_type) {
                types.push(event.entity_type.clone());
            }
        }
        for (tenant, types) in by_tenant {
            self.store.bump(tenant, &types).await.map_err(|error| error.to_string())?;
            for entity_type in &types {
                self.metrics.invalidations.add(1, &[KeyValue::new("type", entity_type.clone())]);
            }
        }
        Ok(())
    }

    pub fn is_shared(&self) -> bool {
        self.store.is_shared()
    }

    fn key(
        &self,
        context: &TenantContext,
        request: &GraphQLRequest,
        removed: &RemovedSelections,
        policy: &CachePolicy,
        generations: &[u64],
    ) -> String {
        let identity = serde_json::json!({
            "schema": self.schema_version,
            "scope": caller_scope(context),
            "removed": removed.coordinates(),
            "query": request.query,
            "operation": request.operation_name,
            "variables": canonical(&serde_json::Value::Object(request.variables.clone())),
            "types": policy.types,
            "generations": generations,
        });
        hex(&Sha256::digest(identity.to_string().as_bytes()))
    }
}

/// Everything about a caller that can change what a subgraph answers: the tenant, the
/// roles (sorted, so their order in a token does not matter) and the second-level scopes.
fn caller_scope(context: &TenantContext) -> serde_json::Value {
    let mut roles = context.roles.clone();
    roles.sort();
    roles.dedup();
    serde_json::json!({
        "tenant": context.tenant_id,
        "roles": roles,
        "partner": context.channel_partner_id,
        "customer": context.customer_account_id,
    })
}

/// The same JSON value with object keys sorted at every level, so `{"a":1,"b":2}` and
/// `{"b":2,"a":1}` share a key.
fn canonical(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(object) => {
            let mut keys: Vec<&String> = object.keys().collect();
            keys.sort();
            serde_json::Value::Object(keys.into_iter().map(|key| (key.clone(), canonical(&object[key]))).collect())
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

struct CacheMetrics {
    lookups: Counter<u64>,
    invalidations: Counter<u64>,
    errors: Counter<u64>,
}

impl CacheMetrics {
    fn new(metrics: &atrium_contract::telemetry::Metrics) -> Self {
        let meter = metrics.meter();
        CacheMetrics {
            lookups: meter
                .u64_counter("atrium.response_cache.lookups")
                .with_description(
                    "Response cache lookups by kind (response, entity) and result (hit, miss, unavailable, too_large)",
                )
                .build(),
            invalidations: meter
                .u64_counter("atrium.response_cache.invalidations")
                .with_description("Change events applied to the response cache, by entity type")
                .build(),
            errors: meter
                .u64_counter("atrium.response_cache.errors")
                .with_description("Response cache store calls that failed (the request ran uncached)")
                .build(),
        }
    }
}

#[cfg(test)]
mod tests;
