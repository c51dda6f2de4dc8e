//! `atrium-support`: serves the support subgraph, or prints its SDL.

use std::path::PathBuf;

use anyhow::Context as _;
use atrium_support::{config::Config, startup::Application};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(version, about = "Atrium support subgraph (customer accounts, contracts, subscriptions, invoices)")]
struct Cli {
    /// TOML config file; `ATRIUM_SUPPORT__<KEY>` variables override it.
    #[arg(long, global = true, env = "ATRIUM_SUPPORT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate, seed the demo tenants (unless disabled) and serve (the default).
    Serve,
    /// Print the Federation v2 SDL of this subgraph.
    PrintSchema,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::PrintSchema) = cli.command {
        print!("{}", atrium_support::sdl());
        return Ok(());
    }
    let config = Config::load(cli.config.as_deref()).context("loading configuration")?;
    atrium_kit::telemetry::init("info,sqlx=warn", config.log_format);
    let application = Application::build(config).await.context("starting the support service")?;
    tracing::info!(port = application.port(), "support subgraph listening");
    application.run_until_stopped().await?;
    Ok(())
}
