//! `@cacheControl(maxAge:)`, the cache hint every subgraph declares on the types and
//! fields it resolves. The gateway composes the hints into the supergraph and derives
//! each operation's cache policy from them: how long its answer may be reused by the
//! tenant-aware response cache and by HTTP clients (`Cache-Control`).
//!
//! A hint is an upper bound on staleness, not the only freshness guarantee: services
//! also announce changes through their outbox, which invalidates cached answers early.
//! Hints carry no scope argument because every Atrium answer is private to its tenant
//! and authorization scope; the gateway keys the cache accordingly.

/// Seconds an answer including this type or field may be served from a cache.
#[async_graphql::TypeDirective(
    name = "cacheControl",
    location = "Object",
    location = "Interface",
    location = "FieldDefinition",
    composable = "https://specs.atrium.dev/cacheControl/v0.1"
)]
pub fn cache_control(max_age: u32) {}
