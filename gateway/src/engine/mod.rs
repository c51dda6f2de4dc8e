//! The federation engine: supergraph loading, query planning behind Atrium's own
//! planner trait, and Atrium's own plan executor (fetch, sequence, parallel, flatten,
//! entity batching, response projection with GraphQL null propagation).
//!
//! Request flow: [`Engine::prepare`] parses, validates, compiles the response
//! projection and plans (`validation`, `projection`, `planner`), caching the
//! [`PreparedOperation`] (`cache`); [`Engine::execute`] coerces variables, runs
//! the plan (`executor`, `representations`, `merge`) and projects the merged
//! data onto the client's selection (`projection`, `introspection`).

mod cache;
mod errors;
mod executor;
mod facade;
mod introspection;
mod merge;
mod operation;
mod plan;
mod planner;
mod projection;
mod representations;
mod request;
mod restriction;
mod schema;
mod selection_plan;
mod supergraph;
mod transport;
mod validation;
mod values;

#[cfg(test)]
mod tests;

pub use cache::PlanCacheKey;
pub use errors::{EngineError, RequestError, TransportError, codes};
pub use facade::{Engine, EngineOptions, PlanCacheStats};
pub use operation::PreparedOperation;
pub use plan::OperationKind;
pub use request::{ExecutionResponse, GraphQLRequest, Outcome};
pub use restriction::RemovedSelections;
pub use supergraph::Supergraph;
pub use transport::{EntityCache, EntityFetch, EntityLookup, SubgraphTransport};
