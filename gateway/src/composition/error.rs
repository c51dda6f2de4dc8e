//! The composition error type: one variant per rule, each naming the
//! subgraph(s), type and field involved so the message alone says what to fix.

/// Why a set of subgraphs could not be composed into a supergraph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompositionError {
    #[error("no subgraphs to compose: a supergraph needs at least one subgraph")]
    NoSubgraphs,

    #[error("subgraph name {name:?} is used by more than one subgraph")]
    DuplicateSubgraph { name: String },

    #[error("subgraph name {name:?} is not usable: it must contain at least one ASCII letter or digit")]
    InvalidSubgraphName { name: String },

    #[error("subgraphs {first:?} and {second:?} both map to the join__Graph value {graph}: rename one of them")]
    GraphNameCollision { first: String, second: String, graph: String },

    #[error("subgraph {subgraph:?} has invalid SDL: {message}")]
    InvalidSdl { subgraph: String, message: String },

    #[error(
        "subgraph {subgraph:?} is not a Federation v2 subgraph: its SDL has no `@link(url: \"https://specs.apollo.dev/federation/v2.x\")`"
    )]
    NotFederationV2 { subgraph: String },

    #[error(
        "subgraph {subgraph:?} uses {type_name:?} as its {operation} root type; only the default root type names (Query, Mutation, Subscription) are supported"
    )]
    UnsupportedRootType { subgraph: String, operation: String, type_name: String },

    #[error("subgraph {subgraph:?}: invalid @{directive} on {coordinate}: {reason}")]
    InvalidDirective { subgraph: String, coordinate: String, directive: String, reason: String },

    #[error("type {type_name:?} is defined with different kinds across subgraphs: {kinds}")]
    TypeKindMismatch { type_name: String, kinds: String },

    #[error("subgraph {subgraph:?}: {coordinate} references type {type_name:?}, which no subgraph defines")]
    UnknownType { subgraph: String, coordinate: String, type_name: String },

    #[error(
        "field \"{type_name}.{field}\" has incompatible types across subgraphs: {types}; the types must be equal or differ only in nullability"
    )]
    FieldTypeMismatch { type_name: String, field: String, types: String },

    #[error("argument \"{type_name}.{field}({argument}:)\" cannot be merged: {reason}")]
    ArgumentMismatch { type_name: String, field: String, argument: String, reason: String },

    #[error(
        "input field \"{type_name}.{field}\" is required in subgraph(s) {} but missing in subgraph(s) {}; required input fields must be defined in every subgraph defining {type_name:?}",
        list(.required_in), list(.missing_in)
    )]
    RequiredInputFieldMissing { type_name: String, field: String, required_in: Vec<String>, missing_in: Vec<String> },

    #[error(
        "enum {enum_name:?} is used as an input type, so every subgraph defining it must define the same values, but value {value} is defined in subgraph(s) {} and missing in subgraph(s) {}",
        list(.defined_in), list(.missing_in)
    )]
    EnumValueMismatch { enum_name: String, value: String, defined_in: Vec<String>, missing_in: Vec<String> },

    #[error(
        "root field \"{type_name}.{field}\" is resolved by subgraphs {} but is not marked @shareable in {}: a root field may be defined by several subgraphs only if every one of them marks it @shareable",
        list(.subgraphs), list(.non_shareable)
    )]
    NonShareableRootField { type_name: String, field: String, subgraphs: Vec<String>, non_shareable: Vec<String> },

    #[error(
        "field \"{type_name}.{field}\" of {kind} {type_name:?} is resolved by subgraphs {} but is not marked @shareable in {}: a field resolved by several subgraphs must be @shareable (or part of a @key) in every one of them",
        list(.subgraphs), list(.non_shareable)
    )]
    NonShareableField {
        type_name: String,
        field: String,
        kind: &'static str,
        subgraphs: Vec<String>,
        non_shareable: Vec<String>,
    },

    #[error(
        "field \"{type_name}.{field}\" is marked @external in subgraph(s) {} but no subgraph resolves it: an @external field must be defined without @external in some other subgraph",
        list(.subgraphs)
    )]
    ExternalFieldNotResolved { type_name: String, field: String, subgraphs: Vec<String> },

    #[error(
        "subgraph {subgraph:?}: @{directive}(fields: {fields:?}) on {coordinate} selects \"{missing}\", which that subgraph does not define"
    )]
    UnknownFieldInFieldSet {
        subgraph: String,
        directive: &'static str,
        coordinate: String,
        fields: String,
        /// The missing field as `Type.field`.
        missing: String,
    },

    #[error(
        "subgraph {subgraph:?}: @{directive}(fields: {fields:?}) on {coordinate} is not a valid field set: {reason}"
    )]
    InvalidFieldSet { subgraph: String, directive: &'static str, coordinate: String, fields: String, reason: String },

    #[error(
        "subgraph {subgraph:?}: @requires(fields: {fields:?}) on \"{type_name}.{field}\" requires \"{type_name}.{required}\", which that subgraph must declare @external (it is resolved by another subgraph)"
    )]
    RequiresNonExternalField { subgraph: String, type_name: String, field: String, fields: String, required: String },

    #[error(
        "entity {type_name:?} is only declared with `@key(..., resolvable: false)` (in subgraph(s) {}): no subgraph can resolve it by key, so its fields are unreachable from other subgraphs; declare a resolvable @key in the subgraph that owns it",
        list(.subgraphs)
    )]
    UnresolvableEntity { type_name: String, subgraphs: Vec<String> },

    #[error("no subgraph defines a root query field: a supergraph needs at least one field on Query")]
    NoQueries,
}

/// Renders subgraph names the way every message lists them: `"a", "b"`.
fn list(names: &[String]) -> String {
    names.iter().map(|name| format!("{name:?}")).collect::<Vec<_>>().join(", ")
}
