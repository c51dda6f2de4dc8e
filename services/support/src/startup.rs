//! Builds the support application: database (migrate, connect, seed), schema, router and
//! a bound listener, so tests run the real thing on port 0.

use std::sync::Arc;

use atrium_kit::{
    ContextVerifier,
    db::StatementObserver,
    startup::{BoundServer, StartupError, prepare_database},
    subgraph_http,
};
use atrium_support_migration::Migrator;
use sea_orm::DatabaseConnection;

use crate::{config::Config, graphql, repository::seed};

pub struct Application {
    server: BoundServer,
    database: DatabaseConnection,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        Self::build_observed(config, None).await
    }

    /// As `build`, reporting every SQL statement to `observer` (statement-count tests).
    pub async fn build_observed(config: Config, observer: Option<StatementObserver>) -> Result<Self, StartupError> {
        let database = prepare_database::<Migrator>(
            &config.database_url,
            config.migration_database_url.as_deref(),
            config.max_connections,
            observer,
        )
        .await?;
        if config.seed_demo_data {
            seed::seed_demo_tenants(&database).await.map_err(|error| match error {
                crate::error::SupportError::Database(db) => StartupError::Database(db),
                other => StartupError::Database(sea_orm::DbErr::Custom(other.to_string())),
            })?;
        }
        let router = subgraph_http::router(
            graphql::build_schema(),
            ContextVerifier::new(&config.context_keys),
            database.clone(),
            Arc::new(graphql::install_request_data),
        );
        let server = BoundServer::bind(config.listen, router).await?;
        Ok(Application { server, database })
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    pub fn database(&self) -> &DatabaseConnection {
        &self.database
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.run_until_stopped().await
    }

    pub async fn run_until(self, stop: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        self.server.run_until(stop).await
    }
}
