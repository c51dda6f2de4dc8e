//! Requirement evaluation (OR of ANDs) and the operation walk: aliases, lists,
//! fragments, inline fragments, interfaces, type-level requirements and policies.

use atrium_contract::{ClientKind, TenantContext};
use serde_json::{Value, json};
use uuid::Uuid;

use super::requirements::ScopeRequirement;
use super::*;

const SUPERGRAPH: &str = r#"
type Query {
    accounts: [Account!]!
    node: Node
    ledger: Ledger
}

interface Node { id: ID! }

type Account implements Node {
    id: ID!
    name: String!
    balanceDue: Float @requiresScopes(scopes: [["finance"], ["tenant_admin"]])
    invoices: [Invoice!]!
}

type Invoice implements Node {
    id: ID!
    number: String!
    margin: Float @requiresScopes(scopes: [["finance", "pricing"]])
}

type Ledger @requiresScopes(scopes: [["auditor"]]) {
    entries: [String!]!
}
"#;

fn caller(roles: &[&str], client_kind: ClientKind) -> TenantContext {
    TenantContext {
        tenant_id: Uuid::nil(),
        subject: "user-1".into(),
        roles: roles.iter().map(|role| (*role).to_owned()).collect(),
        client_kind,
        channel_partner_id: None,
        customer_account_id: None,
    }
}

fn authorizer(config: AuthorizationConfig) -> Authorizer {
    Authorizer::new(SUPERGRAPH, config).expect("the supergraph parses")
}

fn authorize(roles: &[&str], query: &str) -> AuthorizedOperation {
    authorizer(AuthorizationConfig::default())
        .authorize(&caller(roles, ClientKind::Dashboard), &GraphQLRequest::new(query))
        .expect("filter never rejects")
}

fn paths(errors: &[Value]) -> Vec<Value> {
    errors.iter().map(|error| error["path"].clone()).collect()
}

#[test]
fn a_requirement_is_met_by_holding_every_role_of_any_one_alternative() {
    let requirement = ScopeRequirement::new(&[&["finance"], &["auditor", "tenant_admin"]]);
    let roles = |roles: &[&str]| roles.iter().map(|role| (*role).to_owned()).collect::<Vec<_>>();
    assert!(requirement.is_met_by(&roles(&["finance"])));
    assert!(requirement.is_met_by(&roles(&["csm", "tenant_admin", "auditor"])));
    assert!(!requirement.is_met_by(&roles(&["auditor"])));
    assert!(!requirement.is_met_by(&roles(&[])));
}

#[test]
fn a_caller_meeting_every_requirement_runs_the_operation_unrestricted() {
    for roles in [&["finance"][..], &["tenant_admin"]] {
        let authorized = authorize(roles, "{ accounts { name balanceDue } }");
        assert!(authorized.removed.is_empty() && authorized.errors.is_empty(), "{roles:?}");
    }
}

#[test]
fn an_unauthorized_field_is_removed_with_one_error_at_its_aliased_path() {
    let authorized = authorize(&["csm"], "{ accounts { name owed: balanceDue } }");
    assert!(authorized.removed.contains_field("Account", "balanceDue"));
    assert_eq!(paths(&authorized.errors), [json!(["accounts", "@", "owed"])]);
    assert_eq!(authorized.errors[0]["extensions"]["code"], UNAUTHORIZED_FIELD_OR_TYPE);
}

#[test]
fn every_role_of_an_alternative_is_needed() {
    let query = "{ accounts { invoices { number margin } } }";
    assert_eq!(paths(&authorize(&["finance"], query).errors), [json!(["accounts", "@", "invoices", "@", "margin"])]);
    assert!(authorize(&["finance", "pricing"], query).errors.is_empty());
}

#[test]
fn fields_selected_through_named_and_inline_fragments_are_found() {
    let authorized = authorize(
        &["csm"],
        "query Q { accounts { ...Money } node { ... on Account { balanceDue } } } \
         fragment Money on Account { name balanceDue }",
    );
    assert_eq!(paths(&authorized.errors), [json!(["accounts", "@", "balanceDue"]), json!(["node", "balanceDue"])]);
}

#[test]
fn a_protected_type_denies_the_fields_returning_it_and_fragments_on_it() {
    let authorized = authorize(&["csm"], "{ ledger { entries } accounts { name } }");
    assert!(authorized.removed.contains_field("Query", "ledger"));
    assert_eq!(paths(&authorized.errors), [json!(["ledger"])]);

    let authorized = authorize(&["csm"], "{ node { id ... on Ledger { entries } } }");
    assert!(authorized.removed.contains_type_condition("Ledger"));
    assert_eq!(paths(&authorized.errors), [json!(["node"])]);
}

#[test]
fn a_field_selected_on_an_interface_needs_what_its_implementations_need() {
    const WITH_PROTECTED_IMPLEMENTATION: &str = r#"
        type Query { nodes: [Node!]! }
        interface Node { id: ID! label: String }
        type Account implements Node { id: ID! label: String @requiresScopes(scopes: [["finance"]]) }
        type Team implements Node { id: ID! label: String }
    "#;
    let authorizer = Authorizer::new(WITH_PROTECTED_IMPLEMENTATION, AuthorizationConfig::default()).unwrap();
    let request = GraphQLRequest::new("{ nodes { id label } }");
    let authorized = authorizer.authorize(&caller(&["csm"], ClientKind::Dashboard), &request).unwrap();
    assert_eq!(paths(&authorized.errors), [json!(["nodes", "@", "label"])]);
    assert!(authorized.removed.contains_field("Node", "label"));
}

#[test]
fn names_that_are_not_selected_restrict_nothing_the_walk_reports() {
    let authorized = authorize(&["csm"], r#"{ accounts { name } } # balanceDue"#);
    assert!(authorized.errors.is_empty());
}

#[test]
fn the_reject_policy_refuses_the_request_with_every_unauthorized_path() {
    let config: AuthorizationConfig = toml::from_str("clients.bi = \"reject\"").unwrap();
    let request = GraphQLRequest::new("{ accounts { balanceDue invoices { margin } } }");
    let rejection = authorizer(config.clone()).authorize(&caller(&["csm"], ClientKind::Bi), &request).unwrap_err();
    assert_eq!(paths(&rejection.errors).len(), 2);
    assert!(authorizer(config).authorize(&caller(&["csm"], ClientKind::Dashboard), &request).is_ok());
}

#[test]
fn a_document_that_does_not_parse_is_left_to_the_engine_but_still_restricted() {
    let authorized = authorize(&["csm"], "{ accounts { balanceDue ");
    assert!(authorized.errors.is_empty());
    assert!(authorized.removed.contains_field("Account", "balanceDue"));
}
