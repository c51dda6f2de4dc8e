//! Builds the analytics application: database (migrate, connect, seed), schema, router and a
//! bound listener, so tests run the real thing on port 0.

use std::sync::Arc;

use atrium_analytics_migration::Migrator;
pub use atrium_kit::service::SubgraphApplication as Application;
use atrium_kit::{db::StatementObserver, events::EventHandler, startup::StartupError};
use futures::future::BoxFuture;
use sea_orm::DatabaseConnection;

use crate::{
    automation::schedule::AutomationSchedule, config::Config, events::AnalyticsEvents, graphql, kpi, repository::seed,
};

pub fn build(config: &Config) -> BoxFuture<'_, Result<Application, StartupError>> {
    Box::pin(build_observed(config, None))
}

/// As `build`, reporting every SQL statement to `observer` (statement-count tests).
pub async fn build_observed(config: &Config, observer: Option<StatementObserver>) -> Result<Application, StartupError> {
    let application = Application::build::<Migrator, _>(
        config,
        observer,
        seed_demo_data,
        graphql::build_schema(),
        Arc::new(graphql::install_request_data),
        Some(Arc::new(AnalyticsEvents::new()) as Arc<dyn EventHandler>),
    )
    .await?;
    let mut jobs = crate::health::jobs();
    jobs.push(Arc::new(AutomationSchedule::new()));
    jobs.extend(kpi::snapshots::jobs());
    Ok(application.with_scheduled_jobs(jobs))
}

fn seed_demo_data(database: &DatabaseConnection) -> BoxFuture<'_, Result<(), String>> {
    Box::pin(async move { seed::seed_demo_tenants(database).await.map_err(|error| error.to_string()) })
}
