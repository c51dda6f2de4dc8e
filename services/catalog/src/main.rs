//! `atrium-catalog`: serves the catalog subgraph, or prints its SDL (`--help` for options).

use atrium_catalog::{config::SERVICE, sdl, startup};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    atrium_kit::service::run_cli(
        &SERVICE,
        "Atrium catalog subgraph (tenants, white-label branding, channel partners, service packages, blueprints)",
        sdl,
        startup::build,
    )
    .await
}
