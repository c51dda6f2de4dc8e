//! Selections taken out of an operation before it is planned: the fields and
//! type conditions a caller may not see (decided by `crate::authorization`).
//! Only the plan follows the restricted document; the response projection
//! still follows the client's full selection, so a removed field answers null
//! and is never fetched from a subgraph.

use std::collections::{BTreeSet, HashMap};

use graphql_tools::static_graphql::query::{self, Definition, OperationDefinition, Selection, TypeCondition};

use super::schema::SchemaIndex;

/// What to remove, as coordinates of the selections themselves: a field is
/// named with the parent type it is selected on, a fragment by its type
/// condition. Part of the plan cache key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RemovedSelections {
    fields: BTreeSet<(String, String)>,
    type_conditions: BTreeSet<String>,
}

impl RemovedSelections {
    /// Removes every selection of `field` on `parent_type`.
    pub fn remove_field(&mut self, parent_type: &str, field: &str) {
        self.fields.insert((parent_type.to_owned(), field.to_owned()));
    }

    /// Removes every inline fragment and fragment spread on `type_condition`.
    pub fn remove_type_condition(&mut self, type_condition: &str) {
        self.type_conditions.insert(type_condition.to_owned());
    }

    pub fn contains_field(&self, parent_type: &str, field: &str) -> bool {
        self.fields.iter().any(|(parent, name)| parent == parent_type && name == field)
    }

    pub fn contains_type_condition(&self, type_condition: &str) -> bool {
        self.type_conditions.contains(type_condition)
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.type_conditions.is_empty()
    }

    /// Field coordinates (`Type.field`) and type conditions removed, for logs.
    pub fn coordinates(&self) -> Vec<String> {
        let fields = self.fields.iter().map(|(parent, field)| format!("{parent}.{field}"));
        fields.chain(self.type_conditions.iter().map(|name| format!("... on {name}"))).collect()
    }

    /// The document without the removed selections. A selection set left empty
    /// keeps `__typename`, so the object stays in the plan (and answers with
    /// its other, null, fields) and the document stays valid.
    pub(crate) fn apply(&self, document: &query::Document, schema: &SchemaIndex) -> query::Document {
        let fragment_types: HashMap<&str, &str> = document
            .definitions
            .iter()
            .filter_map(|definition| match definition {
                Definition::Fragment(fragment) => {
                    let TypeCondition::On(type_name) = &fragment.type_condition;
                    Some((fragment.name.as_str(), type_name.as_str()))
                }
                Definition::Operation(_) => None,
            })
            .collect();
        let filter = Filter { removed: self, schema, fragment_types };
        let mut restricted = document.clone();
        restricted.definitions.retain_mut(|definition| match definition {
            Definition::Fragment(fragment) => {
                let TypeCondition::On(type_name) = &fragment.type_condition;
                if self.type_conditions.contains(type_name.as_str()) {
                    return false;
                }
                let type_name = type_name.clone();
                filter.selection_set(&mut fragment.selection_set, &type_name);
                true
            }
            Definition::Operation(operation) => {
                let (root, selection_set) = match operation {
                    OperationDefinition::SelectionSet(set) => (Some(schema.query_type.as_str()), set),
                    OperationDefinition::Query(query) => (Some(schema.query_type.as_str()), &mut query.selection_set),
                    OperationDefinition::Mutation(mutation) => {
                        (schema.mutation_type.as_deref(), &mut mutation.selection_set)
                    }
                    OperationDefinition::Subscription(subscription) => {
                        (schema.subscription_type.as_deref(), &mut subscription.selection_set)
                    }
                };
                if let Some(root) = root {
                    filter.selection_set(selection_set, root);
                }
                true
            }
        });
        restricted
    }
}

struct Filter<'a> {
    removed: &'a RemovedSelections,
    schema: &'a SchemaIndex,
    fragment_types: HashMap<&'a str, &'a str>,
}

impl Filter<'_> {
    fn selection_set(&self, set: &mut query::SelectionSet, parent_type: &str) {
        if set.items.is_empty() {
            return;
        }
        set.items.retain_mut(|selection| match selection {
            Selection::Field(field) => {
                if self.removed.fields.contains(&(parent_type.to_owned(), field.name.clone())) {
                    return false;
                }
                let field_type = self.schema.get(parent_type).and_then(|ty| ty.field(&field.name));
                if let Some(field_type) = field_type {
                    let named = field_type.ty.named().to_owned();
                    self.selection_set(&mut field.selection_set, &named);
                }
                true
            }
            Selection::InlineFragment(fragment) => {
                let condition = match &fragment.type_condition {
                    Some(TypeCondition::On(name)) => name.clone(),
                    None => parent_type.to_owned(),
                };
                if self.removed.type_conditions.contains(&condition) {
                    return false;
                }
                self.selection_set(&mut fragment.selection_set, &condition);
                true
            }
            Selection::FragmentSpread(spread) => self
                .fragment_types
                .get(spread.fragment_name.as_str())
                .is_none_or(|condition| !self.removed.type_conditions.contains(*condition)),
        });
        if set.items.is_empty() {
            set.items.push(Selection::Field(query::Field {
                position: set.span.0,
                alias: None,
                name: "__typename".to_owned(),
                arguments: Vec::new(),
                directives: Vec::new(),
                selection_set: query::SelectionSet { span: set.span, items: Vec::new() },
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use graphql_tools::static_graphql::schema;

    use super::*;

    const SCHEMA: &str = r#"
        type Query { invoices: [Invoice!]! node: Node }
        interface Node { id: ID! }
        type Invoice implements Node { id: ID! number: String! balanceDue: Float audit: Audit }
        type Audit { entries: [String!]! }
    "#;

    fn restricted(removed: &RemovedSelections, operation: &str) -> String {
        let sdl: schema::Document = graphql_tools::parser::parse_schema::<String>(SCHEMA).unwrap().into_static();
        let document = graphql_tools::parser::parse_query::<String>(operation).unwrap().into_static();
        removed.apply(&document, &SchemaIndex::new(&sdl)).to_string().split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn removes_a_field_wherever_it_is_selected_on_its_parent_type() {
        let mut removed = RemovedSelections::default();
        removed.remove_field("Invoice", "balanceDue");
        let text = restricted(
            &removed,
            "{ invoices { number due: balanceDue ...Money } node { ... on Invoice { balanceDue } } } \
             fragment Money on Invoice { balanceDue }",
        );
        assert!(!text.contains("balanceDue"), "{text}");
        assert!(text.contains("number"), "{text}");
    }

    #[test]
    fn a_selection_set_left_empty_keeps_typename() {
        let mut removed = RemovedSelections::default();
        removed.remove_field("Invoice", "balanceDue");
        let text = restricted(&removed, "{ invoices { balanceDue } }");
        assert!(text.contains("invoices { __typename }"), "{text}");
    }

    #[test]
    fn removes_fragments_on_a_removed_type_condition_and_their_definitions() {
        let mut removed = RemovedSelections::default();
        removed.remove_type_condition("Audit");
        let text =
            restricted(&removed, "{ invoices { number audit { ...Trail } } } fragment Trail on Audit { entries }");
        assert!(!text.contains("Trail"), "{text}");
        assert!(text.contains("audit { __typename }"), "{text}");
    }
}
