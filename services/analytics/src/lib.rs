//! Analytics subgraph: customer health (docs/domain.md#analytics), computed at read time from
//! inputs owned by support and finance (delivered by Federation `@requires`) and from
//! analytics' own signals; the customer lifecycle (timeline and stage) and automation rules,
//! kept from finance's and delivery's events; read models journaled from every consumed
//! event and the executive KPIs over them. Contributes `health`, `timeline` and
//! `lifecycleStage` to `CustomerAccount` (owned by finance) and `kpis` to `Tenant` and
//! `ChannelPartner`.

pub mod automation;
pub mod config;
pub mod domain;
mod entities;
pub mod error;
pub mod events;
pub mod graphql;
pub mod health;
pub mod kpi;
pub mod read_models;
pub mod repository;
pub mod startup;

/// The subgraph's Federation v2 SDL, as committed under `schema/analytics.graphql`.
pub fn sdl() -> String {
    graphql::build_schema().sdl_with_options(async_graphql::SDLExportOptions::new().federation().compose_directive())
}
