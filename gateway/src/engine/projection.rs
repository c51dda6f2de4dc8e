//! Response projection: shapes the merged subgraph data into exactly what the
//! client asked for (its fields, order, aliases, fragments resolved by
//! `__typename`) and applies GraphQL null propagation. Values the API schema
//! cannot represent (`@inaccessible` enum values and runtime object types)
//! become field errors, as GraphQL's output coercion demands.
//!
//! The client's selection is compiled once per prepared operation
//! ([`compile_operation`]) into per-concrete-type [`SelectionPlan`]s in which
//! fields are already collected and merged; `@skip`/`@include` on variables stay
//! as guards evaluated per request.

use std::collections::HashMap;
use std::sync::Arc;

use graphql_tools::static_graphql::query::{self, Selection, TypeCondition};
use serde_json::{Map, Value};

use super::errors::{RequestError, codes, graphql_error};
use super::introspection;
use super::schema::{SchemaIndex, TypeKind, TypeRef};
use super::selection_plan::{
    AbstractChildren, Children, Cond, FieldKind, FieldPlan, Inclusion, Projection, SelectionPlan,
};

/// Fragment spreads nested deeper than this are rejected (validation already
/// rejects cycles; this bounds pathological but acyclic documents).
const MAX_FRAGMENT_DEPTH: usize = 64;

struct Compiler<'a> {
    schema: &'a SchemaIndex,
    fragments: HashMap<&'a str, &'a query::FragmentDefinition>,
}

type Entries<'a> = Vec<(&'a str, Vec<(&'a query::Field, Vec<Cond>)>)>;

/// Compiles the selection of a validated operation.
pub(crate) fn compile_operation(
    schema: &SchemaIndex,
    document: &query::Document,
    root_type: &str,
    selection_set: &query::SelectionSet,
) -> Result<Projection, RequestError> {
    let fragments = document
        .definitions
        .iter()
        .filter_map(|definition| match definition {
            query::Definition::Fragment(fragment) => Some((fragment.name.as_str(), fragment)),
            query::Definition::Operation(_) => None,
        })
        .collect();
    let compiler = Compiler { schema, fragments };
    let root = compiler.compile_selection(root_type, &[(selection_set, Vec::new())], 0)?;
    Ok(Projection { root_type: root_type.into(), root })
}

fn invalid(message: String) -> RequestError {
    RequestError::new(codes::GRAPHQL_VALIDATION_FAILED, message)
}

/// Conditions added by `@skip`/`@include`; `None` when statically excluded.
fn directive_conds(directives: &[query::Directive], base: &[Cond]) -> Option<Vec<Cond>> {
    let mut conds = base.to_vec();
    for directive in directives {
        let include_when = match directive.name.as_str() {
            "skip" => false,
            "include" => true,
            _ => continue,
        };
        let argument = directive.arguments.iter().find(|(name, _)| name == "if").map(|(_, value)| value);
        match argument {
            Some(query::Value::Boolean(value)) if *value != include_when => return None,
            Some(query::Value::Variable(variable)) => {
                let cond = Cond { variable: variable.as_str().into(), include_when };
                if !conds.contains(&cond) {
                    conds.push(cond);
                }
            }
            _ => {}
        }
    }
    Some(conds)
}

impl<'a> Compiler<'a> {
    fn applies(&self, condition: &str, object_type: &str) -> bool {
        self.schema.type_condition_matches(condition, object_type)
    }

    fn collect(
        &self,
        object_type: &str,
        selection_set: &'a query::SelectionSet,
        guard: &[Cond],
        entries: &mut Entries<'a>,
        depth: usize,
    ) -> Result<(), RequestError> {
        if depth > MAX_FRAGMENT_DEPTH {
            return Err(invalid("fragments are nested too deeply".into()));
        }
        for selection in &selection_set.items {
            match selection {
                Selection::Field(field) => {
                    let Some(conds) = directive_conds(&field.directives, guard) else {
                        continue;
                    };
                    let key = field.alias.as_deref().unwrap_or(&field.name);
                    match entries.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, list)) => list.push((field, conds)),
                        None => entries.push((key, vec![(field, conds)])),
                    }
                }
                Selection::InlineFragment(fragment) => {
                    if let Some(TypeCondition::On(condition)) = &fragment.type_condition
                        && !self.applies(condition, object_type)
                    {
                        continue;
                    }
                    let Some(conds) = directive_conds(&fragment.directives, guard) else {
                        continue;
                    };
                    self.collect(object_type, &fragment.selection_set, &conds, entries, depth + 1)?;
                }
                Selection::FragmentSpread(spread) => {
                    let fragment = self
                        .fragments
                        .get(spread.fragment_name.as_str())
                        .ok_or_else(|| invalid(format!("Unknown fragment \"{}\".", spread.fragment_name)))?;
                    let TypeCondition::On(condition) = &fragment.type_condition;
                    if !self.applies(condition, object_type) {
                        continue;
                    }
                    let Some(conds) = directive_conds(&spread.directives, guard) else {
                        continue;
                    };
                    self.collect(object_type, &fragment.selection_set, &conds, entries, depth + 1)?;
                }
            }
        }
        Ok(())
    }

    fn compile_selection(
        &self,
        object_type: &str,
        sets: &[(&'a query::SelectionSet, Vec<Cond>)],
        depth: usize,
    ) -> Result<SelectionPlan, RequestError> {
        let mut entries: Entries<'a> = Vec::new();
        for (set, guard) in sets {
            self.collect(object_type, set, guard, &mut entries, depth)?;
        }
        let mut fields = Vec::with_capacity(entries.len());
        for (key, occurrences) in entries {
            fields.push(self.compile_field(object_type, key, &occurrences, depth)?);
        }
        Ok(SelectionPlan { fields })
    }

    fn compile_field(
        &self,
        object_type: &str,
        key: &str,
        occurrences: &[(&'a query::Field, Vec<Cond>)],
        depth: usize,
    ) -> Result<FieldPlan, RequestError> {
        let Some((first, _)) = occurrences.first() else {
            return Err(invalid(format!("no occurrence of field {key}")));
        };
        let name = first.name.as_str();
        let string = || TypeRef::NonNull(Box::new(TypeRef::Named("String".into())));
        let (kind, ty) = match name {
            "__typename" => (FieldKind::Typename, string()),
            "__schema" if object_type == self.schema.query_type => {
                (FieldKind::Schema, TypeRef::NonNull(Box::new(TypeRef::Named("__Schema".into()))))
            }
            "__type" if object_type == self.schema.query_type => (FieldKind::Type, TypeRef::Named("__Type".into())),
            _ => {
                let field = self
                    .schema
                    .get(object_type)
                    .and_then(|t| t.field(name))
                    .ok_or_else(|| invalid(format!("Cannot query field \"{name}\" on type \"{object_type}\".")))?;
                (FieldKind::Data, field.ty.clone())
            }
        };
        let inclusion = if occurrences.iter().any(|(_, conds)| conds.is_empty()) {
            Inclusion::Always
        } else {
            Inclusion::AnyOf(occurrences.iter().map(|(_, c)| c.clone()).collect())
        };

        let named = ty.named();
        let children = match self.schema.kind_of(named) {
            Some(kind) if kind.is_composite() => {
                let sets: Vec<(&'a query::SelectionSet, Vec<Cond>)> =
                    occurrences.iter().map(|(field, conds)| (&field.selection_set, conds.clone())).collect();
                if kind == TypeKind::Object {
                    Children::Object(Arc::new(self.compile_selection(named, &sets, depth)?))
                } else {
                    Children::Abstract(Box::new(self.compile_abstract(named, &sets, depth)?))
                }
            }
            Some(TypeKind::Enum) => Children::Enum,
            _ => Children::Leaf,
        };

        let keep_arguments = matches!(kind, FieldKind::Type) || object_type.starts_with("__");
        let arguments = if keep_arguments {
            first.arguments.iter().map(|(name, value)| (name.as_str().into(), value.clone())).collect()
        } else {
            Vec::new()
        };

        Ok(FieldPlan { response_key: key.into(), name: name.into(), kind, ty, inclusion, children, arguments })
    }

    /// Plans an abstract-typed selection per possible object type. Types to
    /// which the same fragments apply share one plan.
    fn compile_abstract(
        &self,
        abstract_type: &str,
        sets: &[(&'a query::SelectionSet, Vec<Cond>)],
        depth: usize,
    ) -> Result<AbstractChildren, RequestError> {
        let mut conditions = Vec::new();
        for (set, _) in sets {
            self.type_conditions(set, &mut conditions, 0);
        }
        let possible = self.schema.get(abstract_type).map(|t| t.possible_types.as_slice()).unwrap_or_default();
        let mut by_mask: HashMap<Vec<bool>, Arc<SelectionPlan>> = HashMap::new();
        let mut by_type = HashMap::with_capacity(possible.len());
        for object_type in possible {
            let mask: Vec<bool> = conditions.iter().map(|condition| self.applies(condition, object_type)).collect();
            let plan = match by_mask.get(&mask) {
                // Objects to which the same fragments apply get the same fields;
                // only covariant field types could still differ.
                Some(plan) if self.plan_fits(plan, object_type) => plan.clone(),
                _ => {
                    let plan = Arc::new(self.compile_selection(object_type, sets, depth)?);
                    by_mask.insert(mask, plan.clone());
                    plan
                }
            };
            by_type.insert(object_type.as_str().into(), plan);
        }
        let fallback = Arc::new(self.compile_selection(abstract_type, sets, depth)?);
        Ok(AbstractChildren { by_type, fallback })
    }

    fn plan_fits(&self, plan: &SelectionPlan, object_type: &str) -> bool {
        let Some(object) = self.schema.get(object_type) else {
            return false;
        };
        plan.fields.iter().all(|field| {
            field.kind != FieldKind::Data || object.field(&field.name).is_some_and(|def| def.ty == field.ty)
        })
    }

    fn type_conditions(&self, set: &'a query::SelectionSet, out: &mut Vec<&'a str>, depth: usize) {
        if depth > MAX_FRAGMENT_DEPTH {
            return;
        }
        for selection in &set.items {
            match selection {
                Selection::Field(_) => {}
                Selection::InlineFragment(fragment) => {
                    if let Some(TypeCondition::On(condition)) = &fragment.type_condition
                        && !out.contains(&condition.as_str())
                    {
                        out.push(condition);
                    }
                    self.type_conditions(&fragment.selection_set, out, depth + 1);
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = self.fragments.get(spread.fragment_name.as_str()) {
                        let TypeCondition::On(condition) = &fragment.type_condition;
                        if !out.contains(&condition.as_str()) {
                            out.push(condition);
                        }
                        self.type_conditions(&fragment.selection_set, out, depth + 1);
                    }
                }
            }
        }
    }
}

/// Marker: this position became null and the null propagates to the parent
/// (its error has already been recorded).
struct Bubble;

#[derive(Clone, Copy)]
enum PathElem<'a> {
    Key(&'a str),
    Index(usize),
}

struct Projector<'a, 'v> {
    variables: &'v Map<String, Value>,
    schema: &'v SchemaIndex,
    errors: &'v mut Vec<Value>,
    /// Paths of errors that existed before projection (subgraph errors).
    known_error_paths: Vec<Vec<Value>>,
    path: Vec<PathElem<'a>>,
}

/// Projects `data` (the merged subgraph data) onto the operation's selection.
/// Returns the final `data` value (`null` when null propagation reached the root).
pub(crate) fn project(
    projection: &Projection,
    data: Value,
    variables: &Map<String, Value>,
    schema: &SchemaIndex,
    errors: &mut Vec<Value>,
) -> Value {
    let known_error_paths =
        errors.iter().filter_map(|error| error.get("path").and_then(Value::as_array).cloned()).collect();
    let mut projector = Projector { variables, schema, errors, known_error_paths, path: Vec::with_capacity(16) };
    let mut source = match data {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    match projector.project_object(&mut source, &projection.root, &projection.root_type) {
        Ok(map) => Value::Object(map),
        Err(Bubble) => Value::Null,
    }
}

impl<'a> Projector<'a, '_> {
    fn project_object(
        &mut self,
        source: &mut Map<String, Value>,
        plan: &'a SelectionPlan,
        typename: &str,
    ) -> Result<Map<String, Value>, Bubble> {
        let mut out = Map::with_capacity(plan.fields.len());
        for field in &plan.fields {
            if !field.inclusion.holds(self.variables) {
                continue;
            }
            self.path.push(PathElem::Key(&field.response_key));
            let result = match field.kind {
                FieldKind::Typename => Ok(Value::String(typename.to_owned())),
                FieldKind::Schema | FieldKind::Type => {
                    let value = introspection::resolve_root_field(self.schema, field, self.variables);
                    self.complete_resolved(value, field, typename)
                }
                FieldKind::Data => {
                    let value =
                        super::merge::field_mut(source, &field.response_key).map(Value::take).unwrap_or(Value::Null);
                    self.complete(value, &field.ty, field, typename)
                }
            };
            self.path.pop();
            out.insert(field.response_key.to_string(), result?);
        }
        Ok(out)
    }

    /// Introspection values are already shaped; only the root's nullability applies.
    fn complete_resolved(&mut self, value: Value, field: &'a FieldPlan, parent: &str) -> Result<Value, Bubble> {
        if value.is_null() && field.ty.is_non_null() {
            self.violation(field, parent);
            return Err(Bubble);
        }
        Ok(value)
    }

    fn complete(&mut self, value: Value, ty: &'a TypeRef, field: &'a FieldPlan, parent: &str) -> Result<Value, Bubble> {
        match ty {
            TypeRef::NonNull(inner) => match self.complete_nullable(value, inner, field, parent)? {
                Value::Null => {
                    self.violation(field, parent);
                    Err(Bubble)
                }
                value => Ok(value),
            },
            nullable => Ok(self.complete_nullable(value, nullable, field, parent).unwrap_or(Value::Null)),
        }
    }

    fn complete_nullable(
        &mut self,
        value: Value,
        ty: &'a TypeRef,
        field: &'a FieldPlan,
        parent: &str,
    ) -> Result<Value, Bubble> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        match ty {
            TypeRef::NonNull(_) => self.complete(value, ty, field, parent),
            TypeRef::List(item_type) => {
                let Value::Array(items) = value else {
                    return Ok(Value::Null);
                };
                let mut out = Vec::with_capacity(items.len());
                for (index, item) in items.into_iter().enumerate() {
                    self.path.push(PathElem::Index(index));
                    let item = self.complete(item, item_type, field, parent);
                    self.path.pop();
                    out.push(item?);
                }
                Ok(Value::Array(out))
            }
            TypeRef::Named(type_name) => match &field.children {
                Children::Leaf => Ok(value),
                Children::Enum => {
                    if value.as_str().is_some_and(|name| self.schema.has_enum_value(type_name, name)) {
                        return Ok(value);
                    }
                    // Like GraphQL's output coercion: the value cannot be
                    // represented, so it is a field error (null, propagating).
                    self.field_error(format!("Enum \"{type_name}\" cannot represent value: {value}"));
                    Err(Bubble)
                }
                Children::Object(plan) => {
                    let Value::Object(mut source) = value else {
                        return Ok(Value::Null);
                    };
                    self.project_object(&mut source, plan, type_name).map(Value::Object)
                }
                Children::Abstract(children) => {
                    let Value::Object(mut source) = value else {
                        return Ok(Value::Null);
                    };
                    let (plan, typename): (&'a SelectionPlan, &'a str) =
                        match super::merge::field(&source, "__typename").and_then(Value::as_str) {
                            Some(name) => match children.by_type.get_key_value(name) {
                                Some((name, plan)) => (plan, name),
                                // An `@interfaceObject` subgraph answers with the
                                // interface's name; the planner only resolves the
                                // concrete type when the selection needs it.
                                None if self.schema.kind_of(name) == Some(TypeKind::Interface) => {
                                    (&children.fallback, type_name)
                                }
                                // The runtime type is not one the client can see
                                // (an `@inaccessible` object type, or one the API
                                // schema does not relate to this abstract type):
                                // answering it would leak it, so it is a field error.
                                None => {
                                    let message = self.unresolvable_type_message(type_name, name);
                                    self.field_error(message);
                                    return Err(Bubble);
                                }
                            },
                            // Without a `__typename` only the abstract type's own fields can be answered.
                            None => (&children.fallback, type_name),
                        };
                    self.project_object(&mut source, plan, typename).map(Value::Object)
                }
            },
        }
    }

    fn unresolvable_type_message(&self, abstract_type: &str, runtime_type: &str) -> String {
        if self.schema.get(runtime_type).is_some() {
            format!("Runtime Object type \"{runtime_type}\" is not a possible type for \"{abstract_type}\".")
        } else {
            format!(
                "Abstract type \"{abstract_type}\" was resolved to a type \"{runtime_type}\" that does not exist \
                 inside the schema."
            )
        }
    }

    fn violation(&mut self, field: &FieldPlan, parent: &str) {
        if self.known_error_paths.iter().any(|known| paths_related(&self.path, known)) {
            return;
        }
        self.push_error(
            format!("Cannot return null for non-nullable field {parent}.{}.", field.name),
            codes::NON_NULL_VIOLATION,
        );
    }

    /// A value a subgraph answered that the API schema cannot represent.
    fn field_error(&mut self, message: String) {
        self.push_error(message, codes::UNREPRESENTABLE_VALUE);
    }

    fn push_error(&mut self, message: String, code: &str) {
        let path = self
            .path
            .iter()
            .map(|elem| match elem {
                PathElem::Key(key) => Value::String((*key).to_owned()),
                PathElem::Index(index) => Value::from(*index),
            })
            .collect();
        self.errors.push(graphql_error(message, code, Some(Value::Array(path))));
    }
}

/// One path is a prefix of the other: an error there already explains this null.
fn paths_related(path: &[PathElem<'_>], known: &[Value]) -> bool {
    path.iter().zip(known).all(|(elem, known)| match elem {
        PathElem::Key(key) => known.as_str() == Some(*key),
        PathElem::Index(index) => known.as_u64() == Some(*index as u64),
    })
}
