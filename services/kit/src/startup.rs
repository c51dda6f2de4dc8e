//! The startup steps every service shares: migrate with the owner role, connect the
//! runtime pool, bind a listener (port 0 in tests) and serve until Ctrl-C/SIGTERM.

use std::net::SocketAddr;

use axum::Router;
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;
use tokio::net::TcpListener;

use crate::db::{self, StatementObserver};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::service::ServiceConfigError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("seeding the demo tenants: {0}")]
    Seed(String),
    #[error("cannot listen on {address}: {source}")]
    Bind { address: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Telemetry(#[from] crate::telemetry::TelemetryError),
    #[error(transparent)]
    Changes(#[from] crate::changes::RelayError),
}

/// Applies pending migrations as the owner, then opens the runtime pool. On PostgreSQL the
/// two URLs name different roles: the owner creates tables and policies, the runtime role
/// only reads and writes rows under RLS.
pub async fn prepare_database<M: MigratorTrait>(
    runtime_url: &str,
    migration_url: Option<&str>,
    max_connections: u32,
    observer: Option<StatementObserver>,
) -> Result<DatabaseConnection, StartupError> {
    let owner = db::connect(migration_url.unwrap_or(runtime_url), 2, None).await?;
    M::up(&owner, None).await?;
    owner.close().await?;
    Ok(db::connect(runtime_url, max_connections, observer).await?)
}

/// A bound, not yet running HTTP server.
pub struct BoundServer {
    listener: TcpListener,
    router: Router,
}

impl BoundServer {
    pub async fn bind(address: SocketAddr, router: Router) -> Result<Self, StartupError> {
        let listener = TcpListener::bind(address).await.map_err(|source| StartupError::Bind { address, source })?;
        Ok(BoundServer { listener, router })
    }

    /// Serves on a listener the caller bound already (its address was handed out first).
    pub fn on_listener(listener: std::net::TcpListener, router: Router) -> Result<Self, StartupError> {
        let address = listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let bind_error = |source| StartupError::Bind { address, source };
        listener.set_nonblocking(true).map_err(bind_error)?;
        let listener = TcpListener::from_std(listener).map_err(bind_error)?;
        Ok(BoundServer { listener, router })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|address| address.port()).unwrap_or(0)
    }

    /// Serves until the process receives Ctrl-C or SIGTERM, finishing in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown_signal()).await
    }

    /// Serves until the future completes (tests stop servers this way).
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        axum::serve(self.listener, self.router).with_graceful_shutdown(stop).await
    }
}

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
