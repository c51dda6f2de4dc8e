//! The finance subgraph's GraphQL layer: schema construction, object types, mutations,
//! federation entity resolvers and per-request DataLoaders.

mod aging;
mod billing;
mod disputes;
mod engagement_financials;
mod ledger;
mod loaders;
pub(crate) mod money;
mod mutations;
mod root;
mod schema;
mod types;

pub use root::{FinanceSchema, build_schema};
pub use schema::{install_request_data, request_data_installer};
