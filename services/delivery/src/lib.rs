//! Delivery subgraph: engagements and their milestones (docs/domain.md#delivery). Federation owner of
//! `Engagement` and `Milestone`; contributes `engagements` to `CustomerAccount` (owned by
//! finance) and refers to catalog's `Blueprint` by id.

pub mod calendar;
pub mod commands;
pub mod config;
pub mod domain;
mod entities;
pub mod error;
pub mod events;
pub mod graphql;
pub mod operations;
pub mod reporting;
pub mod repository;
pub mod startup;

/// The subgraph's Federation v2 SDL, as committed under `schema/delivery.graphql`.
pub fn sdl() -> String {
    graphql::build_schema().sdl_with_options(async_graphql::SDLExportOptions::new().federation().compose_directive())
}
