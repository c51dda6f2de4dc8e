//! Telemetry of a service: everything the gateway has too (`atrium_contract::telemetry`,
//! re-exported) plus the database's part, one span per SQL statement and the pool gauges.

mod database;

pub use atrium_contract::telemetry::*;
pub use database::{StatementSpans, observe_pool};
