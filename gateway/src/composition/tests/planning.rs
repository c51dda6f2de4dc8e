//! Feeds composed supergraphs to `hive-router-query-planner` and checks the
//! plans reach every subgraph, in the right order for `@requires`.

use hive_router_query_planner::ast::normalization::normalize_operation;
use hive_router_query_planner::graph::PlannerOverrideContext;
use hive_router_query_planner::planner::{Planner, QueryPlannerOptions};
use hive_router_query_planner::utils::cancellation::CancellationToken;
use hive_router_query_planner::utils::parsing::{parse_operation, parse_schema};
use serde_json::Value;

use super::fixtures::atrium_subgraphs;
use crate::composition::compose;

pub(super) struct PlannedQuery {
    pub json: Value,
    pub text: String,
}

impl PlannedQuery {
    /// `serviceName`s of every fetch, in plan order.
    pub fn services(&self) -> Vec<String> {
        fn collect(value: &Value, out: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(service)) = map.get("serviceName") {
                        out.push(service.clone());
                    }
                    map.values().for_each(|v| collect(v, out));
                }
                Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        collect(&self.json, &mut out);
        out
    }
}

pub(super) fn planner_for(supergraph: &str) -> Planner {
    let schema = parse_schema(supergraph);
    Planner::new_from_supergraph(&schema, QueryPlannerOptions::default())
        .expect("the planner accepts the composed supergraph")
}

pub(super) fn plan(planner: &Planner, operation: &str) -> PlannedQuery {
    let document = parse_operation(operation);
    let normalized = normalize_operation(&planner.supergraph, &document, None).expect("operation normalizes");
    let plan = planner
        .plan_from_normalized_operation(
            normalized.executable_operation(),
            PlannerOverrideContext::default(),
            &CancellationToken::new(),
        )
        .expect("operation plans");
    PlannedQuery { json: serde_json::to_value(&plan).expect("plan serializes"), text: plan.to_string() }
}

fn atrium_planner() -> Planner {
    planner_for(&compose(&atrium_subgraphs()).expect("compose"))
}

#[test]
fn a_query_crossing_every_subgraph_fetches_from_each_of_them() {
    let planned = plan(
        &atrium_planner(),
        r#"query {
            customerAccount(id: "ca-1") {
                name
                tenant { name plan }
                engagements { title }
                tickets { subject priority }
                health { score label }
            }
        }"#,
    );
    let services = planned.services();
    assert_eq!(services.first().map(String::as_str), Some("finance"), "{}", planned.text);
    for service in ["analytics", "catalog", "delivery", "finance", "support"] {
        assert!(services.iter().any(|s| s == service), "no fetch to {service}:\n{}", planned.text);
    }
    insta::assert_snapshot!(planned.text);
}

#[test]
fn a_requires_field_is_fetched_after_the_field_it_requires() {
    let planned = plan(&atrium_planner(), r#"query { customerAccount(id: "ca-1") { health { score } } }"#);
    assert_eq!(planned.services(), ["finance", "support", "analytics"], "{}", planned.text);
    assert!(
        planned.text.contains("openUrgentHighTicketCount"),
        "the analytics fetch receives the required field:\n{}",
        planned.text
    );
}

#[test]
fn an_entity_stub_is_resolved_by_its_owning_subgraph() {
    let planned = plan(
        &atrium_planner(),
        r#"query { engagement(id: "e-1") { title customerAccount { name openUrgentHighTicketCount } } }"#,
    );
    let services = planned.services();
    assert_eq!(services.first().map(String::as_str), Some("delivery"), "{}", planned.text);
    assert!(services.iter().any(|s| s == "finance"), "{}", planned.text);
    assert!(services.iter().any(|s| s == "support"), "{}", planned.text);
}

#[test]
fn a_mutation_is_sent_to_the_subgraph_defining_it() {
    let planned = plan(
        &atrium_planner(),
        r#"mutation { issueInvoice(input: { customerAccountId: "ca-1", amountCents: 100 }) { number total { amountCents } } }"#,
    );
    assert_eq!(planned.services(), ["finance"], "{}", planned.text);
}

#[test]
fn inaccessible_fields_are_hidden_from_the_api_schema() {
    let supergraph = compose(&atrium_subgraphs()).expect("compose");
    let planner = planner_for(&supergraph);
    let api = planner.consumer_schema.document.to_string();
    assert!(api.contains("number: String!"), "{api}");
    assert!(!api.contains("internalNotes"), "@inaccessible field leaked into the API schema:\n{api}");
}
