//! What the gateway and the services agree on, with no database in it: the tenant context
//! and its gateway signature, roles and client kinds, the closed set of client-visible error
//! codes, change batches and their signature, the demo tenant registry and business dates,
//! configuration loading, telemetry initialisation and the HTTP listener. The gateway
//! depends on this crate only; the service runtime (`atrium-kit`: tenant transactions,
//! row-level security, outbox, events, commands) builds on it and re-exports it.

pub mod calendar;
pub mod changes;
pub mod config;
pub mod context_token;
pub mod demo;
pub mod errors;
pub mod graphql_http;
pub mod server;
pub mod telemetry;
pub mod tenant;
#[cfg(feature = "testing")]
pub mod testing;

pub use context_token::{CONTEXT_HEADER, ContextKey, ContextSigner, ContextVerifier};
pub use errors::ErrorCode;
pub use tenant::{ClientKind, TenantContext};
