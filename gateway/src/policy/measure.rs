//! Measures one parsed operation before it is validated or planned: field depth, aliases,
//! root fields and static cost, all counted through fragments.
//!
//! Fragments are measured once per (fragment, connection size, root cost) and memoised,
//! so a document that spreads fragments exponentially ("fragment bombs") is measured in
//! time linear in its size while its counts still reflect the expansion (saturating).
//! Fragment cycles count as empty: validation rejects them right after.

use std::collections::{HashMap, HashSet};

use graphql_tools::parser::query::{
    Definition, Document, FragmentDefinition, OperationDefinition, Selection, SelectionSet, TypeCondition, Value,
};
use serde_json::{Map, Value as Json};

use super::config::CostConfig;
use super::field_types::FieldTypes;
use crate::engine::OperationKind;

/// Selection sets nested through fields and fragments beyond this are refused outright:
/// the parser bounds bracket nesting, but a chain of fragments is not bracket nesting.
const MAX_NESTING: usize = 128;

/// Cost of a composite field, and of a mutation root field (Apollo's demand control).
const OBJECT_COST: u64 = 1;
const MUTATION_COST: u64 = 10;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OperationMeasure {
    /// Deepest field nesting; root fields are depth 1.
    pub depth: u64,
    pub aliases: u64,
    pub root_fields: u64,
    pub cost: u64,
}

/// The selected operation: its kind, its measure, and whether the measure read request
/// variables (a slicing argument given as a variable), which makes it per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MeasuredOperation {
    pub kind: OperationKind,
    pub measure: OperationMeasure,
    pub depends_on_variables: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("selections are nested deeper than {MAX_NESTING} levels")]
pub struct NestingTooDeep;

/// Measures the operation `operation_name` selects and says what kind it is, or `None`
/// when the document does not select exactly one operation (the engine reports that).
pub(crate) fn measure_operation<'a>(
    document: &Document<'a, &'a str>,
    operation_name: Option<&str>,
    variables: &Map<String, Json>,
    types: &FieldTypes,
    cost: &CostConfig,
) -> Result<Option<MeasuredOperation>, NestingTooDeep> {
    let Some(operation) = select_operation(document, operation_name) else { return Ok(None) };
    let (kind, root_type, root_cost, selection_set, variable_definitions) = match operation {
        OperationDefinition::SelectionSet(set) => {
            (OperationKind::Query, types.query_type.as_str(), OBJECT_COST, set, &[][..])
        }
        OperationDefinition::Query(query) => (
            OperationKind::Query,
            types.query_type.as_str(),
            OBJECT_COST,
            &query.selection_set,
            &query.variable_definitions[..],
        ),
        OperationDefinition::Mutation(mutation) => (
            OperationKind::Mutation,
            types.mutation_type.as_str(),
            MUTATION_COST,
            &mutation.selection_set,
            &mutation.variable_definitions[..],
        ),
        OperationDefinition::Subscription(subscription) => (
            OperationKind::Subscription,
            types.subscription_type.as_str(),
            OBJECT_COST,
            &subscription.selection_set,
            &subscription.variable_definitions[..],
        ),
    };
    // A variable's value comes from the request, else from its default in the operation.
    let mut sizes = HashMap::new();
    for definition in variable_definitions {
        let value = variables.get(definition.name).and_then(Json::as_u64).or(match &definition.default_value {
            Some(Value::Int(number)) => number.as_i64().and_then(|value| u64::try_from(value).ok()),
            _ => None,
        });
        if let Some(value) = value {
            sizes.insert(definition.name, value);
        }
    }
    let fragments = document
        .definitions
        .iter()
        .filter_map(|definition| match definition {
            Definition::Fragment(fragment) => Some((fragment.name, fragment)),
            Definition::Operation(_) => None,
        })
        .collect();
    let mut walker = Walker {
        types,
        cost,
        fragments,
        variable_sizes: sizes,
        memo: HashMap::new(),
        visiting: HashSet::new(),
        nesting: 0,
        read_variables: false,
    };
    let root = walker.selection_set(selection_set, Some(root_type), None, root_cost)?;
    let measure =
        OperationMeasure { depth: root.height, aliases: root.aliases, root_fields: root.fields, cost: root.cost };
    Ok(Some(MeasuredOperation { kind, measure, depends_on_variables: walker.read_variables }))
}

fn select_operation<'d, 'a>(
    document: &'d Document<'a, &'a str>,
    operation_name: Option<&str>,
) -> Option<&'d OperationDefinition<'a, &'a str>> {
    let mut operations = document.definitions.iter().filter_map(|definition| match definition {
        Definition::Operation(operation) => Some(operation),
        Definition::Fragment(_) => None,
    });
    match operation_name {
        Some(wanted) => operations.find(|operation| operation_name_of(operation) == Some(wanted)),
        None => {
            let first = operations.next()?;
            operations.next().is_none().then_some(first)
        }
    }
}

fn operation_name_of<'a>(operation: &OperationDefinition<'a, &'a str>) -> Option<&'a str> {
    match operation {
        OperationDefinition::SelectionSet(_) => None,
        OperationDefinition::Query(query) => query.name,
        OperationDefinition::Mutation(mutation) => mutation.name,
        OperationDefinition::Subscription(subscription) => subscription.name,
    }
}

/// What a selection set adds up to.
#[derive(Debug, Clone, Copy, Default)]
struct SetMeasure {
    /// Field levels below the parent (a set of leaves is 1).
    height: u64,
    aliases: u64,
    /// Fields directly in this set, fragments included.
    fields: u64,
    cost: u64,
}

impl SetMeasure {
    fn absorb(&mut self, other: SetMeasure) {
        self.height = self.height.max(other.height);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.fields = self.fields.saturating_add(other.fields);
        self.cost = self.cost.saturating_add(other.cost);
    }
}

/// `(fragment, connection size, field base cost)`: what a fragment's measure depends on.
type MemoKey<'a> = (&'a str, Option<u64>, u64);

struct Walker<'d, 'a> {
    types: &'d FieldTypes,
    cost: &'d CostConfig,
    fragments: HashMap<&'a str, &'d FragmentDefinition<'a, &'a str>>,
    variable_sizes: HashMap<&'a str, u64>,
    memo: HashMap<MemoKey<'a>, SetMeasure>,
    visiting: HashSet<&'a str>,
    nesting: usize,
    read_variables: bool,
}

impl<'d, 'a> Walker<'d, 'a> {
    /// `connection_size` is the slicing argument of the field owning this set when that
    /// field is not itself a list: it sizes the set's `nodes`/`edges`. `field_cost` is
    /// what each composite field of this set costs before its children.
    fn selection_set(
        &mut self,
        set: &'d SelectionSet<'a, &'a str>,
        parent_type: Option<&'d str>,
        connection_size: Option<u64>,
        field_cost: u64,
    ) -> Result<SetMeasure, NestingTooDeep> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(NestingTooDeep);
        }
        let mut total = SetMeasure::default();
        for selection in &set.items {
            match selection {
                Selection::Field(field) => {
                    total.fields = total.fields.saturating_add(1);
                    if field.alias.is_some() {
                        total.aliases = total.aliases.saturating_add(1);
                    }
                    let shape = parent_type.and_then(|parent| self.types.field(parent, field.name));
                    let child_type = shape.map(|shape| shape.type_name.as_str());
                    let is_composite = child_type.is_some_and(|name| self.types.is_composite(name))
                        || !field.selection_set.items.is_empty();
                    let slicing =
                        self.slicing_value(&field.arguments).or(shape.and_then(|shape| shape.slicing_default));
                    let is_list = shape.is_some_and(|shape| shape.is_list);
                    let multiplier = if is_list {
                        let sized_by_parent =
                            connection_size.filter(|_| self.cost.sized_fields.iter().any(|name| name == field.name));
                        sized_by_parent.or(slicing).unwrap_or_else(|| self.assumed_list_size(parent_type, field.name))
                    } else {
                        1
                    };
                    let child_connection_size = if is_list { None } else { slicing };
                    let child = if field.selection_set.items.is_empty() {
                        SetMeasure::default()
                    } else {
                        self.selection_set(&field.selection_set, child_type, child_connection_size, OBJECT_COST)?
                    };
                    let own_cost = if is_composite { field_cost.saturating_add(child.cost) } else { 0 };
                    total.cost = total.cost.saturating_add(own_cost.saturating_mul(multiplier));
                    total.height = total.height.max(child.height.saturating_add(1));
                    total.aliases = total.aliases.saturating_add(child.aliases);
                }
                Selection::InlineFragment(fragment) => {
                    let type_name = match &fragment.type_condition {
                        Some(TypeCondition::On(name)) => Some(*name),
                        None => parent_type,
                    };
                    let inner = self.selection_set(&fragment.selection_set, type_name, connection_size, field_cost)?;
                    total.absorb(inner);
                }
                Selection::FragmentSpread(spread) => {
                    let inner = self.fragment(spread.fragment_name, connection_size, field_cost)?;
                    total.absorb(inner);
                }
            }
        }
        self.nesting -= 1;
        Ok(total)
    }

    fn fragment(
        &mut self,
        name: &'a str,
        connection_size: Option<u64>,
        field_cost: u64,
    ) -> Result<SetMeasure, NestingTooDeep> {
        let key = (name, connection_size, field_cost);
        if let Some(measure) = self.memo.get(&key) {
            return Ok(*measure);
        }
        // Unknown fragments and cycles are validation errors, reported next by the engine.
        let Some(fragment) = self.fragments.get(name).copied() else { return Ok(SetMeasure::default()) };
        if !self.visiting.insert(name) {
            return Ok(SetMeasure::default());
        }
        let TypeCondition::On(type_name) = &fragment.type_condition;
        let measure = self.selection_set(&fragment.selection_set, Some(type_name), connection_size, field_cost);
        self.visiting.remove(name);
        let measure = measure?;
        self.memo.insert(key, measure);
        Ok(measure)
    }

    fn slicing_value(&mut self, arguments: &[(&'a str, Value<'a, &'a str>)]) -> Option<u64> {
        arguments.iter().filter(|(name, _)| self.cost.slicing_arguments.iter().any(|slicing| slicing == name)).find_map(
            |(_, value)| match value {
                Value::Int(number) => number.as_i64().and_then(|value| u64::try_from(value).ok()),
                Value::Variable(variable) => {
                    self.read_variables = true;
                    self.variable_sizes.get(variable).copied()
                }
                _ => None,
            },
        )
    }

    fn assumed_list_size(&self, parent_type: Option<&str>, field_name: &str) -> u64 {
        parent_type
            .and_then(|parent| self.cost.list_sizes.get(&format!("{parent}.{field_name}")))
            .copied()
            .unwrap_or(self.cost.default_list_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = "type Query { accounts(first: Int): AccountConnection! account(id: ID!): Account \
                       tags: [String!]! top(first: Int = 3): [Account!]! }\n\
                       type Mutation { rename(id: ID!): Account }\n\
                       type AccountConnection { nodes: [Account!]! pageInfo: PageInfo! }\n\
                       type PageInfo { hasNextPage: Boolean! }\n\
                       type Account { id: ID! name: String! invoices(first: Int): InvoiceConnection! \
                       owner: Account }\n\
                       type InvoiceConnection { nodes: [Invoice!]! }\n\
                       type Invoice { id: ID! lines: [Line!]! }\n\
                       type Line { amount: Int! }";

    fn measure_with(query: &str, variables: Json, cost: &CostConfig) -> OperationMeasure {
        let types = FieldTypes::from_sdl(SDL, &cost.slicing_arguments).unwrap();
        let document = graphql_tools::parser::parse_query::<&str>(query).unwrap();
        let variables = variables.as_object().cloned().unwrap_or_default();
        measure_operation(&document, None, &variables, &types, cost).unwrap().expect("one operation").measure
    }

    fn measure(query: &str) -> OperationMeasure {
        measure_with(query, Json::Null, &CostConfig::default())
    }

    #[test]
    fn counts_depth_from_one_at_the_root_through_fragments() {
        assert_eq!(measure("{ tags }").depth, 1);
        assert_eq!(measure("{ account(id: 1) { owner { owner { name } } } }").depth, 4);
        let through_fragments =
            measure("{ account(id: 1) { ...A } } fragment A on Account { owner { ... on Account { name } } }");
        assert_eq!(through_fragments.depth, 3);
    }

    #[test]
    fn counts_aliases_and_root_fields_through_fragments() {
        let measured = measure("{ a: tags b: tags ...R } fragment R on Query { c: tags account(id: 1) { d: name } }");
        assert_eq!(measured.root_fields, 4);
        assert_eq!(measured.aliases, 4);
    }

    #[test]
    fn costs_objects_one_and_leaves_nothing() {
        assert_eq!(measure("{ tags account(id: 1) { name owner { id } } }").cost, 2);
    }

    #[test]
    fn sizes_a_connection_by_its_first_argument_and_lists_by_default() {
        // accounts (1) + 3 nodes x (1 + invoices (1) + 10 assumed nodes x 1)
        assert_eq!(
            measure("{ accounts(first: 3) { nodes { invoices { nodes { id } } } } }").cost,
            1 + 3 * (1 + 1 + 10)
        );
        // Without `first`, `nodes` falls back to the default list size.
        assert_eq!(measure("{ accounts { nodes { id } } }").cost, 1 + 10);
        // A schema default for the slicing argument counts.
        assert_eq!(measure("{ top { id } }").cost, 3);
    }

    #[test]
    fn honours_variables_their_defaults_and_configured_list_sizes() {
        let query = "query Q($n: Int = 4) { accounts(first: $n) { nodes { id } } }";
        assert_eq!(measure_with(query, serde_json::json!({ "n": 50 }), &CostConfig::default()).cost, 1 + 50);
        assert_eq!(measure_with(query, Json::Null, &CostConfig::default()).cost, 1 + 4);
        let mut cost = CostConfig::default();
        cost.list_sizes.insert("Invoice.lines".to_owned(), 7);
        assert_eq!(
            measure_with("{ account(id: 1) { invoices(first: 2) { nodes { lines { amount } } } } }", Json::Null, &cost)
                .cost,
            1 + 1 + 2 * (1 + 7)
        );
    }

    #[test]
    fn mutation_root_fields_cost_ten() {
        assert_eq!(measure("mutation { rename(id: 1) { id } }").cost, 10);
        let types = FieldTypes::from_sdl(SDL, &[]).unwrap();
        let document = graphql_tools::parser::parse_query::<&str>("query A { tags } mutation B { x }").unwrap();
        let kind = |name| measure_operation(&document, Some(name), &Map::new(), &types, &CostConfig::default());
        assert_eq!(kind("B").unwrap().unwrap().kind, OperationKind::Mutation);
        assert_eq!(kind("A").unwrap().unwrap().kind, OperationKind::Query);
    }

    #[test]
    fn measures_fragment_bombs_without_expanding_them() {
        let mut query = String::from("{ account(id: 1) { ...F0 } }\n");
        for level in 0..70 {
            query.push_str(&format!("fragment F{level} on Account {{ ...F{} ...F{} }}\n", level + 1, level + 1));
        }
        query.push_str("fragment F70 on Account { owner { id } }\n");
        let measured = measure(&query);
        assert_eq!(measured.depth, 3);
        assert_eq!(measured.cost, u64::MAX, "2^70 owners saturate");
        assert_eq!(measured.root_fields, 1);
    }

    #[test]
    fn refuses_fragment_chains_nested_beyond_the_walker_limit() {
        let mut query = String::from("{ account(id: 1) { ...F0 } }\n");
        for level in 0..200 {
            query.push_str(&format!("fragment F{level} on Account {{ ...F{} }}\n", level + 1));
        }
        query.push_str("fragment F200 on Account { id }\n");
        let types = FieldTypes::from_sdl(SDL, &["first".to_owned()]).unwrap();
        let document = graphql_tools::parser::parse_query::<&str>(&query).unwrap();
        let result = measure_operation(&document, None, &Map::new(), &types, &CostConfig::default());
        assert_eq!(result, Err(NestingTooDeep));
    }

    #[test]
    fn a_fragment_cycle_counts_as_empty_and_an_ambiguous_document_is_left_to_the_engine() {
        assert_eq!(measure("{ account(id: 1) { ...A } } fragment A on Account { owner { ...A } }").depth, 2);
        let types = FieldTypes::from_sdl(SDL, &[]).unwrap();
        let document = graphql_tools::parser::parse_query::<&str>("query A { tags } query B { tags }").unwrap();
        let measured = measure_operation(&document, None, &Map::new(), &types, &CostConfig::default());
        assert_eq!(measured, Ok(None));
    }
}
