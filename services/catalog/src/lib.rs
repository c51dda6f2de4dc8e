//! Catalog subgraph: the tenant registry, white-label branding, channel partners, service
//! packages and blueprints (docs/domain.md#catalog). Federation owner of `Tenant`,
//! `ServicePackage` and `Blueprint`.

pub mod config;
pub mod domain;
mod entities;
pub mod error;
pub mod events;
pub mod graphql;
pub mod repository;
pub mod startup;

/// The subgraph's Federation v2 SDL, as committed under `schema/catalog.graphql`.
pub fn sdl() -> String {
    graphql::build_schema().sdl_with_options(async_graphql::SDLExportOptions::new().federation().compose_directive())
}
