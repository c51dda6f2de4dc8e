//! Atrium gateway library: configuration, startup, the GraphQL-over-HTTP endpoint,
//! authentication, the federation engine, the subgraph client (with TLS) and supergraph
//! composition.

pub mod admin;
pub mod auth;
pub mod authorization;
pub mod composition;
pub mod config;
pub mod cors;
pub mod engine;
mod graphiql;
pub mod http;
mod in_flight;
mod inbound;
pub mod persisted;
pub mod policy;
pub mod rate_limit;
mod redis_connection;
mod rejection;
pub mod response_cache;
pub mod routes;
pub mod startup;
pub mod state;
pub mod subgraph_client;
pub mod subgraph_tls;
pub mod telemetry;
