//! `@requiresScopes` travels into the supergraph: its `@link` for SECURITY,
//! its definition, field- and type-level applications, and one conjunctive
//! requirement where several subgraphs protect the same shared field. The
//! planner accepts the result.

use super::fixtures::subgraph;
use super::planning::{plan, planner_for};
use crate::composition::compose;

const LEDGER: &str = r#"
type Query {
    invoices: [Invoice!]!
}

type Invoice @key(fields: "id") {
    id: ID!
    number: String!
    balanceDue: Float @requiresScopes(scopes: [["finance"], ["tenant_admin"]])
    margin: Float @shareable @requiresScopes(scopes: [["finance"]])
    auditTrail: AuditTrail
}

type AuditTrail @requiresScopes(scopes: [["auditor", "finance"]]) {
    entries: [String!]!
}
"#;

const PRICING: &str = r#"
type Invoice @key(fields: "id") {
    id: ID!
    margin: Float @shareable @requiresScopes(scopes: [["pricing"], ["finance"]])
}
"#;

#[test]
fn scope_requirements_compose_into_the_supergraph() {
    let supergraph = compose(&[subgraph("ledger", LEDGER), subgraph("pricing", PRICING)]).expect("compose");
    insta::assert_snapshot!(supergraph);
}

#[test]
fn a_field_protected_in_two_subgraphs_requires_both_requirements() {
    let supergraph = compose(&[subgraph("ledger", LEDGER), subgraph("pricing", PRICING)]).expect("compose");
    let margin = supergraph.lines().find(|line| line.trim_start().starts_with("margin:")).expect("margin field");
    assert!(margin.ends_with(r#"@requiresScopes(scopes: [["finance"]])"#), "{margin}");
}

#[test]
fn the_planner_accepts_a_supergraph_with_scope_requirements() {
    let supergraph = compose(&[subgraph("ledger", LEDGER), subgraph("pricing", PRICING)]).expect("compose");
    let planned = plan(&planner_for(&supergraph), "query { invoices { number balanceDue margin } }");
    assert!(planned.services().contains(&"ledger".to_owned()), "{}", planned.text);
}
