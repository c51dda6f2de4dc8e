//! Builds the finance application: database (migrate, connect, seed), schema, router and a
//! bound listener, so tests run the real thing on port 0.

use std::sync::Arc;

use atrium_finance_migration::Migrator;
pub use atrium_kit::service::SubgraphApplication as Application;
use atrium_kit::{db::StatementObserver, events::EventHandler, startup::StartupError};
use futures::future::BoxFuture;
use sea_orm::DatabaseConnection;

use crate::{aging_job, config::Config, domain::Clock, events::FinanceEvents, graphql, repository::seed};

pub fn build(config: &Config) -> BoxFuture<'_, Result<Application, StartupError>> {
    Box::pin(build_with_clock(config, None, Clock::System))
}

/// As `build`, reporting every SQL statement to `observer` (statement-count tests).
pub async fn build_observed(config: &Config, observer: Option<StatementObserver>) -> Result<Application, StartupError> {
    build_with_clock(config, observer, Clock::System).await
}

/// As `build_observed`, taking every business date (requests, commands, the demo seed)
/// from `clock`: tests pin the date so date-relative answers hold at any wall-clock time.
pub async fn build_with_clock(
    config: &Config,
    observer: Option<StatementObserver>,
    clock: Clock,
) -> Result<Application, StartupError> {
    // The kit's seeding hook takes no state, so the dated seed runs here, after the
    // migration and before the application serves its first request.
    let kit_config = Config { seed_demo_data: false, ..config.clone() };
    let application = Application::build::<Migrator, _>(
        &kit_config,
        observer,
        no_seed,
        graphql::build_schema(),
        graphql::request_data_installer(clock),
        Some(Arc::new(FinanceEvents::with_clock(clock)) as Arc<dyn EventHandler>),
    )
    .await?
    .with_scheduled_jobs(aging_job::jobs());
    if config.seed_demo_data {
        seed::seed_demo_tenants(application.database(), clock)
            .await
            .map_err(|error| StartupError::Seed(error.to_string()))?;
    }
    Ok(application)
}

fn no_seed(_database: &DatabaseConnection) -> BoxFuture<'_, Result<(), String>> {
    Box::pin(async { Ok(()) })
}
