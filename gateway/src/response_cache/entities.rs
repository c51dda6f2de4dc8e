//! The entity cache: `_entities` answers of subgraph fetches reused across operations,
//! per representation. A dashboard listing accounts with their health and a report
//! about one of those accounts send the same analytics fetch for it; the second one
//! finds it here.
//!
//! Keys are scoped like whole answers (tenant, roles, channel partner, customer account)
//! and name the subgraph, the fetch's operation and variables, the representation and
//! the invalidation generations of every type the fetch selects. Lifetimes come from the
//! hints on what the fetch selects (`policy::entity_fetch_policy`); a fetch no hint
//! bounds is never cached. Entities that came back null or with any error are not stored.

use std::sync::Arc;

use atrium_contract::TenantContext;
use futures::future::BoxFuture;
use opentelemetry::KeyValue;
use sha2::{Digest, Sha256};

use super::{ResponseCache, hex, store::StoredAnswer};
use crate::engine::{EntityCache, EntityFetch, EntityLookup};

/// One caller's view of the entity cache.
pub struct CallerEntityCache {
    cache: Arc<ResponseCache>,
    tenant: uuid::Uuid,
    /// Tenant, sorted roles and second-level scopes, serialised once per request.
    scope: String,
}

impl CallerEntityCache {
    pub(crate) fn new(cache: Arc<ResponseCache>, context: &TenantContext) -> Self {
        let scope = super::caller_scope(context).to_string();
        CallerEntityCache { cache, tenant: context.tenant_id, scope }
    }
}

impl EntityCache for CallerEntityCache {
    fn lookup<'a>(
        &'a self,
        fetch: EntityFetch<'a>,
        representations: Vec<&'a [u8]>,
    ) -> BoxFuture<'a, Option<EntityLookup>> {
        Box::pin(async move {
            let policy = self.cache.entity_policy(fetch.operation);
            if !policy.is_cacheable() {
                return None;
            }
            let cache = &self.cache;
            let generations = match cache.store.generations(self.tenant, &policy.types).await {
                Ok(generations) => generations,
                Err(error) => {
                    cache.unavailable(&error, "entity");
                    return None;
                }
            };
            let fetch_identity = serde_json::json!({
                "schema": cache.schema_version,
                "scope": self.scope,
                "service": fetch.service,
                "operation": fetch.operation,
                "field": fetch.response_key,
                "variables": fetch.variables,
                "types": policy.types,
                "generations": generations,
            })
            .to_string();
            let keys: Vec<String> = representations
                .iter()
                .map(|representation| {
                    let mut digest = Sha256::new();
                    digest.update(fetch_identity.as_bytes());
                    digest.update(representation);
                    hex(&digest.finalize())
                })
                .collect();
            let now_ms = chrono::Utc::now().timestamp_millis();
            let found: Vec<Option<serde_json::Value>> = match cache.store.get_many(self.tenant, &keys).await {
                Ok(found) => found
                    .into_iter()
                    .map(|answer| answer.filter(|answer| answer.expires_at_ms > now_ms).map(|answer| answer.body))
                    .collect(),
                Err(error) => {
                    cache.unavailable(&error, "entity");
                    return None;
                }
            };
            let hits = found.iter().filter(|entity| entity.is_some()).count() as u64;
            let lookups = &cache.metrics.lookups;
            lookups.add(hits, &[KeyValue::new("kind", "entity"), KeyValue::new("result", "hit")]);
            lookups.add(found.len() as u64 - hits, &[KeyValue::new("kind", "entity"), KeyValue::new("result", "miss")]);
            Some(EntityLookup { found, keys, max_age: policy.max_age })
        })
    }

    fn store<'a>(
        &'a self,
        lookup: &'a EntityLookup,
        fetched: Vec<(usize, &'a serde_json::Value)>,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let expires_at_ms = chrono::Utc::now().timestamp_millis() + i64::from(lookup.max_age) * 1000;
            let entries = fetched
                .into_iter()
                .filter_map(|(index, entity)| {
                    let key = lookup.keys.get(index)?.clone();
                    Some((key, StoredAnswer::of(entity, expires_at_ms)))
                })
                .collect();
            let ttl = std::time::Duration::from_secs(u64::from(lookup.max_age));
            if let Err(error) = self.cache.store.put_many(self.tenant, entries, ttl).await {
                tracing::warn!(%error, "could not store entities in the response cache");
                self.cache.metrics.errors.add(1, &[]);
            }
        })
    }
}
