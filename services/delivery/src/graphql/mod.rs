//! The delivery subgraph's GraphQL layer: schema construction, object types, federation
//! entity resolvers and per-request DataLoaders.

mod loaders;
mod operations;
mod reporting;
mod schema;
mod types;

pub use schema::{DeliverySchema, build_schema, install_request_data};

/// Delivery's writes, each one command of the kit's pattern (docs/domain.md#delivery-commands,
/// docs/domain.md#delivery-operations, docs/domain.md#status-reports-time-off-and-assignments).
#[derive(async_graphql::MergedObject, Default)]
pub struct Mutation(schema::LifecycleMutation, schema::OperationsMutation, reporting::ReportingMutation);
