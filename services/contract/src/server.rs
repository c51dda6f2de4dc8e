//! Binding and serving an HTTP listener the same way in the gateway and every service:
//! port 0 in tests, graceful shutdown on Ctrl-C or SIGTERM.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

/// The listener could not be bound.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {address}: {source}")]
pub struct BindError {
    pub address: SocketAddr,
    #[source]
    pub source: std::io::Error,
}

/// A bound, not yet running HTTP server.
pub struct BoundServer {
    listener: TcpListener,
    router: Router,
}

impl BoundServer {
    pub async fn bind(address: SocketAddr, router: Router) -> Result<Self, BindError> {
        let listener = TcpListener::bind(address).await.map_err(|source| BindError { address, source })?;
        Ok(BoundServer { listener, router })
    }

    /// Serves on a listener the caller bound already (its address was handed out first).
    pub fn on_listener(listener: std::net::TcpListener, router: Router) -> Result<Self, BindError> {
        let address = listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let bind_error = |source| BindError { address, source };
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
