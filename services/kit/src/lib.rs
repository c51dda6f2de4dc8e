//! The one small crate Atrium's five services share. It owns exactly the pieces that must
//! behave identically in every service: the tenant context and its gateway signature, the
//! tenant-scoped database transaction (and PostgreSQL row-level security helpers for
//! migrations), the GraphQL-over-HTTP handler and schema for subgraphs (with their own
//! `@requiresScopes` enforcement), cursor pagination, the closed
//! set of client-visible error codes, telemetry initialisation, the audit trail, the change
//! outbox and its relay to the gateway, and the demo tenant registry.
//! Entities, domain types, repositories and configuration stay in each service.

pub mod audit;
pub mod cache_control;
pub mod calendar;
pub mod changes;
pub mod command;
pub mod config;
pub mod context_token;
pub mod db;
pub mod demo;
pub mod errors;
pub mod events;
pub mod field_scopes;
pub mod graphql_http;
pub mod masking;
pub mod pagination;
pub mod rls;
pub mod schedule;
pub mod scopes;
pub mod service;
pub mod startup;
pub mod subgraph_http;
pub mod subgraph_schema;
pub mod telemetry;
pub mod tenant;
#[cfg(feature = "testing")]
pub mod testing;

pub use context_token::{CONTEXT_HEADER, ContextKey, ContextSigner, ContextVerifier};
pub use db::{DatabaseTarget, TenantTransaction};
pub use errors::ErrorCode;
pub use tenant::{ClientKind, TenantContext};
