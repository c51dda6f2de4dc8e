//! The merged supergraph model: every type with its join metadata, ready to
//! print. Produced by `merge`, read by `print` and `rules`.

use super::directives::AppliedDirective;
use super::subgraph::{TypeKind, TypeRef};

#[derive(Debug, Clone)]
pub(crate) struct Supergraph {
    pub graphs: Vec<Graph>,
    /// Sorted the way Apollo prints them.
    pub types: Vec<MergedType>,
}

impl Supergraph {
    pub fn type_def(&self, name: &str) -> Option<&MergedType> {
        self.types.iter().find(|t| t.name == name)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Graph {
    /// `join__Graph` enum value.
    pub value: String,
    pub name: String,
    pub url: String,
}

#[derive(Debug, Clone)]
pub(crate) struct MergedType {
    pub name: String,
    pub description: Option<String>,
    pub kind: TypeKind,
    pub implements: Vec<String>,
    /// `(graph, interface)`.
    pub join_implements: Vec<(String, String)>,
    pub join_types: Vec<JoinType>,
    pub directives: Vec<AppliedDirective>,
    pub fields: Vec<MergedField>,
    pub members: Vec<String>,
    /// `(graph, member)`.
    pub join_union_members: Vec<(String, String)>,
    pub values: Vec<MergedEnumValue>,
}

#[derive(Debug, Clone)]
pub(crate) struct JoinType {
    pub graph: String,
    pub key: Option<String>,
    pub extension: bool,
    pub resolvable: Option<bool>,
    pub interface_object: bool,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct JoinField {
    /// `None` for fields an `@interfaceObject` adds to implementations.
    pub graph: Option<String>,
    pub requires: Option<String>,
    pub provides: Option<String>,
    pub override_from: Option<String>,
    /// The subgraph's own type when it differs from the supergraph's.
    pub ty: Option<String>,
    pub external: bool,
    pub used_overridden: bool,
}

/// An output field, or an input field (no arguments, maybe a default).
#[derive(Debug, Clone)]
pub(crate) struct MergedField {
    pub name: String,
    pub description: Option<String>,
    pub args: Vec<MergedArg>,
    pub ty: TypeRef,
    pub default: Option<String>,
    pub join_fields: Vec<JoinField>,
    pub directives: Vec<AppliedDirective>,
}

#[derive(Debug, Clone)]
pub(crate) struct MergedArg {
    pub name: String,
    pub description: Option<String>,
    pub ty: TypeRef,
    pub default: Option<String>,
    pub directives: Vec<AppliedDirective>,
}

#[derive(Debug, Clone)]
pub(crate) struct MergedEnumValue {
    pub name: String,
    pub description: Option<String>,
    pub join_graphs: Vec<String>,
    pub directives: Vec<AppliedDirective>,
}
