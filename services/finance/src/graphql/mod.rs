//! The finance subgraph's GraphQL layer: schema construction, object types, mutations,
//! federation entity resolvers and per-request DataLoaders.

mod billing;
mod loaders;
pub(crate) mod money;
mod mutations;
mod schema;
mod types;

pub use schema::{FinanceSchema, build_schema, install_request_data, request_data_installer};
