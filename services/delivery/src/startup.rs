//! Builds the delivery application: database (migrate, connect, seed), schema, router and a
//! bound listener, so tests run the real thing on port 0.

use std::sync::Arc;

use atrium_delivery_migration::Migrator;
pub use atrium_kit::service::SubgraphApplication as Application;
use atrium_kit::{
    db::StatementObserver,
    events::EventHandler,
    startup::{StartupError, prepare_database},
};
use futures::future::BoxFuture;
use sea_orm::DatabaseConnection;

use crate::{
    calendar::BusinessCalendar, config::Config, events::DeliveryEvents, graphql, operations::LateMilestones,
    repository::seed,
};

pub fn build(config: &Config) -> BoxFuture<'_, Result<Application, StartupError>> {
    Box::pin(build_observed(config, None))
}

/// As `build`, reporting every SQL statement to `observer` (statement-count tests).
pub async fn build_observed(config: &Config, observer: Option<StatementObserver>) -> Result<Application, StartupError> {
    build_with_calendar(config, observer, BusinessCalendar::TenantClock).await
}

/// As `build_observed`, with "today" taken from `calendar` for the demo seed and the
/// derived schedule flags (tests pin a date).
pub async fn build_with_calendar(
    config: &Config,
    observer: Option<StatementObserver>,
    calendar: BusinessCalendar,
) -> Result<Application, StartupError> {
    if config.seed_demo_data && calendar != BusinessCalendar::TenantClock {
        // The kit's seeder hook takes no arguments: seed at the pinned date first, and the
        // hook then finds every demo tenant seeded and leaves them alone.
        let database =
            prepare_database::<Migrator>(&config.database_url, config.migration_database_url.as_deref(), 2, None)
                .await?;
        seed::seed_demo_tenants(&database, calendar).await.map_err(|error| StartupError::Seed(error.to_string()))?;
        database.close().await?;
    }
    Application::build::<Migrator, _>(
        config,
        observer,
        seed_demo_data,
        graphql::build_schema(),
        Arc::new(move |request, tx| graphql::install_request_data(request, tx, calendar)),
        Some(Arc::new(DeliveryEvents::with_calendar(calendar)) as Arc<dyn EventHandler>),
    )
    .await
    .map(|application| application.with_scheduled_jobs(vec![Arc::new(LateMilestones::new(calendar))]))
}

fn seed_demo_data(database: &DatabaseConnection) -> BoxFuture<'_, Result<(), String>> {
    Box::pin(async move {
        seed::seed_demo_tenants(database, BusinessCalendar::TenantClock).await.map_err(|error| error.to_string())
    })
}
