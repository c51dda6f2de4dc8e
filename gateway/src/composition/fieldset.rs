//! Field sets (`@key`, `@requires`, `@provides` `fields:` arguments): parsing
//! them as selection sets and walking them against one subgraph's types.

use async_graphql_parser::types::{DocumentOperations, Selection as AstSelection, SelectionSet};

use super::subgraph::Subgraph;

/// One selected field (or inline fragment) of a field set.
#[derive(Debug, Clone)]
pub(crate) enum Selection {
    Field { name: String, children: Vec<Selection> },
    Fragment { on: Option<String>, children: Vec<Selection> },
}

/// Parses `fields` the way routers do: as the body of a selection set.
pub(crate) fn parse(fields: &str) -> Result<Vec<Selection>, String> {
    let document = async_graphql_parser::parse_query(format!("{{{fields}}}")).map_err(|error| error.to_string())?;
    if !document.fragments.is_empty() {
        return Err("named fragments are not allowed".to_string());
    }
    match document.operations {
        DocumentOperations::Single(operation) => Ok(convert(&operation.node.selection_set.node)),
        DocumentOperations::Multiple(_) => Err("expected a single selection set".to_string()),
    }
}

fn convert(set: &SelectionSet) -> Vec<Selection> {
    set.items
        .iter()
        .filter_map(|item| match &item.node {
            AstSelection::Field(field) => Some(Selection::Field {
                name: field.node.name.node.to_string(),
                children: convert(&field.node.selection_set.node),
            }),
            AstSelection::InlineFragment(fragment) => Some(Selection::Fragment {
                on: fragment.node.type_condition.as_ref().map(|c| c.node.on.node.to_string()),
                children: convert(&fragment.node.selection_set.node),
            }),
            AstSelection::FragmentSpread(_) => None,
        })
        .collect()
}

/// The field a walk could not find: `(type, field)`.
pub(crate) type Missing = (String, String);

/// Checks every selected field exists in `subgraph`, starting at `type_name`,
/// and reports each `(type, field)` visited to `visit`.
pub(crate) fn walk(
    subgraph: &Subgraph,
    type_name: &str,
    selections: &[Selection],
    visit: &mut dyn FnMut(&str, &str),
) -> Result<(), Missing> {
    for selection in selections {
        match selection {
            Selection::Field { name, children } => {
                if name == "__typename" {
                    continue;
                }
                let field = subgraph
                    .type_def(type_name)
                    .and_then(|ty| ty.field(name))
                    .ok_or_else(|| (type_name.to_string(), name.clone()))?;
                visit(type_name, name);
                if !children.is_empty() {
                    walk(subgraph, field.ty.named(), children, visit)?;
                }
            }
            Selection::Fragment { on, children } => {
                let target = on.as_deref().unwrap_or(type_name);
                walk(subgraph, target, children, visit)?;
            }
        }
    }
    Ok(())
}

/// Names of the top-level fields a field set selects.
pub(crate) fn top_level_fields(fields: &str) -> Vec<String> {
    parse(fields)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|selection| match selection {
            Selection::Field { name, .. } => Some(name),
            Selection::Fragment { .. } => None,
        })
        .collect()
}
