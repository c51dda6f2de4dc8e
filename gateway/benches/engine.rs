//! Engine micro-benchmarks on the load benchmark's supergraph and query
//! (`bench/query.graphql`): preparing an operation cold (parse, validate, plan) and from
//! the plan cache, and executing the plan against recorded subgraph answers, which measures
//! the executor's entity batching, merging and response projection without any network.
//!
//! Run with `cargo bench -p atrium-gateway --bench engine`.

use std::{collections::HashMap, sync::Arc};

use atrium_bench::{BenchSubgraph, QUERY, SUBGRAPHS};
use atrium_gateway::{
    composition::{SubgraphDefinition, compose},
    engine::{Engine, EngineOptions, GraphQLRequest, Outcome, SubgraphTransport, Supergraph, TransportError},
};
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use futures::future::BoxFuture;
use parking_lot::Mutex;

fn supergraph() -> Arc<Supergraph> {
    let definitions: Vec<SubgraphDefinition> = SUBGRAPHS
        .iter()
        .map(|name| SubgraphDefinition {
            name: (*name).to_owned(),
            url: format!("http://{name}.invalid/graphql"),
            sdl: BenchSubgraph::by_name(name).expect("a benchmark subgraph").sdl(),
        })
        .collect();
    let sdl = compose(&definitions).expect("the benchmark subgraphs compose");
    Arc::new(Supergraph::from_sdl(&sdl).expect("a usable supergraph"))
}

fn request() -> GraphQLRequest {
    GraphQLRequest::new(QUERY).with_operation_name("TestQuery")
}

fn options() -> EngineOptions {
    EngineOptions { allow_introspection: false, plan_cache_capacity: 16 }
}

/// Answers from the in-process subgraphs and remembers every answer by request.
struct RecordingTransport {
    subgraphs: HashMap<&'static str, BenchSubgraph>,
    recorded: Mutex<HashMap<(String, Bytes), Bytes>>,
}

impl SubgraphTransport for RecordingTransport {
    fn fetch<'a>(&'a self, subgraph: &'a str, body: Bytes) -> BoxFuture<'a, Result<Bytes, TransportError>> {
        Box::pin(async move {
            let schema = self.subgraphs.get(subgraph).ok_or_else(|| TransportError::new("unknown subgraph"))?;
            let request: async_graphql::Request =
                serde_json::from_slice(&body).map_err(|error| TransportError::new(error.to_string()))?;
            let response = schema.execute(request).await;
            let answer = Bytes::from(serde_json::to_vec(&response).map_err(|e| TransportError::new(e.to_string()))?);
            self.recorded.lock().insert((subgraph.to_owned(), body), answer.clone());
            Ok(answer)
        })
    }
}

/// Replays recorded answers: what is left to measure is the gateway's own work.
struct ReplayTransport(HashMap<(String, Bytes), Bytes>);

impl SubgraphTransport for ReplayTransport {
    fn fetch<'a>(&'a self, subgraph: &'a str, body: Bytes) -> BoxFuture<'a, Result<Bytes, TransportError>> {
        let answer = self.0.get(&(subgraph.to_owned(), body)).cloned();
        Box::pin(async move { answer.ok_or_else(|| TransportError::new("no recorded answer for this fetch")) })
    }
}

fn planning(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let supergraph = supergraph();
    let request = request();
    let mut group = criterion.benchmark_group("prepare_bench_query");
    group.bench_function("cold", |bencher| {
        bencher.to_async(&runtime).iter(|| async {
            let engine = Engine::new(Arc::clone(&supergraph), options());
            engine.prepare(&request).await.expect("the bench query plans")
        })
    });
    let warm = Engine::new(Arc::clone(&supergraph), options());
    runtime.block_on(warm.prepare(&request)).expect("the bench query plans");
    group.bench_function("cached", |bencher| {
        bencher.to_async(&runtime).iter(|| async { warm.prepare(&request).await.expect("cached") })
    });
    group.finish();
}

fn execution(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let engine = Engine::new(supergraph(), options());
    let request = request();
    let recorder = RecordingTransport {
        subgraphs: SUBGRAPHS.iter().map(|name| (*name, BenchSubgraph::by_name(name).expect("subgraph"))).collect(),
        recorded: Mutex::default(),
    };
    let recorded = runtime.block_on(engine.execute(&request, &recorder));
    assert_eq!(recorded.outcome, Outcome::Success, "{}", recorded.body);
    let response_bytes = serde_json::to_vec(&recorded.body).expect("serialisable").len();
    let replay = ReplayTransport(recorder.recorded.into_inner());

    let mut group = criterion.benchmark_group("execute_bench_query");
    group.throughput(criterion::Throughput::Bytes(response_bytes as u64));
    group.bench_function("merge_project_serialise", |bencher| {
        bencher.to_async(&runtime).iter(|| async {
            let response = engine.execute(&request, &replay).await;
            serde_json::to_vec(&response.body).expect("serialisable")
        })
    });
    group.finish();
}

criterion_group!(benches, planning, execution);
criterion_main!(benches);
