//! The parsed, federation-aware model of one subgraph: what `parse` produces
//! and what `merge` and `rules` read. Federation plumbing is already gone and
//! directive names are canonical (import renames resolved).

use std::collections::BTreeMap;
use std::fmt;

use super::directives::AppliedDirective;

/// One subgraph after parsing.
#[derive(Debug, Clone)]
pub(crate) struct Subgraph {
    pub name: String,
    pub url: String,
    /// `join__Graph` enum value naming this subgraph in the supergraph.
    pub graph: String,
    pub types: BTreeMap<String, TypeDef>,
}

impl Subgraph {
    pub fn type_def(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name)
    }

    /// Whether this subgraph has the type at all, as Apollo counts it: every
    /// subgraph serves `Query` (through `_service`/`_entities`) even when its
    /// SDL prints no query fields.
    pub fn has_type(&self, name: &str) -> bool {
        name == QUERY || self.types.contains_key(name)
    }
}

pub(crate) const QUERY: &str = "Query";
pub(crate) const MUTATION: &str = "Mutation";
pub(crate) const SUBSCRIPTION: &str = "Subscription";

pub(crate) fn is_root_type(name: &str) -> bool {
    matches!(name, QUERY | MUTATION | SUBSCRIPTION)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeKind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

impl TypeKind {
    pub fn describe(self) -> &'static str {
        match self {
            TypeKind::Scalar => "scalar",
            TypeKind::Object => "object",
            TypeKind::Interface => "interface",
            TypeKind::Union => "union",
            TypeKind::Enum => "enum",
            TypeKind::InputObject => "input object",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub fields: String,
    /// Kept as written: Apollo only prints `resolvable:` when the subgraph did.
    pub resolvable: Option<bool>,
    /// The key sits on an `extend type` or a type marked `@extends`.
    pub extension: bool,
}

impl Key {
    pub fn is_resolvable(&self) -> bool {
        self.resolvable.unwrap_or(true)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct TypeDef {
    pub name: String,
    pub description: Option<String>,
    /// Kind as the supergraph sees it: an `@interfaceObject` object is an interface.
    pub kind: TypeKind,
    pub keys: Vec<Key>,
    pub shareable: bool,
    pub interface_object: bool,
    pub implements: Vec<String>,
    pub fields: Vec<FieldDef>,
    pub input_fields: Vec<InputValue>,
    pub members: Vec<String>,
    pub values: Vec<EnumValueDef>,
    pub directives: Vec<AppliedDirective>,
}

impl TypeDef {
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|field| field.name == name)
    }

    pub fn is_entity(&self) -> bool {
        !self.keys.is_empty()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct FieldDef {
    pub name: String,
    pub description: Option<String>,
    pub args: Vec<InputValue>,
    pub ty: TypeRef,
    pub external: bool,
    pub shareable: bool,
    pub requires: Option<String>,
    pub provides: Option<String>,
    pub override_from: Option<String>,
    pub directives: Vec<AppliedDirective>,
}

#[derive(Debug, Clone)]
pub(crate) struct InputValue {
    pub name: String,
    pub description: Option<String>,
    pub ty: TypeRef,
    /// Default value already printed as GraphQL.
    pub default: Option<String>,
    pub directives: Vec<AppliedDirective>,
}

#[derive(Debug, Clone)]
pub(crate) struct EnumValueDef {
    pub name: String,
    pub description: Option<String>,
    pub directives: Vec<AppliedDirective>,
}

/// A type reference (`[Foo!]!`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    pub fn named(&self) -> &str {
        match self {
            TypeRef::Named(name) => name,
            TypeRef::List(inner) | TypeRef::NonNull(inner) => inner.named(),
        }
    }

    pub fn is_non_null(&self) -> bool {
        matches!(self, TypeRef::NonNull(_))
    }

    /// Whether a value of `self` can stand where `other` is expected in an
    /// output position. Only nullability may differ: that is the subtyping
    /// composition accepts for fields shared across subgraphs.
    pub fn is_subtype_of(&self, other: &TypeRef) -> bool {
        match (self, other) {
            (TypeRef::NonNull(a), TypeRef::NonNull(b)) => a.is_subtype_of(b),
            (TypeRef::NonNull(a), b) => a.is_subtype_of(b),
            (TypeRef::List(a), TypeRef::List(b)) => a.is_subtype_of(b),
            (TypeRef::Named(a), TypeRef::Named(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for TypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeRef::Named(name) => f.write_str(name),
            TypeRef::List(inner) => write!(f, "[{inner}]"),
            TypeRef::NonNull(inner) => write!(f, "{inner}!"),
        }
    }
}

/// The definitions of one type, as `(subgraph index, definition)` in subgraph order.
pub(crate) type Sources<'a> = Vec<(usize, &'a TypeDef)>;
