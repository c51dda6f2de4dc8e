//! `atrium-support`: serves the support subgraph, or prints its SDL (`--help` for options).

use atrium_support::{config::SERVICE, sdl, startup};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    atrium_kit::service::run_cli(
        &SERVICE,
        "Atrium support subgraph (tickets, priorities and statuses)",
        sdl,
        startup::build,
    )
    .await
}
