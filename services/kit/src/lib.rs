//! The service runtime Atrium's five services share. It owns exactly the pieces that must
//! behave identically in every service: the tenant-scoped database transaction (and
//! PostgreSQL row-level security helpers for migrations), the command pattern, the audit
//! trail, the change outbox and its relay to the gateway, domain events and their
//! consumers, scheduled jobs, the GraphQL-over-HTTP handler and schema for subgraphs (with
//! their own `@requiresScopes` enforcement), cursor pagination and database telemetry.
//! What the gateway shares with the services (tenant context, roles, error codes, change
//! batches, demo registry, telemetry, serving) is `atrium-contract`, re-exported here under
//! the same paths. Entities, domain types, repositories and configuration stay in each
//! service.

pub mod audit;
pub mod cache_control;
pub mod changes;
pub mod command;
pub mod db;
pub mod events;
pub mod field_scopes;
pub mod masking;
pub mod migration_steps;
pub mod pagination;
pub mod rls;
pub mod schedule;
pub mod scopes;
pub mod service;
pub mod startup;
pub mod subgraph_http;
pub mod subgraph_schema;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use atrium_contract::{
    CONTEXT_HEADER, ClientKind, ContextKey, ContextSigner, ContextVerifier, ErrorCode, TenantContext, calendar, config,
    context_token, demo, errors, graphql_http, stored_enum, tenant,
};
pub use db::{DatabaseTarget, TenantTransaction};
