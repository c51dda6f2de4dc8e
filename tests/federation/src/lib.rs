//! Federation regression harness: serves small async-graphql fixture subgraphs in-process on
//! port 0, composes their SDL with Atrium's composer (or loads a hand-written join v0.3
//! supergraph for shapes the composer refuses), starts the real gateway in front of them and
//! answers each query with both the client response and the plan the engine chose, so one
//! snapshot guards what the client sees and how the gateway got it.

use std::{path::PathBuf, sync::Arc};

use async_graphql::{Executor, ObjectType, SDLExportOptions, Schema, SubscriptionType};
use atrium_gateway::{
    composition::{SubgraphDefinition, compose},
    engine::{Engine, EngineOptions, GraphQLRequest, Supergraph},
};
use axum::{Json, Router, routing::post};
use serde_json::{Value, json};

/// One fixture subgraph before it is served: its name, exported SDL and a way to serve it.
pub struct FixtureSubgraph {
    name: String,
    sdl: String,
    router: Router,
}

impl FixtureSubgraph {
    /// Wraps an async-graphql schema built with `enable_federation()`.
    pub fn new<Q, M, S>(name: &str, schema: Schema<Q, M, S>) -> Self
    where
        Q: ObjectType + 'static,
        M: ObjectType + 'static,
        S: SubscriptionType + 'static,
    {
        let sdl = schema.sdl_with_options(SDLExportOptions::new().federation());
        FixtureSubgraph { name: name.to_owned(), sdl, router: graphql_router(schema) }
    }

    /// Like [`FixtureSubgraph::new`], but `_entities` requests run one representation at a
    /// time, so entity errors carry the representation's index as spec-following subgraphs
    /// report it (async-graphql reports `["_entities", "field"]` without the index).
    pub fn with_indexed_entity_errors<Q, M, S>(name: &str, schema: Schema<Q, M, S>) -> Self
    where
        Q: ObjectType + 'static,
        M: ObjectType + 'static,
        S: SubscriptionType + 'static,
    {
        let sdl = schema.sdl_with_options(SDLExportOptions::new().federation());
        let router = Router::new().route(
            "/graphql",
            post(move |Json(request): Json<Value>| {
                let schema = schema.clone();
                async move { Json(execute_per_representation(&schema, request).await) }
            }),
        );
        FixtureSubgraph { name: name.to_owned(), sdl, router }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn sdl(&self) -> &str {
        &self.sdl
    }
}

/// `POST /graphql` executing the schema. Fixtures verify no tenant context: they stand in
/// for third-party subgraphs, not for Atrium services.
fn graphql_router<E: Executor + Clone>(executor: E) -> Router {
    Router::new().route(
        "/graphql",
        post(move |Json(request): Json<async_graphql::Request>| {
            let executor = executor.clone();
            async move { Json(executor.execute(request).await) }
        }),
    )
}

async fn execute_graphql<E: Executor>(executor: &E, request: Value) -> Value {
    match serde_json::from_value::<async_graphql::Request>(request) {
        Ok(request) => serde_json::to_value(executor.execute(request).await).unwrap_or(Value::Null),
        Err(error) => json!({ "errors": [{ "message": error.to_string() }] }),
    }
}

async fn execute_per_representation<E: Executor>(executor: &E, request: Value) -> Value {
    let Some(representations) = request.pointer("/variables/representations").and_then(Value::as_array).cloned() else {
        return execute_graphql(executor, request).await;
    };
    let mut entities = Vec::with_capacity(representations.len());
    let mut errors = Vec::new();
    for (index, representation) in representations.into_iter().enumerate() {
        let mut single = request.clone();
        single["variables"]["representations"] = json!([representation]);
        let mut response = execute_graphql(executor, single).await;
        entities.push(response.pointer_mut("/data/_entities/0").map(Value::take).unwrap_or(Value::Null));
        for mut error in
            response.get_mut("errors").and_then(Value::as_array_mut).map(std::mem::take).unwrap_or_default()
        {
            if let Some(path) = error.get_mut("path").and_then(Value::as_array_mut)
                && path.first().and_then(Value::as_str) == Some("_entities")
            {
                if path.get(1).is_some_and(Value::is_u64) {
                    path.remove(1);
                }
                path.insert(1, json!(index));
            }
            errors.push(error);
        }
    }
    let mut response = json!({ "data": { "_entities": entities } });
    if !errors.is_empty() {
        response["errors"] = Value::Array(errors);
    }
    response
}

/// Where the supergraph comes from.
pub enum SupergraphSource {
    /// Compose the fixtures' SDL with Atrium's composer.
    Composed,
    /// A hand-written join v0.3 supergraph under `fixtures/` (URLs are overridden).
    File(&'static str),
}

/// A running scenario: fixture subgraphs, the gateway in front of them, and an engine over
/// the same supergraph for reading plans.
pub struct Scenario {
    gateway_url: String,
    supergraph_sdl: String,
    engine: Engine,
    client: reqwest::Client,
}

/// What one query produced: the gateway's HTTP status and body, and the plan.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub response: Value,
    pub plan: Value,
}

impl Answer {
    /// Plan and response in one value, for a single snapshot per query.
    pub fn snapshot(&self) -> Value {
        json!({ "plan": self.plan, "response": self.response })
    }
}

/// Why a scenario could not be set up (composition refused, gateway did not start, ...).
#[derive(Debug)]
pub struct SetupError(pub String);

impl std::fmt::Display for SetupError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for SetupError {}

impl Scenario {
    /// Serves the fixtures, builds the supergraph and starts the gateway.
    pub async fn start(source: SupergraphSource, subgraphs: Vec<FixtureSubgraph>) -> Result<Scenario, SetupError> {
        let mut definitions = Vec::with_capacity(subgraphs.len());
        for subgraph in subgraphs {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|error| SetupError(format!("binding fixture `{}`: {error}", subgraph.name)))?;
            let port = listener.local_addr().map_err(|error| SetupError(error.to_string()))?.port();
            tokio::spawn(async move { axum::serve(listener, subgraph.router).await });
            definitions.push(SubgraphDefinition {
                name: subgraph.name,
                url: format!("http://127.0.0.1:{port}/graphql"),
                sdl: subgraph.sdl,
            });
        }
        let supergraph_sdl = match source {
            SupergraphSource::Composed => {
                compose(&definitions).map_err(|error| SetupError(format!("composition failed: {error}")))?
            }
            SupergraphSource::File(name) => std::fs::read_to_string(fixture_path(name))
                .map_err(|error| SetupError(format!("reading fixture supergraph {name}: {error}")))?,
        };
        let supergraph = Supergraph::from_sdl(&supergraph_sdl)
            .map_err(|error| SetupError(format!("the supergraph is not usable: {error}")))?;
        let engine =
            Engine::new(Arc::new(supergraph), EngineOptions { allow_introspection: true, plan_cache_capacity: 64 });

        let scratch = std::env::temp_dir().join(format!("atrium-federation-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&scratch).map_err(|error| SetupError(error.to_string()))?;
        let supergraph_path = scratch.join("supergraph.graphql");
        std::fs::write(&supergraph_path, &supergraph_sdl).map_err(|error| SetupError(error.to_string()))?;
        let subgraph_urls: serde_json::Map<String, Value> =
            definitions.iter().map(|definition| (definition.name.clone(), definition.url.clone().into())).collect();
        let config: atrium_gateway::config::Config = serde_json::from_value(json!({
            "listen": "127.0.0.1:0",
            "supergraph_path": supergraph_path,
            "subgraph_urls": subgraph_urls,
            "auth": { "allow_anonymous": true, "dev_key_path": scratch.join("dev-signing-key.pem") },
        }))
        .map_err(|error| SetupError(format!("gateway config: {error}")))?;
        let gateway = atrium_gateway::startup::Application::build(config)
            .await
            .map_err(|error| SetupError(format!("the gateway does not start: {error}")))?;
        // The gateway has read the supergraph and the key: the scratch files are done with.
        let _ = std::fs::remove_dir_all(&scratch);
        let gateway_url = format!("http://127.0.0.1:{}/graphql", gateway.port());
        tokio::spawn(gateway.run_until_stopped());
        Ok(Scenario { gateway_url, supergraph_sdl, engine, client: reqwest::Client::new() })
    }

    pub fn supergraph_sdl(&self) -> &str {
        &self.supergraph_sdl
    }

    /// Sends a query (no variables) through the gateway.
    pub async fn query(&self, query: &str) -> Answer {
        self.request(json!({ "query": query })).await
    }

    /// The plan for a query (no variables), without executing it.
    pub async fn plan(&self, query: &str) -> Value {
        self.plan_request(&GraphQLRequest::new(query)).await
    }

    async fn plan_request(&self, request: &GraphQLRequest) -> Value {
        match self.engine.prepare(request).await {
            Ok(prepared) => prepared.plan_json(),
            Err(error) => json!({ "notPlanned": error.to_response() }),
        }
    }

    /// Sends a full GraphQL request body through the gateway and plans it on the side.
    pub async fn request(&self, body: Value) -> Answer {
        let request: GraphQLRequest = serde_json::from_value(body.clone()).expect("a GraphQL request body");
        let plan = self.plan_request(&request).await;
        let response = self
            .client
            .post(&self.gateway_url)
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .json(&body)
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a response body");
        let mut response: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("a JSON body, got: {text}"));
        // Top-level `extensions` report gateway policy (cost measurement, ...), not
        // federation behaviour: leaving them out keeps these snapshots about federation.
        if let Some(body) = response.as_object_mut() {
            body.remove("extensions");
        }
        Answer { status, response, plan }
    }
}

/// Path of a file under `tests/federation/fixtures/`.
pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}
