//! The plan cache: prepared operations keyed by what determines their plan.

use std::sync::Arc;

use super::errors::RequestError;
use super::operation::PreparedOperation;
use super::restriction::RemovedSelections;

/// What a prepared operation depends on. The full operation text is part of
/// the key (not just its hash) so that crafted hash collisions cannot serve
/// one client's plan to another. The selections authorization removed are
/// part of it: callers with different rights over the operation never share
/// a plan, while callers whose rights do not matter to it do.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlanCacheKey {
    query: Arc<str>,
    operation_name: Option<Arc<str>>,
    supergraph_hash: u64,
    removed: Option<Arc<RemovedSelections>>,
}

impl PlanCacheKey {
    pub fn new(query: &str, operation_name: Option<&str>, supergraph_hash: u64) -> Self {
        Self { query: query.into(), operation_name: operation_name.map(Into::into), supergraph_hash, removed: None }
    }

    /// The key of the operation planned without `removed` (no-op when empty).
    pub fn restricted(mut self, removed: Arc<RemovedSelections>) -> Self {
        self.removed = (!removed.is_empty()).then_some(removed);
        self
    }

    pub fn removed(&self) -> Option<&Arc<RemovedSelections>> {
        self.removed.as_ref()
    }

    pub fn query(&self) -> &Arc<str> {
        &self.query
    }

    pub fn operation_name(&self) -> Option<&Arc<str>> {
        self.operation_name.as_ref()
    }
}

pub(crate) struct PlanCache {
    entries: moka::future::Cache<PlanCacheKey, Arc<PreparedOperation>>,
}

impl PlanCache {
    pub(crate) fn new(capacity: u64) -> Self {
        Self { entries: moka::future::Cache::new(capacity) }
    }

    /// Returns the cached operation or prepares it; concurrent misses for the
    /// same key prepare once. Failures are not cached.
    pub(crate) async fn get_or_prepare<F>(
        &self,
        key: PlanCacheKey,
        prepare: F,
    ) -> Result<Arc<PreparedOperation>, RequestError>
    where
        F: Future<Output = Result<Arc<PreparedOperation>, RequestError>>,
    {
        self.entries.try_get_with(key, prepare).await.map_err(|error| (*error).clone())
    }

    pub(crate) fn entry_count(&self) -> u64 {
        self.entries.entry_count()
    }
}
