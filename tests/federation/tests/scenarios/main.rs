//! One scenario per federation feature: tiny async-graphql subgraphs, the real gateway in
//! front of them, and a snapshot of both the client response and the plan per query.

mod abstract_types;
mod errors;
mod external;
mod fed1;
mod inaccessible;
mod interface_object;
mod keys;
mod overrides;
mod provides;
mod requires;
mod shareable;
mod typename_and_introspection;

use async_graphql::{EmptyMutation, EmptySubscription, ObjectType, Schema};
use atrium_federation_tests::{FixtureSubgraph, Scenario, SupergraphSource};

/// A federation-enabled fixture subgraph from its query root.
fn subgraph<Q: ObjectType + 'static>(name: &str, query: Q) -> FixtureSubgraph {
    FixtureSubgraph::new(name, Schema::build(query, EmptyMutation, EmptySubscription).enable_federation().finish())
}

async fn composed(subgraphs: Vec<FixtureSubgraph>) -> Scenario {
    Scenario::start(SupergraphSource::Composed, subgraphs).await.unwrap_or_else(|error| panic!("{error}"))
}

/// Runs each `(case, query)` and snapshots plan and response under `<case>`; every query
/// must be answered with HTTP 200 and no errors.
async fn assert_cases(scenario: &Scenario, cases: &[(&str, &str)]) {
    for (case, query) in cases {
        let answer = scenario.query(query).await;
        assert_eq!(answer.status, 200, "{case}: {:#}", answer.response);
        assert!(answer.response.get("errors").is_none(), "{case}: {:#}", answer.response);
        insta::assert_json_snapshot!(*case, answer.snapshot());
    }
}

/// The subgraphs the plan calls, in plan order.
fn services_in(plan: &serde_json::Value) -> Vec<String> {
    let mut services = Vec::new();
    collect_services(plan, &mut services);
    services
}

fn collect_services(node: &serde_json::Value, services: &mut Vec<String>) {
    match node {
        serde_json::Value::Object(object) => {
            if let Some(serde_json::Value::String(service)) = object.get("serviceName") {
                services.push(service.clone());
            }
            object.values().for_each(|value| collect_services(value, services));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect_services(item, services)),
        _ => {}
    }
}
