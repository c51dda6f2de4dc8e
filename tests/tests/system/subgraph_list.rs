//! `services/subgraphs.list` is the one list of subgraphs. What reads it (Makefile,
//! deploy/run-local.sh, bench/platform.sh, `make schema`, the harness) cannot drift; what
//! cannot read it (the services' own defaults, the event wiring, compose, the chart, the
//! example gateway configuration, the harness's start functions) is checked here, so adding
//! a subgraph fails with a message naming each place still missing it.

use atrium_kit::{events::LOCAL_SERVICES, service::ServiceIdentity};
use atrium_system_tests::{SERVICES, SubgraphEntry, repository_root, subgraph_list};

fn read(path: &str) -> String {
    std::fs::read_to_string(repository_root().join(path)).unwrap_or_else(|error| panic!("reading {path}: {error}"))
}

/// A service's compiled identity (a new service needs its line here).
fn identity(name: &str) -> &'static ServiceIdentity {
    match name {
        "catalog" => &atrium_catalog::config::SERVICE,
        "delivery" => &atrium_delivery::config::SERVICE,
        "finance" => &atrium_finance::config::SERVICE,
        "support" => &atrium_support::config::SERVICE,
        "analytics" => &atrium_analytics::config::SERVICE,
        other => panic!("no identity for subgraph `{other}`: add it to subgraph_list.rs"),
    }
}

fn list() -> Vec<SubgraphEntry> {
    let list = subgraph_list();
    assert!(!list.is_empty(), "services/subgraphs.list names no subgraph");
    list
}

#[test]
fn the_list_matches_the_services_defaults_and_the_harness() {
    let list = list();
    for subgraph in &list {
        let identity = identity(&subgraph.name);
        assert_eq!(identity.name, subgraph.name);
        assert_eq!(identity.binary, format!("atrium-{}", subgraph.name));
        assert_eq!(identity.default_port, subgraph.port, "{}'s default port", subgraph.name);
        assert!(
            LOCAL_SERVICES.contains(&(identity.name, subgraph.port)),
            "atrium_kit::events::LOCAL_SERVICES lacks ({}, {})",
            subgraph.name,
            subgraph.port
        );
    }
    let names: Vec<&str> = list.iter().map(|subgraph| subgraph.name.as_str()).collect();
    assert_eq!(SERVICES.as_slice(), names.as_slice(), "the harness's SERVICES (tests/src/lib.rs)");
    assert_eq!(LOCAL_SERVICES.len(), list.len(), "LOCAL_SERVICES names a subgraph the list does not");
    let mut ports: Vec<u16> = list.iter().map(|subgraph| subgraph.port).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), list.len(), "two subgraphs share a port");
}

#[test]
fn every_listed_subgraph_is_a_workspace_member_with_a_committed_schema() {
    let manifest = read("Cargo.toml");
    for subgraph in list() {
        for member in [format!("\"services/{}\"", subgraph.name), format!("\"services/{}/migration\"", subgraph.name)] {
            assert!(manifest.contains(&member), "Cargo.toml's workspace members lack {member}");
        }
        assert!(
            repository_root().join(format!("schema/{}.graphql", subgraph.name)).is_file(),
            "schema/{}.graphql is missing: run `make schema`",
            subgraph.name
        );
    }
}

#[test]
fn compose_the_chart_and_the_example_config_route_to_every_listed_subgraph() {
    let compose = read("deploy/compose.yaml");
    let values = read("helm/atrium/values.yaml");
    let gateway_config = read("deploy/config/gateway.example.toml");
    let list = list();
    for SubgraphEntry { name, port } in &list {
        let upper = name.to_uppercase();
        for expected in [
            format!("ATRIUM_{upper}__LISTEN: 0.0.0.0:{port}"),
            format!("ATRIUM_GATEWAY__SUBGRAPH_URLS__{upper}: http://{name}:{port}/graphql"),
        ] {
            assert!(compose.contains(&expected), "deploy/compose.yaml lacks `{expected}`");
        }
        let chart_entry = format!("  {name}: {{ port: {port},");
        assert!(values.contains(&chart_entry), "helm/atrium/values.yaml lacks `{chart_entry}`");
        let url = format!("{name} = \"http://{name}:{port}/graphql\"");
        assert!(gateway_config.contains(&url), "deploy/config/gateway.example.toml lacks `{url}`");
    }
    let routed = compose.matches("ATRIUM_GATEWAY__SUBGRAPH_URLS__").count();
    assert_eq!(routed, list.len(), "deploy/compose.yaml routes to a subgraph the list does not name");
}

#[test]
fn the_scripts_take_their_subgraphs_from_the_list() {
    for script in ["Makefile", "deploy/run-local.sh", "bench/platform.sh"] {
        let text = read(script);
        assert!(text.contains("services/subgraphs.list"), "{script} does not read services/subgraphs.list");
        assert!(
            !text.contains("catalog delivery finance support analytics"),
            "{script} spells out the subgraphs instead of reading the list"
        );
    }
}
