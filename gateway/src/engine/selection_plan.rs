//! The compiled shape of a client's selection: per concrete type, the fields to answer in
//! order with their response keys, kinds, types, `@skip`/`@include` guards and children.
//! Built once per prepared operation by `projection::compile_operation`, read by the
//! projection and by introspection.

use std::collections::HashMap;
use std::sync::Arc;

use graphql_tools::static_graphql::query;
use serde_json::{Map, Value};

use super::schema::TypeRef;

/// One `@skip(if: $v)` (`include_when == false`) or `@include(if: $v)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cond {
    pub variable: Box<str>,
    pub include_when: bool,
}

/// When a field is part of the response: always, or when any of the
/// conjunctions holds (a field merged from several places is included if any
/// of its occurrences is).
#[derive(Debug, Clone)]
pub(crate) enum Inclusion {
    Always,
    AnyOf(Vec<Vec<Cond>>),
}

impl Inclusion {
    pub(crate) fn holds(&self, variables: &Map<String, Value>) -> bool {
        match self {
            Inclusion::Always => true,
            Inclusion::AnyOf(alternatives) => alternatives.iter().any(|conds| conds_hold(conds, variables)),
        }
    }
}

fn conds_hold(conds: &[Cond], variables: &Map<String, Value>) -> bool {
    conds.iter().all(|cond| {
        let value = matches!(variables.get(&*cond.variable), Some(Value::Bool(true)));
        value == cond.include_when
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldKind {
    Typename,
    Schema,
    Type,
    Data,
}

#[derive(Debug, Default)]
pub(crate) struct SelectionPlan {
    pub fields: Vec<FieldPlan>,
}

#[derive(Debug)]
pub(crate) struct FieldPlan {
    pub response_key: Box<str>,
    pub name: Box<str>,
    pub kind: FieldKind,
    pub ty: TypeRef,
    pub inclusion: Inclusion,
    pub children: Children,
    /// Literal arguments, kept for fields the engine resolves itself (introspection).
    pub arguments: Vec<(Box<str>, query::Value)>,
}

#[derive(Debug)]
pub(crate) enum Children {
    Leaf,
    /// An enum leaf: subgraphs may answer values the API schema does not have
    /// (`@inaccessible` ones, or ones composition dropped), so values are checked.
    Enum,
    Object(Arc<SelectionPlan>),
    Abstract(Box<AbstractChildren>),
}

#[derive(Debug)]
pub(crate) struct AbstractChildren {
    pub by_type: HashMap<Box<str>, Arc<SelectionPlan>>,
    /// For objects whose `__typename` is missing or unknown.
    pub fallback: Arc<SelectionPlan>,
}

/// The compiled projection of one operation.
#[derive(Debug)]
pub(crate) struct Projection {
    pub root_type: Box<str>,
    pub root: SelectionPlan,
}

impl Projection {
    /// Whether the operation selects `__schema` or `__type` (directly or through fragments).
    pub(crate) fn uses_introspection(&self) -> bool {
        self.root.fields.iter().any(|field| matches!(field.kind, FieldKind::Schema | FieldKind::Type))
    }
}
