//! `schema/` must match the code: each subgraph's exported SDL and the supergraph composed
//! from them. `make schema` regenerates the files; this test fails CI on drift.

use atrium_gateway::composition::{SubgraphDefinition, compose};
use atrium_system_tests::{repository_root, subgraph_list};

/// The SDL a service's code exports (a new service needs its line here).
pub fn exported_sdl(service: &str) -> String {
    match service {
        "catalog" => atrium_catalog::sdl(),
        "delivery" => atrium_delivery::sdl(),
        "finance" => atrium_finance::sdl(),
        "support" => atrium_support::sdl(),
        "analytics" => atrium_analytics::sdl(),
        other => panic!("no SDL export for subgraph `{other}`: add it to exported_sdl"),
    }
}

fn committed(path: &str) -> String {
    std::fs::read_to_string(repository_root().join(path)).unwrap_or_else(|error| panic!("reading {path}: {error}"))
}

#[test]
fn committed_subgraph_sdl_matches_the_code() {
    for subgraph in subgraph_list() {
        let service = &subgraph.name;
        assert!(
            committed(&format!("schema/{service}.graphql")) == exported_sdl(service),
            "schema/{service}.graphql is stale: run `make schema`"
        );
    }
}

#[test]
fn committed_supergraph_matches_the_composition_of_the_subgraphs() {
    let definitions: Vec<SubgraphDefinition> = subgraph_list()
        .into_iter()
        .map(|subgraph| SubgraphDefinition {
            url: subgraph.local_url(),
            sdl: committed(&format!("schema/{}.graphql", subgraph.name)),
            name: subgraph.name,
        })
        .collect();
    let composed = compose(&definitions).expect("the subgraphs compose");
    assert!(
        composed == committed("schema/supergraph.graphql"),
        "schema/supergraph.graphql is stale: run `make schema`"
    );
}

/// `schema/api.graphql` is the client kit's schema (codegen, portals): the supergraph's
/// client-facing API, kept in step with it.
#[test]
fn committed_api_schema_is_the_supergraphs_client_api() {
    let supergraph = atrium_gateway::engine::Supergraph::from_sdl(&committed("schema/supergraph.graphql"))
        .expect("supergraph loads");
    let api = supergraph.api_schema_sdl();
    assert!(api == committed("schema/api.graphql"), "schema/api.graphql is stale: run `make schema`");
    assert!(!api.contains("join__") && !api.contains("link__"), "no federation machinery reaches clients");
    assert!(api.contains("type CustomerAccount"), "the API has the domain types");
    // The gateway serves no subscriptions: no type may become the subscription root by
    // its name.
    assert!(!api.contains("subscription:") && !api.contains("type Subscription "), "{}", &api[..200]);
}

/// `schema/admin.graphql`: the admin endpoint's schema, beside the API one.
#[test]
fn committed_admin_schema_matches_the_admin_endpoint() {
    let admin = atrium_gateway::admin::sdl();
    assert!(admin == committed("schema/admin.graphql"), "schema/admin.graphql is stale: run `make schema`");
    assert!(admin.contains("type Mutation") && admin.contains("type PersistedDocumentPublication"), "{admin}");
}

#[tokio::test]
async fn the_engine_plans_the_portal_query_against_the_committed_supergraph() {
    let supergraph = atrium_gateway::engine::Supergraph::from_sdl(&committed("schema/supergraph.graphql"))
        .expect("supergraph loads");
    let engine = atrium_gateway::engine::Engine::new(
        std::sync::Arc::new(supergraph),
        atrium_gateway::engine::EngineOptions { allow_introspection: false, plan_cache_capacity: 16 },
    );
    let request = atrium_gateway::engine::GraphQLRequest {
        query: crate::portal_query::PORTAL_QUERY.to_owned(),
        operation_name: None,
        variables: Default::default(),
        extensions: Default::default(),
    };
    let prepared = engine.prepare(&request).await.expect("the portal query plans");
    let plan = prepared.plan_json().to_string();
    for service in subgraph_list().iter().map(|subgraph| &subgraph.name) {
        assert!(plan.contains(&format!("\"{service}\"")), "plan does not reach {service}: {plan}");
    }
}

#[tokio::test]
async fn every_committed_persisted_document_manifest_still_validates_against_the_supergraph() {
    let supergraph = atrium_gateway::engine::Supergraph::from_sdl(&committed("schema/supergraph.graphql"))
        .expect("supergraph loads");
    let engine = atrium_gateway::engine::Engine::new(std::sync::Arc::new(supergraph), Default::default());
    let directory = repository_root().join("schema/persisted");
    let mut checked = 0;
    for entry in std::fs::read_dir(&directory).expect("schema/persisted exists") {
        let path = entry.expect("entry").path();
        let manifest = atrium_gateway::persisted::Manifest::parse(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let invalid = atrium_gateway::persisted::validate_manifest(&engine, &manifest).await;
        assert!(invalid.is_empty(), "{} would break: {invalid:?}", path.display());
        checked += manifest.operations.len();
    }
    assert!(checked > 0, "no persisted documents were checked");
}
