//! `atrium-analytics`: serves the analytics subgraph, or prints its SDL (`--help` for options).

use atrium_analytics::{config::SERVICE, sdl, startup};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    atrium_kit::service::run_cli(
        &SERVICE,
        "Atrium analytics subgraph (customer health scores from cross-service inputs)",
        sdl,
        startup::build,
    )
    .await
}
