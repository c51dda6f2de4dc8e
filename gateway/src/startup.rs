//! Builds the gateway: loads the supergraph, creates the engine, the authenticator, the
//! context signer and the subgraph client, and binds the listeners (port 0 in tests): the
//! public one, and the internal one for `/metrics` and `/internal/changes` when configured
//! (by default outside the dev profile).

use std::{collections::HashMap, sync::Arc, time::Duration};

use atrium_contract::{ContextSigner, server::BoundServer};

use crate::{
    auth::{Authenticator, dev_key::DevKeyError},
    config::{Config, ConfigCheckError},
    engine::{Engine, EngineError, EngineOptions, Supergraph},
    policy::{OperationPolicy, SchemaParseError},
    routes,
    state::GatewayState,
    subgraph_client::SubgraphClient,
};

#[derive(Debug, thiserror::Error)]
pub enum GatewayStartupError {
    #[error(transparent)]
    Config(#[from] ConfigCheckError),
    #[error("cannot read the supergraph at {path}: {source}")]
    SupergraphFile { path: String, source: std::io::Error },
    #[error("the supergraph is not usable: {0}")]
    Supergraph(#[from] EngineError),
    #[error("subgraph `{name}` has an invalid URL `{url}`")]
    SubgraphUrl { name: String, url: String },
    #[error(transparent)]
    DevKey(#[from] DevKeyError),
    #[error("the operation policy cannot read the API schema: {0}")]
    Policy(#[from] SchemaParseError),
    #[error(transparent)]
    Authorization(#[from] crate::authorization::RequirementsError),
    #[error(transparent)]
    ResponseCache(#[from] crate::response_cache::ResponseCacheError),
    #[error(transparent)]
    Cors(#[from] crate::cors::CorsConfigError),
    #[error(transparent)]
    SubgraphTls(#[from] crate::subgraph_tls::SubgraphTlsError),
    #[error("invalid Redis configuration: {0}")]
    Redis(String),
    #[error(transparent)]
    Server(#[from] atrium_contract::server::BindError),
    #[error(transparent)]
    Telemetry(#[from] atrium_contract::telemetry::TelemetryError),
}

pub struct Application {
    server: BoundServer,
    /// `/metrics` and `/internal/changes`, apart from the public listener (see
    /// `Config::internal_listen_address`).
    internal: Option<BoundServer>,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, GatewayStartupError> {
        Self::build_serving(config, None).await
    }

    /// Builds the gateway on a listener the caller bound already, so its address can be
    /// handed out (e.g. to services' change relays) before it starts.
    pub async fn build_on(config: Config, listener: std::net::TcpListener) -> Result<Self, GatewayStartupError> {
        Self::build_serving(config, Some(listener)).await
    }

    async fn build_serving(
        config: Config,
        listener: Option<std::net::TcpListener>,
    ) -> Result<Self, GatewayStartupError> {
        config.check()?;
        let sdl = std::fs::read_to_string(&config.supergraph_path).map_err(|source| {
            GatewayStartupError::SupergraphFile { path: config.supergraph_path.display().to_string(), source }
        })?;
        let supergraph = Arc::new(Supergraph::from_sdl(&sdl)?);
        let mut urls = HashMap::new();
        for (name, url) in supergraph.subgraphs() {
            let url = config.subgraph_urls.get(name).map_or(url, String::as_str);
            let uri = url
                .parse::<hyper::Uri>()
                .map_err(|_| GatewayStartupError::SubgraphUrl { name: name.to_owned(), url: url.to_owned() })?;
            urls.insert(name.to_owned(), uri);
        }
        let policy = OperationPolicy::new(config.policy.clone(), &supergraph.api_schema_sdl())?;
        let authorizer = crate::authorization::Authorizer::new(&sdl, config.authorization.clone())?;
        let engine = Engine::new(
            supergraph,
            EngineOptions {
                allow_introspection: config.policy.introspection_enabled(config.profile),
                plan_cache_capacity: 10_000,
            },
        );
        let metrics = Arc::new(atrium_contract::telemetry::Metrics::new("atrium-gateway", &config.telemetry)?);
        let documents = Arc::new(
            crate::persisted::PersistedDocuments::new(
                config.persisted_documents.clone(),
                config.redis.url.as_deref(),
                &config.redis.key_prefix,
            )
            .map_err(|error| GatewayStartupError::Redis(error.to_string()))?,
        );
        documents.start_reloading().await;
        let api_keys = Arc::new(
            crate::auth::api_keys::ApiKeyStore::new(
                config.redis.url.as_deref(),
                &config.redis.key_prefix,
                &config.auth.api_keys_directory,
            )
            .map_err(|error| GatewayStartupError::Redis(error.to_string()))?
            .with_max_staleness(config.auth.api_keys_max_staleness()),
        );
        api_keys.start_reloading(Duration::from_secs(config.auth.api_keys_reload_seconds)).await;
        let state = Arc::new(GatewayState {
            engine,
            authenticator: Authenticator::from_config(&config.auth)?.with_api_keys(api_keys),
            signer: ContextSigner::new(&config.tenant_context.signing_key, config.tenant_context.ttl_seconds),
            subgraphs: Arc::new(
                SubgraphClient::new(urls, Duration::from_millis(config.subgraph_timeout_ms), &config.subgraph_tls)?
                    .with_deduplication(config.subgraph_deduplication)
                    .with_metrics(crate::telemetry::FetchMetrics::new(&metrics)),
            ),
            profile: config.profile,
            rate_limiter: crate::rate_limit::RateLimiter::new(config.rate_limits.clone(), &config.redis)
                .map_err(|error| GatewayStartupError::Redis(error.to_string()))?,
            documents: documents.clone(),
            inbound: config.inbound_deduplication.then(Arc::default),
            policy,
            authorizer,
            telemetry: crate::telemetry::GatewayTelemetry::new(Arc::clone(&metrics)),
            response_cache: Arc::new(crate::response_cache::ResponseCache::new(
                &sdl,
                config.response_cache.clone(),
                config.redis.url.as_deref(),
                &config.redis.key_prefix,
                &metrics,
            )?),
            change_keys: config.tenant_context.accepted_keys(),
            cors: Arc::new(crate::cors::CorsPolicy::new(&config.cors)?),
        });
        let observed = Arc::downgrade(&state);
        crate::telemetry::observe_plan_cache(&metrics, move || {
            observed.upgrade().map(|state| state.engine.plan_cache_stats())
        });
        let (supergraph_state, limiter_state) = (Arc::downgrade(&state), Arc::downgrade(&state));
        let probes = crate::telemetry::GatewayProbes {
            supergraph_loaded: Arc::new(move || {
                supergraph_state.upgrade().is_some_and(|state| state.engine.supergraph().subgraphs().next().is_some())
            }),
            rate_limits_degraded: Arc::new(move || {
                limiter_state.upgrade().is_some_and(|state| state.rate_limiter.is_degraded())
            }),
        };
        let readiness = crate::telemetry::readiness_checks(probes, config.redis.url.clone(), &metrics);
        let track = |router| {
            atrium_contract::telemetry::track_requests(
                router,
                &metrics,
                atrium_contract::telemetry::RequestSpanOptions { continue_remote_trace: false },
            )
        };
        let (public_router, internal) = match config.internal_listen_address() {
            Some(address) => {
                let public_router = track(routes::router(Arc::clone(&state)))
                    .merge(atrium_contract::telemetry::health_routes(readiness.clone()));
                let internal_router = track(routes::internal_router(state))
                    .merge(atrium_contract::telemetry::operational_routes(Arc::clone(&metrics), readiness));
                (public_router, Some(BoundServer::bind(address, internal_router).await?))
            }
            None => {
                let endpoints = routes::router(Arc::clone(&state)).merge(routes::internal_router(state));
                let operational = atrium_contract::telemetry::operational_routes(Arc::clone(&metrics), readiness);
                (track(endpoints).merge(operational), None)
            }
        };
        let server = match listener {
            Some(listener) => BoundServer::on_listener(listener, public_router)?,
            None => BoundServer::bind(config.listen, public_router).await?,
        };
        Ok(Application { server, internal })
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// The internal listener's port, when the internal endpoints have their own.
    pub fn internal_port(&self) -> Option<u16> {
        self.internal.as_ref().map(BoundServer::port)
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        match self.internal {
            Some(internal) => {
                tokio::try_join!(self.server.run_until_stopped(), internal.run_until_stopped()).map(|_| ())
            }
            None => self.server.run_until_stopped().await,
        }
    }

    pub async fn run_until(self, stop: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        match self.internal {
            Some(internal) => {
                let stop = futures::FutureExt::shared(stop);
                tokio::try_join!(self.server.run_until(stop.clone()), internal.run_until(stop)).map(|_| ())
            }
            None => self.server.run_until(stop).await,
        }
    }
}
