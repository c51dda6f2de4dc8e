//! Walks the operation a request runs, from its root type through fields, aliases,
//! inline fragments and fragment spreads, and reports every selection a caller may not
//! see with its response path. List positions are written `@` (one error stands for
//! every item), as Apollo Router does.

use atrium_contract::ErrorCode;
use std::collections::HashMap;

use graphql_tools::static_graphql::query::{self, Definition, OperationDefinition, Selection, TypeCondition};
use serde_json::{Value, json};

use super::requirements::AuthorizationRules;
use crate::engine::{GraphQLRequest, RemovedSelections};

pub const UNAUTHORIZED_FIELD_OR_TYPE: &str = ErrorCode::UnauthorizedFieldOrType.as_str();

/// The errors for the `denied` selections the request's operation makes; none when the
/// document does not parse or names no single operation (the engine rejects those).
pub(super) fn unauthorized_selections(
    rules: &AuthorizationRules,
    denied: &RemovedSelections,
    request: &GraphQLRequest,
) -> Vec<Value> {
    let Ok(document) = graphql_tools::parser::parse_query::<String>(&request.query) else {
        return Vec::new();
    };
    let document = document.into_static();
    let mut fragments = HashMap::new();
    let mut operations = Vec::new();
    for definition in &document.definitions {
        match definition {
            Definition::Fragment(fragment) => {
                fragments.insert(fragment.name.as_str(), fragment);
            }
            Definition::Operation(operation) => operations.push(operation),
        }
    }
    let Some((root, selection_set)) = select(&operations, request.operation_name.as_deref()) else {
        return Vec::new();
    };
    let mut walk = Walk { rules, denied, fragments, spreads: Vec::new(), path: Vec::new(), errors: Vec::new() };
    walk.selection_set(selection_set, root);
    walk.errors
}

fn select<'a>(
    operations: &[&'a query::OperationDefinition],
    name: Option<&str>,
) -> Option<(&'static str, &'a query::SelectionSet)> {
    let named = |operation: &&&query::OperationDefinition| match (operation, name) {
        (_, None) => true,
        (OperationDefinition::Query(query), Some(name)) => query.name.as_deref() == Some(name),
        (OperationDefinition::Mutation(mutation), Some(name)) => mutation.name.as_deref() == Some(name),
        (OperationDefinition::Subscription(subscription), Some(name)) => subscription.name.as_deref() == Some(name),
        (OperationDefinition::SelectionSet(_), Some(_)) => false,
    };
    let mut candidates = operations.iter().filter(named);
    let operation = candidates.next()?;
    if candidates.next().is_some() {
        return None;
    }
    Some(match operation {
        OperationDefinition::SelectionSet(set) => ("Query", set),
        OperationDefinition::Query(query) => ("Query", &query.selection_set),
        OperationDefinition::Mutation(mutation) => ("Mutation", &mutation.selection_set),
        OperationDefinition::Subscription(subscription) => ("Subscription", &subscription.selection_set),
    })
}

struct Walk<'a> {
    rules: &'a AuthorizationRules,
    denied: &'a RemovedSelections,
    fragments: HashMap<&'a str, &'a query::FragmentDefinition>,
    /// Fragments being expanded, so a (invalid) cycle ends.
    spreads: Vec<&'a str>,
    path: Vec<Value>,
    errors: Vec<Value>,
}

impl<'a> Walk<'a> {
    fn selection_set(&mut self, set: &'a query::SelectionSet, parent: &str) {
        for selection in &set.items {
            match selection {
                Selection::Field(field) => self.field(field, parent),
                Selection::InlineFragment(fragment) => {
                    let condition = match &fragment.type_condition {
                        Some(TypeCondition::On(name)) => name.as_str(),
                        None => parent,
                    };
                    self.fragment(&fragment.selection_set, condition);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.fragment_name.as_str();
                    let Some(definition) = self.fragments.get(name).copied() else { continue };
                    if self.spreads.contains(&name) {
                        continue;
                    }
                    let TypeCondition::On(condition) = &definition.type_condition;
                    self.spreads.push(name);
                    self.fragment(&definition.selection_set, condition);
                    self.spreads.pop();
                }
            }
        }
    }

    fn field(&mut self, field: &'a query::Field, parent: &str) {
        if field.name.starts_with("__") {
            return;
        }
        self.path.push(Value::String(field.alias.as_deref().unwrap_or(&field.name).to_owned()));
        if self.denied.contains_field(parent, &field.name) {
            self.report();
        } else if let Some(ty) = self.rules.field_type(parent, &field.name) {
            let (named, lists) = (ty.named.clone(), ty.list_depth);
            self.path.extend(std::iter::repeat_n(Value::from("@"), lists));
            self.selection_set(&field.selection_set, &named);
            self.path.truncate(self.path.len() - lists);
        }
        self.path.pop();
    }

    fn fragment(&mut self, set: &'a query::SelectionSet, condition: &str) {
        if self.denied.contains_type_condition(condition) {
            self.report();
        } else {
            self.selection_set(set, condition);
        }
    }

    fn report(&mut self) {
        let path = Value::Array(self.path.clone());
        if self.errors.iter().any(|error| error["path"] == path) {
            return;
        }
        self.errors.push(json!({
            "message": "Unauthorized field or type",
            "path": path,
            "extensions": { "code": UNAUTHORIZED_FIELD_OR_TYPE },
        }));
    }
}
