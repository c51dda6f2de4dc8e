//! An operation's cache policy: how long its answer may be reused and which types it
//! depends on, from a walk of the operation over the supergraph's cache hints.
//!
//! Rules (Apollo's, with inheritance as the default below the root):
//! - a selected field's `maxAge` is its own hint, else the hint of the type it returns;
//! - a fragment on a hinted type is bounded by that type's hint;
//! - a root field without either is not cacheable (`maxAge` 0): someone must decide;
//! - any other field without a hint inherits its parent's bound;
//! - the operation's `maxAge` is the smallest over every selected field;
//! - mutations, subscriptions and introspection (`__schema`, `__type`) are not cached.
//!
//! Selections removed by authorization are not walked: they are never fetched, so the
//! answer does not depend on them. `@skip`/`@include` are ignored, which can only lower
//! the bound or add a type: safe in the direction of freshness.

use std::collections::{BTreeSet, HashMap};

use graphql_tools::static_graphql::query::{self, Definition, OperationDefinition, Selection, TypeCondition};

use super::hints::CacheHints;
use crate::engine::{GraphQLRequest, RemovedSelections};

/// What the cache needs to know about one operation for one authorization outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CachePolicy {
    /// Seconds the answer may be reused; 0 means never.
    pub max_age: u32,
    /// Types the answer depends on (object types behind interfaces and unions
    /// included), sorted: a change event for any of them in the tenant invalidates it.
    pub types: Vec<String>,
}

impl CachePolicy {
    pub(crate) const UNCACHEABLE: CachePolicy = CachePolicy { max_age: 0, types: Vec::new() };

    pub(crate) fn is_cacheable(&self) -> bool {
        self.max_age > 0
    }
}

/// The policy of the operation `request` runs, without the `removed` selections. A
/// document that does not parse or names no single query is not cacheable (the engine
/// answers it with an error).
pub(crate) fn policy_of(hints: &CacheHints, request: &GraphQLRequest, removed: &RemovedSelections) -> CachePolicy {
    let Ok(document) = graphql_tools::parser::parse_query::<String>(&request.query) else {
        return CachePolicy::UNCACHEABLE;
    };
    let document = document.into_static();
    let mut fragments = HashMap::new();
    let mut queries = Vec::new();
    let mut others = 0usize;
    for definition in &document.definitions {
        match definition {
            Definition::Fragment(fragment) => {
                fragments.insert(fragment.name.as_str(), fragment);
            }
            Definition::Operation(operation) => {
                let (name, selection_set) = match operation {
                    OperationDefinition::SelectionSet(set) => (None, Some(set)),
                    OperationDefinition::Query(query) => (query.name.as_deref(), Some(&query.selection_set)),
                    OperationDefinition::Mutation(mutation) => (mutation.name.as_deref(), None),
                    OperationDefinition::Subscription(subscription) => (subscription.name.as_deref(), None),
                };
                let wanted = request.operation_name.as_deref().is_none_or(|wanted| name == Some(wanted));
                match (wanted, selection_set) {
                    (true, Some(set)) => queries.push(set),
                    (true, None) => others += 1,
                    (false, _) => {}
                }
            }
        }
    }
    let [selection_set] = queries.as_slice() else { return CachePolicy::UNCACHEABLE };
    if others > 0 {
        return CachePolicy::UNCACHEABLE;
    }
    let mut walk = Walk { hints, removed, fragments, spreads: Vec::new(), max_age: u32::MAX, types: BTreeSet::new() };
    walk.selection_set(selection_set, "Query", true);
    if walk.max_age == u32::MAX {
        // Only `__typename` was selected: nothing to bound it, nothing worth caching.
        return CachePolicy::UNCACHEABLE;
    }
    CachePolicy { max_age: walk.max_age, types: walk.types.into_iter().collect() }
}

/// The policy of a subgraph `_entities` fetch, from every field it selects inside its
/// `_entities` fields (`... on Type { ... }`). Nothing inherits a bound from a root here:
/// a fetch that no hint bounds is not cacheable.
pub(crate) fn entity_fetch_policy(hints: &CacheHints, operation: &str) -> CachePolicy {
    let Ok(document) = graphql_tools::parser::parse_query::<String>(operation) else {
        return CachePolicy::UNCACHEABLE;
    };
    let document = document.into_static();
    let [Definition::Operation(OperationDefinition::Query(query))] = document.definitions.as_slice() else {
        return CachePolicy::UNCACHEABLE;
    };
    let mut walk = Walk {
        hints,
        removed: &NOTHING_REMOVED,
        fragments: HashMap::new(),
        spreads: Vec::new(),
        max_age: u32::MAX,
        types: BTreeSet::new(),
    };
    for selection in &query.selection_set.items {
        match selection {
            Selection::Field(entities) if entities.name == "_entities" => {
                walk.selection_set(&entities.selection_set, ENTITY_UNION, false);
            }
            _ => return CachePolicy::UNCACHEABLE,
        }
    }
    if walk.max_age == u32::MAX {
        return CachePolicy::UNCACHEABLE;
    }
    CachePolicy { max_age: walk.max_age, types: walk.types.into_iter().collect() }
}

/// The type `_entities` returns; its members are only reached through fragments.
const ENTITY_UNION: &str = "_Entity";

static NOTHING_REMOVED: std::sync::LazyLock<RemovedSelections> = std::sync::LazyLock::new(RemovedSelections::default);

struct Walk<'a> {
    hints: &'a CacheHints,
    removed: &'a RemovedSelections,
    fragments: HashMap<&'a str, &'a query::FragmentDefinition>,
    /// Fragments being expanded, so an (invalid) cycle ends.
    spreads: Vec<&'a str>,
    max_age: u32,
    types: BTreeSet<String>,
}

impl<'a> Walk<'a> {
    fn selection_set(&mut self, set: &'a query::SelectionSet, parent: &str, is_root: bool) {
        for selection in &set.items {
            match selection {
                Selection::Field(field) => self.field(field, parent, is_root),
                Selection::InlineFragment(fragment) => {
                    let condition = match &fragment.type_condition {
                        Some(TypeCondition::On(name)) => name.as_str(),
                        None => parent,
                    };
                    self.fragment(&fragment.selection_set, condition, is_root);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.fragment_name.as_str();
                    let Some(definition) = self.fragments.get(name).copied() else {
                        self.max_age = 0;
                        continue;
                    };
                    if self.spreads.contains(&name) {
                        continue;
                    }
                    let TypeCondition::On(condition) = &definition.type_condition;
                    self.spreads.push(name);
                    self.fragment(&definition.selection_set, condition, is_root);
                    self.spreads.pop();
                }
            }
        }
    }

    fn field(&mut self, field: &'a query::Field, parent: &str, is_root: bool) {
        match field.name.as_str() {
            "__typename" => return,
            name if name.starts_with("__") => {
                self.max_age = 0;
                return;
            }
            _ => {}
        }
        if self.removed.contains_field(parent, &field.name) {
            return;
        }
        let Some(returns) = self.hints.field_type(parent, &field.name) else {
            // Unknown to the schema: validation refuses it; never cache the refusal.
            self.max_age = 0;
            return;
        };
        match self.hints.max_age(parent, &field.name, returns) {
            Some(max_age) => self.max_age = self.max_age.min(max_age),
            None if is_root => self.max_age = 0,
            None => {}
        }
        if self.hints.is_composite(returns) {
            let returns = returns.to_owned();
            self.depend_on(&returns);
            self.selection_set(&field.selection_set, &returns, false);
        }
    }

    fn fragment(&mut self, set: &'a query::SelectionSet, condition: &str, is_root: bool) {
        if self.removed.contains_type_condition(condition) {
            return;
        }
        self.depend_on(condition);
        if let Some(max_age) = self.hints.type_max_age(condition) {
            self.max_age = self.max_age.min(max_age);
        }
        self.selection_set(set, condition, is_root);
    }

    fn depend_on(&mut self, type_name: &str) {
        if type_name == "Query" || type_name == ENTITY_UNION {
            return;
        }
        for concrete in self.hints.concrete_types(type_name) {
            if !self.types.contains(concrete) {
                self.types.insert(concrete.to_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUPERGRAPH: &str = r#"
        directive @cacheControl(maxAge: Int!) on OBJECT | INTERFACE | FIELD_DEFINITION
        type Query {
          tickets: [Ticket!]! @cacheControl(maxAge: 30)
          accounts: [Account!]! @cacheControl(maxAge: 120)
          report: Report
          audit: [Entry!]!
          search: [Result!]! @cacheControl(maxAge: 90)
        }
        interface Node { id: ID! }
        type Ticket implements Node { id: ID! subject: String! account: Account }
        type Account implements Node @cacheControl(maxAge: 60) { id: ID! name: String! balance: Float @cacheControl(maxAge: 10) }
        type Report @cacheControl(maxAge: 600) { total: Int! }
        type Entry { id: ID! }
        union Result = Ticket | Account
    "#;

    fn policy(query: &str, removed: &RemovedSelections) -> CachePolicy {
        let document = graphql_tools::parser::parse_schema::<String>(SUPERGRAPH).unwrap().into_static();
        policy_of(&CacheHints::from_supergraph(&document), &GraphQLRequest::new(query), removed)
    }

    fn types(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn the_shortest_hint_of_every_selected_field_and_type_bounds_the_answer() {
        let all = RemovedSelections::default();
        assert_eq!(policy("{ tickets { id subject } }", &all), CachePolicy { max_age: 30, types: types(&["Ticket"]) });
        assert_eq!(
            policy("{ accounts { name } tickets { account { id } } }", &all),
            CachePolicy { max_age: 30, types: types(&["Account", "Ticket"]) }
        );
        assert_eq!(policy("{ accounts { name balance } }", &all).max_age, 10);
        assert_eq!(policy("{ report { total } }", &all).max_age, 600);
    }

    #[test]
    fn root_fields_without_hints_introspection_and_mutations_are_not_cached() {
        let all = RemovedSelections::default();
        assert_eq!(policy("{ audit { id } }", &all).max_age, 0);
        assert_eq!(policy("{ tickets { id } audit { id } }", &all).max_age, 0);
        assert_eq!(policy("{ __schema { queryType { name } } }", &all).max_age, 0);
        assert_eq!(policy("mutation { tickets { id } }", &all), CachePolicy::UNCACHEABLE);
        assert_eq!(policy("{ nope }", &all).max_age, 0);
        assert_eq!(policy("{ __typename }", &all), CachePolicy::UNCACHEABLE);
    }

    #[test]
    fn abstract_types_depend_on_every_object_type_behind_them() {
        let all = RemovedSelections::default();
        let search = policy("{ search { ... on Ticket { subject } ... on Account { name } } }", &all);
        assert_eq!(search, CachePolicy { max_age: 60, types: types(&["Account", "Result", "Ticket"]) });
    }

    #[test]
    fn entity_fetches_are_bounded_by_their_own_hints_only() {
        let document = graphql_tools::parser::parse_schema::<String>(SUPERGRAPH).unwrap().into_static();
        let hints = CacheHints::from_supergraph(&document);
        let fetch = |operation: &str| entity_fetch_policy(&hints, operation);
        let accounts =
            "query($representations:[_Any!]!){_entities(representations:$representations){...on Account{name}}}";
        assert_eq!(fetch(accounts), CachePolicy { max_age: 60, types: types(&["Account"]) });
        let balance = "query($r:[_Any!]!){_entities(representations:$r){...on Account{balance}}}";
        assert_eq!(fetch(balance).max_age, 10);
        let unbounded = "query($r:[_Any!]!){_entities(representations:$r){...on Ticket{subject}}}";
        assert_eq!(fetch(unbounded), CachePolicy::UNCACHEABLE, "nothing bounds a Ticket fetch");
        let batched = "query($a:[_Any!]!,$b:[_Any!]!){e0:_entities(representations:$a){...on Account{name}} e1:_entities(representations:$b){...on Report{total}}}";
        assert_eq!(fetch(batched), CachePolicy { max_age: 60, types: types(&["Account", "Report"]) });
        assert_eq!(fetch("query{tickets{id}}"), CachePolicy::UNCACHEABLE, "not an entity fetch");
        assert_eq!(fetch("query($r:[_Any!]!){_entities(representations:$r){id}}"), CachePolicy::UNCACHEABLE);
    }

    #[test]
    fn named_operations_fragments_and_removed_selections_are_followed() {
        let all = RemovedSelections::default();
        let document = "query A { tickets { id } } query B { ...R } fragment R on Query { report { total } }";
        let chosen = |name: &str| {
            let document_text = graphql_tools::parser::parse_schema::<String>(SUPERGRAPH).unwrap().into_static();
            let request = GraphQLRequest::new(document).with_operation_name(name);
            policy_of(&CacheHints::from_supergraph(&document_text), &request, &all)
        };
        assert_eq!(chosen("A").max_age, 30);
        assert_eq!(chosen("B").max_age, 600);
        assert_eq!(policy(document, &all), CachePolicy::UNCACHEABLE, "two operations and no name");

        let mut without_balance = RemovedSelections::default();
        without_balance.remove_field("Account", "balance");
        assert_eq!(policy("{ accounts { name balance } }", &without_balance).max_age, 120, "the field's own hint wins");
    }
}
