//! `atrium-gateway`: serves the gateway, issues dev tokens and composes the supergraph.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use atrium_gateway::{
    auth::DevSigningKey,
    composition::{SubgraphDefinition, compose},
    config::{Config, Profile},
    startup::Application,
};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(version, about = "Atrium multi-tenant Federation v2 gateway")]
struct Cli {
    /// TOML config file; `ATRIUM_GATEWAY__<KEY>` variables override it.
    #[arg(long, global = true, env = "ATRIUM_GATEWAY_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the gateway (the default).
    Serve,
    /// Print a bearer token for the dev stack, signed with the local dev key.
    Token {
        /// Demo tenant slug (ridgeline, helix, veritas) or a tenant UUID.
        #[arg(long, default_value = "ridgeline")]
        tenant: String,
        /// Role(s), comma separated (e.g. csm or finance,exec).
        #[arg(long, default_value = "csm")]
        role: String,
        /// Client kind: partner_portal, dashboard, bi or service.
        #[arg(long, default_value = "dashboard")]
        client: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 8 * 3600)]
        ttl: i64,
    },
    /// Compose subgraph SDL files into a join v0.3 supergraph.
    Compose {
        /// `name=url=path/to/subgraph.graphql`, once per subgraph.
        #[arg(long = "subgraph", required = true)]
        subgraphs: Vec<String>,
        /// Where to write the supergraph; `-` for stdout.
        #[arg(long, default_value = "schema/supergraph.graphql")]
        output: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref()).context("loading configuration")?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Token { tenant, role, client, ttl } => {
            if config.profile != Profile::Dev {
                bail!("tokens are issued by the identity provider outside the dev profile");
            }
            let key = DevSigningKey::load_or_create(&config.auth.dev_key_path)?;
            let roles: Vec<String> = role.split(',').map(|role| role.trim().to_owned()).collect();
            let token =
                key.issue_for_demo(&config.auth.issuer, &config.auth.audience, &tenant, &roles, &client, ttl)?;
            println!("{token}");
            Ok(())
        }
        Command::Compose { subgraphs, output } => {
            let mut definitions = Vec::new();
            for spec in subgraphs {
                let mut parts = spec.splitn(3, '=');
                let (Some(name), Some(url), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
                    bail!("--subgraph expects name=url=path, got `{spec}`");
                };
                let sdl = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
                definitions.push(SubgraphDefinition { name: name.to_owned(), url: url.to_owned(), sdl });
            }
            let supergraph = compose(&definitions)?;
            if output.as_os_str() == "-" {
                print!("{supergraph}");
            } else {
                std::fs::write(&output, supergraph).with_context(|| format!("writing {}", output.display()))?;
                eprintln!("wrote {}", output.display());
            }
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    atrium_kit::telemetry::init("info", config.log_format);
    let profile = config.profile;
    let application = Application::build(config).await.context("starting the gateway")?;
    tracing::info!(port = application.port(), ?profile, "gateway listening");
    application.run_until_stopped().await?;
    Ok(())
}
