//! Directives composed from subgraphs into the supergraph besides the join
//! spec. This table is the single place to add one: the parser keeps only the
//! applications named here, merge combines them with the entry's strategy,
//! and the printer emits the entry's `@link` and definition when used.
//!
//! Adding `@requiresScopes` later means one more entry (link
//! `https://specs.apollo.dev/requiresScopes/v0.1` for SECURITY, its
//! definition and `scalar requiresScopes__Scope`, and a merge strategy that
//! combines the scope lists) — nothing else in composition changes.

/// A directive application kept for the supergraph; argument values are
/// already printed as GraphQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppliedDirective {
    pub name: String,
    pub args: Vec<(String, String)>,
}

/// The `@link` a composed directive needs on the supergraph schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinkSpec {
    pub url: &'static str,
    pub purpose: &'static str,
}

/// Where the directive is printed relative to the join directives; Apollo
/// applies `@inaccessible` before merging fields and everything else after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    BeforeJoinField,
    AfterJoinField,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct ComposedDirective {
    /// Name in the supergraph and canonical (un-renamed) name in subgraphs.
    pub name: &'static str,
    /// Spec link; `None` for built-ins such as `@deprecated`.
    pub link: Option<LinkSpec>,
    /// Definitions (directive and its types) printed when the directive is used.
    pub definitions: &'static [&'static str],
    pub placement: Placement,
    /// Combines the applications found on one element across subgraphs.
    pub merge: fn(Vec<AppliedDirective>) -> Vec<AppliedDirective>,
}

pub(crate) const COMPOSED_DIRECTIVES: &[ComposedDirective] = &[
    ComposedDirective {
        name: "inaccessible",
        link: Some(LinkSpec { url: "https://specs.apollo.dev/inaccessible/v0.2", purpose: "SECURITY" }),
        definitions: &[
            "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION",
        ],
        placement: Placement::BeforeJoinField,
        merge: distinct,
    },
    ComposedDirective {
        name: "deprecated",
        link: None,
        definitions: &[],
        placement: Placement::AfterJoinField,
        merge: first,
    },
];

pub(crate) fn composed(name: &str) -> Option<&'static ComposedDirective> {
    COMPOSED_DIRECTIVES.iter().find(|d| d.name == name)
}

/// Any subgraph applying it applies it to the supergraph element, once per
/// distinct set of arguments.
fn distinct(mut applied: Vec<AppliedDirective>) -> Vec<AppliedDirective> {
    let mut seen = Vec::new();
    applied.retain(|d| {
        if seen.contains(d) {
            false
        } else {
            seen.push(d.clone());
            true
        }
    });
    applied
}

/// Non-repeatable directives whose arguments cannot be combined: the first
/// subgraph (by name) wins.
fn first(mut applied: Vec<AppliedDirective>) -> Vec<AppliedDirective> {
    applied.truncate(1);
    applied
}

/// Merges the composed directives found on one element in several subgraphs,
/// grouped and ordered by the table so output is stable.
pub(crate) fn merge_applied<'a>(
    sources: impl Iterator<Item = &'a [AppliedDirective]> + Clone,
) -> Vec<AppliedDirective> {
    let mut merged = Vec::new();
    for spec in COMPOSED_DIRECTIVES {
        let applied: Vec<AppliedDirective> =
            sources.clone().flat_map(|s| s.iter()).filter(|d| d.name == spec.name).cloned().collect();
        if !applied.is_empty() {
            merged.extend((spec.merge)(applied));
        }
    }
    merged
}
