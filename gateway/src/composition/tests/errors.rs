//! One test per composition rule: the error names the subgraphs, type and
//! field involved, and says why.

use super::fixtures::subgraph;
use crate::composition::{CompositionError, SubgraphDefinition, compose};

fn compose_error(subgraphs: &[(&str, &str)]) -> CompositionError {
    let definitions: Vec<SubgraphDefinition> = subgraphs.iter().map(|(name, sdl)| subgraph(name, sdl)).collect();
    compose(&definitions).expect_err("composition must fail")
}

#[test]
fn a_field_with_incompatible_types_across_subgraphs_is_rejected() {
    let error = compose_error(&[
        ("finance", r#"type Query { account: Account } type Account @key(fields: "id") { id: ID! balance: Int! }"#),
        ("support", r#"type Account @key(fields: "id") { id: ID! balance: String @shareable }"#),
    ]);
    assert!(
        matches!(&error, CompositionError::FieldTypeMismatch { type_name, field, .. } if type_name == "Account" && field == "balance")
    );
    assert_eq!(
        error.to_string(),
        r#"field "Account.balance" has incompatible types across subgraphs: "finance": Int!, "support": String; the types must be equal or differ only in nullability"#
    );
}

#[test]
fn fields_differing_only_in_nullability_merge_to_the_nullable_type() {
    let supergraph = compose(&[
        subgraph(
            "finance",
            r#"type Query { account: Account } type Account @key(fields: "id") { id: ID! label: String! @shareable }"#,
        ),
        subgraph("support", r#"type Account @key(fields: "id") { id: ID! label: String @shareable }"#),
    ])
    .expect("nullability differences compose");
    assert!(
        supergraph.contains(r#"label: String @join__field(graph: FINANCE, type: "String!") @join__field(graph: SUPPORT, type: "String")"#),
        "{supergraph}"
    );
}

#[test]
fn a_value_type_field_defined_in_two_subgraphs_without_shareable_is_rejected() {
    let error = compose_error(&[
        ("finance", "type Query { price: Money } type Money { amountCents: Int! @shareable currency: String! }"),
        (
            "support",
            "type Query { refund: Money } type Money { amountCents: Int! @shareable currency: String! @shareable }",
        ),
    ]);
    assert_eq!(
        error,
        CompositionError::NonShareableField {
            type_name: "Money".into(),
            field: "currency".into(),
            kind: "value type",
            subgraphs: vec!["finance".into(), "support".into()],
            non_shareable: vec!["finance".into()],
        }
    );
    assert_eq!(
        error.to_string(),
        r#"field "Money.currency" of value type "Money" is resolved by subgraphs "finance", "support" but is not marked @shareable in "finance": a field resolved by several subgraphs must be @shareable (or part of a @key) in every one of them"#
    );
}

#[test]
fn an_entity_field_resolved_by_two_subgraphs_without_shareable_is_rejected() {
    let error = compose_error(&[
        ("finance", r#"type Query { account: Account } type Account @key(fields: "id") { id: ID! name: String! }"#),
        ("support", r#"type Account @key(fields: "id") { id: ID! name: String! }"#),
    ]);
    assert!(
        matches!(&error, CompositionError::NonShareableField { kind: "entity", field, .. } if field == "name"),
        "{error}"
    );
}

#[test]
fn a_requires_naming_an_unknown_field_is_rejected() {
    let error = compose_error(&[
        ("analytics", r#"type Account @key(fields: "id") { id: ID! health: Int @requires(fields: "openTickets") }"#),
        ("finance", r#"type Query { account: Account } type Account @key(fields: "id") { id: ID! }"#),
    ]);
    assert_eq!(
        error.to_string(),
        r#"subgraph "analytics": @requires(fields: "openTickets") on "Account.health" selects "Account.openTickets", which that subgraph does not define"#
    );
}

#[test]
fn a_key_naming_an_unknown_field_is_rejected() {
    let error = compose_error(&[(
        "finance",
        r#"type Query { account: Account } type Account @key(fields: "uuid") { id: ID! }"#,
    )]);
    assert_eq!(
        error,
        CompositionError::UnknownFieldInFieldSet {
            subgraph: "finance".into(),
            directive: "key",
            coordinate: r#"type "Account""#.into(),
            fields: "uuid".into(),
            missing: "Account.uuid".into(),
        }
    );
}

#[test]
fn a_requires_on_a_field_the_subgraph_resolves_itself_is_rejected() {
    let error = compose_error(&[(
        "analytics",
        r#"type Query { account: Account } type Account @key(fields: "id") { id: ID! tickets: Int health: Int @requires(fields: "tickets") }"#,
    )]);
    assert!(
        matches!(&error, CompositionError::RequiresNonExternalField { required, .. } if required == "tickets"),
        "{error}"
    );
    assert!(error.to_string().contains("must declare @external"), "{error}");
}

#[test]
fn an_entity_only_referenced_with_resolvable_false_is_rejected() {
    let error = compose_error(&[
        (
            "delivery",
            r#"type Query { engagement: Engagement } type Engagement { id: ID! account: Account } type Account @key(fields: "id", resolvable: false) { id: ID! }"#,
        ),
        (
            "finance",
            r#"type Query { invoice: Invoice } type Invoice { id: ID! account: Account } type Account @key(fields: "id", resolvable: false) { id: ID! }"#,
        ),
    ]);
    assert_eq!(
        error,
        CompositionError::UnresolvableEntity {
            type_name: "Account".into(),
            subgraphs: vec!["delivery".into(), "finance".into()],
        }
    );
    assert!(error.to_string().contains("resolvable: false"), "{error}");
}

#[test]
fn a_root_field_defined_in_two_subgraphs_without_shareable_is_rejected() {
    let error = compose_error(&[
        ("catalog", "type Query { version: String! }"),
        ("finance", "type Query { version: String! @shareable }"),
    ]);
    assert_eq!(
        error.to_string(),
        r#"root field "Query.version" is resolved by subgraphs "catalog", "finance" but is not marked @shareable in "catalog": a root field may be defined by several subgraphs only if every one of them marks it @shareable"#
    );
}

#[test]
fn a_shareable_root_field_may_be_defined_in_several_subgraphs() {
    let supergraph = compose(&[
        subgraph("catalog", "type Query { version: String! @shareable }"),
        subgraph("finance", "type Query { version: String! @shareable }"),
    ])
    .expect("shareable root fields compose");
    // Every subgraph serving Query resolves it, so Apollo emits no @join__field.
    assert!(supergraph.contains("{\n  version: String!\n}"), "{supergraph}");
}

#[test]
fn an_external_field_no_subgraph_resolves_is_rejected() {
    let error = compose_error(&[
        (
            "analytics",
            r#"type Account @key(fields: "id") { id: ID! tickets: Int @external health: Int @requires(fields: "tickets") }"#,
        ),
        ("finance", r#"type Query { account: Account } type Account @key(fields: "id") { id: ID! }"#),
    ]);
    assert_eq!(
        error,
        CompositionError::ExternalFieldNotResolved {
            type_name: "Account".into(),
            field: "tickets".into(),
            subgraphs: vec!["analytics".into()],
        }
    );
}

#[test]
fn a_type_defined_with_different_kinds_is_rejected() {
    let error = compose_error(&[
        ("catalog", "type Query { plan: Plan } enum Plan { FREE }"),
        ("finance", "type Query { tier: Plan @shareable } type Plan { name: String }"),
    ]);
    assert_eq!(
        error.to_string(),
        r#"type "Plan" is defined with different kinds across subgraphs: enum in "catalog", object in "finance""#
    );
}

#[test]
fn a_required_input_field_missing_in_one_subgraph_is_rejected() {
    let error = compose_error(&[
        ("catalog", "type Query { a(filter: Filter): Int } input Filter { tenantId: ID! }"),
        ("finance", "type Query { b(filter: Filter): Int } input Filter { status: String }"),
    ]);
    assert!(
        matches!(&error, CompositionError::RequiredInputFieldMissing { field, required_in, missing_in, .. }
            if field == "tenantId" && required_in == &["catalog"] && missing_in == &["finance"]),
        "{error}"
    );
}

#[test]
fn an_enum_used_as_input_with_different_values_is_rejected() {
    let error = compose_error(&[
        ("catalog", "type Query { a(s: Status): Status } enum Status { OPEN CLOSED }"),
        ("finance", "type Query { b: Status } enum Status { OPEN }"),
    ]);
    assert!(matches!(&error, CompositionError::EnumValueMismatch { value, .. } if value == "CLOSED"), "{error}");
}

#[test]
fn a_reference_to_an_undefined_type_is_rejected() {
    let error = compose_error(&[("catalog", "type Query { tenant: Tenant }")]);
    assert_eq!(
        error.to_string(),
        r#"subgraph "catalog": "Query.tenant" references type "Tenant", which no subgraph defines"#
    );
}

#[test]
fn invalid_or_non_federation_input_is_rejected() {
    let invalid = compose_error(&[("catalog", "type Query {")]);
    assert!(matches!(&invalid, CompositionError::InvalidSdl { subgraph, .. } if subgraph == "catalog"), "{invalid}");

    let fed1 = compose(&[SubgraphDefinition {
        name: "catalog".into(),
        url: "http://catalog".into(),
        sdl: "type Query { a: Int }".into(),
    }])
    .expect_err("no federation link");
    assert_eq!(fed1, CompositionError::NotFederationV2 { subgraph: "catalog".into() });

    let duplicate =
        compose(&[subgraph("catalog", "type Query { a: Int }"), subgraph("catalog", "type Query { b: Int }")])
            .expect_err("duplicate names");
    assert_eq!(duplicate, CompositionError::DuplicateSubgraph { name: "catalog".into() });

    assert_eq!(compose(&[]).expect_err("empty"), CompositionError::NoSubgraphs);
}

#[test]
fn a_supergraph_without_query_fields_is_rejected() {
    let error = compose_error(&[("catalog", r#"type Tenant @key(fields: "id") { id: ID! }"#)]);
    assert_eq!(error, CompositionError::NoQueries);
}
