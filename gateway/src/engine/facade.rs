//! The engine facade: prepare (cached) and execute GraphQL requests against a
//! supergraph.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use super::cache::{PlanCache, PlanCacheKey};
use super::errors::{RequestError, codes};
use super::executor::Executor;
use super::operation::{PreparedOperation, prepare};
use super::plan::OperationKind;
use super::projection::project;
use super::request::{ExecutionResponse, GraphQLRequest};
use super::restriction::RemovedSelections;
use super::supergraph::Supergraph;
use super::transport::SubgraphTransport;
use super::validation::coerce_variables;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOptions {
    /// Whether `__schema`/`__type` may be queried (`__typename` always may).
    pub allow_introspection: bool,
    /// Maximum number of prepared operations kept.
    pub plan_cache_capacity: u64,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self { allow_introspection: false, plan_cache_capacity: 1024 }
    }
}

pub struct Engine {
    supergraph: Arc<Supergraph>,
    options: EngineOptions,
    cache: PlanCache,
    plan_cache_lookups: AtomicU64,
    plan_cache_misses: AtomicU64,
}

/// Plan cache lookups since the engine was built (for metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanCacheStats {
    pub hits: u64,
    pub misses: u64,
}

impl Engine {
    pub fn new(supergraph: Arc<Supergraph>, options: EngineOptions) -> Self {
        let cache = PlanCache::new(options.plan_cache_capacity);
        Self { supergraph, options, cache, plan_cache_lookups: AtomicU64::new(0), plan_cache_misses: AtomicU64::new(0) }
    }

    pub fn plan_cache_stats(&self) -> PlanCacheStats {
        let misses = self.plan_cache_misses.load(Ordering::Relaxed);
        PlanCacheStats { hits: self.plan_cache_lookups.load(Ordering::Relaxed).saturating_sub(misses), misses }
    }

    pub fn supergraph(&self) -> &Arc<Supergraph> {
        &self.supergraph
    }

    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Number of prepared operations currently cached (eventually consistent).
    pub fn cached_operations(&self) -> u64 {
        self.cache.entry_count()
    }

    /// Plans (or fetches from cache) without executing; also used by tests and `explain`.
    pub async fn prepare(&self, request: &GraphQLRequest) -> Result<Arc<PreparedOperation>, RequestError> {
        self.prepare_restricted(request, Arc::default()).await
    }

    /// Like [`Engine::prepare`], with the `removed` selections left out of the
    /// plan (they answer null); the cache keeps one plan per distinct removal.
    pub async fn prepare_restricted(
        &self,
        request: &GraphQLRequest,
        removed: Arc<RemovedSelections>,
    ) -> Result<Arc<PreparedOperation>, RequestError> {
        let key = PlanCacheKey::new(&request.query, request.operation_name.as_deref(), self.supergraph.hash())
            .restricted(removed);
        // Shares the key's copy of the text: a cache hit allocates nothing more.
        let supergraph = Arc::clone(&self.supergraph);
        let query = Arc::clone(key.query());
        let operation_name = key.operation_name().cloned();
        let removed = key.removed().cloned();
        let allow_introspection = self.options.allow_introspection;
        let misses = &self.plan_cache_misses;
        // The blocking thread does not inherit the caller's span; parse/validate/plan
        // spans are children of it.
        let span = tracing::Span::current();
        self.plan_cache_lookups.fetch_add(1, Ordering::Relaxed);
        self.cache
            .get_or_prepare(key, async move {
                misses.fetch_add(1, Ordering::Relaxed);
                // Parsing, validation and planning are CPU-bound: keep them off
                // the async workers.
                tokio::task::spawn_blocking(move || {
                    span.in_scope(|| {
                        prepare(&supergraph, &query, operation_name.as_deref(), allow_introspection, removed.as_deref())
                            .map(Arc::new)
                    })
                })
                .await
                .unwrap_or_else(|error| {
                    tracing::error!(%error, "preparing an operation panicked");
                    Err(RequestError::new(codes::INTERNAL_SERVER_ERROR, "Failed to prepare the operation."))
                })
            })
            .await
    }

    pub async fn execute(&self, request: &GraphQLRequest, transport: &dyn SubgraphTransport) -> ExecutionResponse {
        let prepared = match self.prepare(request).await {
            Ok(prepared) => prepared,
            Err(error) => return ExecutionResponse::from_request_error(&error),
        };
        self.execute_prepared(&prepared, request, transport).await
    }

    /// Executes an operation [`Engine::prepare`] returned for `request` (callers that
    /// need the operation's kind or name first prepare once, not twice).
    pub async fn execute_prepared(
        &self,
        prepared: &PreparedOperation,
        request: &GraphQLRequest,
        transport: &dyn SubgraphTransport,
    ) -> ExecutionResponse {
        if prepared.kind() == OperationKind::Subscription {
            return ExecutionResponse::from_request_error(&RequestError::new(
                codes::SUBSCRIPTIONS_NOT_SUPPORTED,
                "Subscriptions are not supported over this transport.",
            ));
        }
        let variables = match coerce_variables(&prepared.variables, &request.variables, self.supergraph.api()) {
            Ok(variables) => variables,
            Err(error) => return ExecutionResponse::from_request_error(&error),
        };

        let executor = Executor::new(self.supergraph.all_types(), transport, &variables);
        let mut output = executor.run(prepared.plan.as_ref()).await;
        let data = project(&prepared.projection, output.data, &variables, self.supergraph.api(), &mut output.errors);
        ExecutionResponse::from_execution(data, output.errors)
    }
}
