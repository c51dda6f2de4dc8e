//! Directives composed from subgraphs into the supergraph besides the join
//! spec. This table is the single place to add one: the parser keeps only the
//! applications named here, merge combines them with the entry's strategy,
//! and the printer emits the entry's `@link` and definition when used.
//!
//! `@requiresScopes` (field- and type-level authorization, enforced by the
//! gateway's `authorization` module) merges by conjunction: a field several
//! subgraphs protect is visible only to callers meeting every subgraph's
//! requirement, as Apollo composition does since it stopped taking the union
//! (which let either subgraph's scopes unlock the field).

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
    /// `for:` of the link; `None` for specs a gateway that does not know them may
    /// ignore (Apollo's rule for `@composeDirective` specs).
    pub purpose: Option<&'static str>,
    /// `import:` of the link, for specs whose directives keep their bare name.
    pub import: Option<&'static str>,
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
        link: Some(LinkSpec {
            url: "https://specs.apollo.dev/inaccessible/v0.2",
            purpose: Some("SECURITY"),
            import: None,
        }),
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
    ComposedDirective {
        name: "requiresScopes",
        link: Some(LinkSpec {
            url: "https://specs.apollo.dev/requiresScopes/v0.1",
            purpose: Some("SECURITY"),
            import: None,
        }),
        definitions: &[
            concat!(
                "directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) ",
                "on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM"
            ),
            "scalar requiresScopes__Scope",
        ],
        placement: Placement::AfterJoinField,
        merge: scopes_conjunction,
    },
    ComposedDirective {
        name: "cacheControl",
        link: Some(LinkSpec {
            url: "https://specs.atrium.dev/cacheControl/v0.1",
            purpose: None,
            import: Some("[\"@cacheControl\"]"),
        }),
        definitions: &["directive @cacheControl(maxAge: Int!) on OBJECT | INTERFACE | FIELD_DEFINITION"],
        placement: Placement::AfterJoinField,
        merge: shortest_max_age,
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

/// Several subgraphs hinting one element: the shortest `maxAge` wins, since each
/// subgraph's hint bounds how stale its part of the answer may be. An unreadable value
/// becomes `maxAge: 0` (never cached): fail towards freshness.
fn shortest_max_age(applied: Vec<AppliedDirective>) -> Vec<AppliedDirective> {
    let shortest = applied
        .iter()
        .map(|directive| {
            directive
                .args
                .iter()
                .find(|(name, _)| name == "maxAge")
                .and_then(|(_, value)| value.parse::<u32>().ok())
                .unwrap_or(0)
        })
        .min()
        .unwrap_or(0);
    vec![AppliedDirective { name: "cacheControl".into(), args: vec![("maxAge".into(), shortest.to_string())] }]
}

/// `@requiresScopes` applications are requirements in disjunctive normal form
/// (outer list OR, inner lists AND); several of them on one element combine
/// with AND, distributed back into one DNF. Duplicate and absorbed alternatives
/// (a superset of another alternative) are dropped. A value that is not a list
/// of scope lists yields `scopes: []`, which no caller meets: fail closed.
fn scopes_conjunction(applied: Vec<AppliedDirective>) -> Vec<AppliedDirective> {
    let mut combined: Option<Vec<Vec<String>>> = Some(vec![Vec::new()]);
    for directive in &applied {
        let alternatives = directive.args.iter().find(|(name, _)| name == "scopes").and_then(|(_, v)| scope_lists(v));
        combined = match (combined, alternatives) {
            (Some(left), Some(right)) => Some(and_dnf(&left, &right)),
            _ => None,
        };
    }
    let printed = print_scope_lists(&combined.unwrap_or_default());
    vec![AppliedDirective { name: "requiresScopes".into(), args: vec![("scopes".into(), printed)] }]
}

/// Reads a printed `scopes` value, applying GraphQL's list input coercion
/// (`"a"` is `[["a"]]`, `["a", "b"]` is `[["a"], ["b"]]`). String escapes as
/// printed by the parser are JSON escapes.
pub(crate) fn scope_lists(printed: &str) -> Option<Vec<Vec<String>>> {
    let scope_list = |value: &serde_json::Value| match value {
        serde_json::Value::String(scope) => Some(vec![scope.clone()]),
        serde_json::Value::Array(scopes) => scopes.iter().map(|s| s.as_str().map(str::to_owned)).collect(),
        _ => None,
    };
    match serde_json::from_str::<serde_json::Value>(printed).ok()? {
        serde_json::Value::Array(lists) => lists.iter().map(scope_list).collect(),
        single => scope_list(&single).map(|list| list.into_iter().map(|scope| vec![scope]).collect()),
    }
}

fn and_dnf(left: &[Vec<String>], right: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut product: Vec<Vec<String>> = Vec::new();
    for l in left {
        for r in right {
            let mut all = l.clone();
            all.extend(r.iter().filter(|scope| !l.contains(scope)).cloned());
            if !product.iter().any(|existing| same_set(existing, &all)) {
                product.push(all);
            }
        }
    }
    let absorbed = |index: usize, list: &Vec<String>| {
        product.iter().enumerate().any(|(other, smaller)| {
            other != index && smaller.len() < list.len() && smaller.iter().all(|scope| list.contains(scope))
        })
    };
    product.iter().enumerate().filter(|(index, list)| !absorbed(*index, list)).map(|(_, list)| list.clone()).collect()
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|scope| b.contains(scope))
}

fn print_scope_lists(lists: &[Vec<String>]) -> String {
    let quote = |scope: &String| serde_json::to_string(scope).unwrap_or_else(|_| "\"\"".into());
    let inner: Vec<String> =
        lists.iter().map(|list| format!("[{}]", list.iter().map(quote).collect::<Vec<_>>().join(", "))).collect();
    format!("[{}]", inner.join(", "))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(printed: &str) -> AppliedDirective {
        AppliedDirective { name: "requiresScopes".into(), args: vec![("scopes".into(), printed.into())] }
    }

    fn max_age(value: &str) -> AppliedDirective {
        AppliedDirective { name: "cacheControl".into(), args: vec![("maxAge".into(), value.into())] }
    }

    #[test]
    fn cache_hints_of_several_subgraphs_keep_the_shortest_and_fail_to_zero() {
        assert_eq!(shortest_max_age(vec![max_age("300"), max_age("60")]), vec![max_age("60")]);
        assert_eq!(shortest_max_age(vec![max_age("300"), max_age("\"soon\"")]), vec![max_age("0")]);
    }

    #[test]
    fn one_subgraph_requirement_is_kept_as_written() {
        let merged = scopes_conjunction(vec![scopes(r#"[["finance"], ["tenant_admin"]]"#)]);
        assert_eq!(merged, vec![scopes(r#"[["finance"], ["tenant_admin"]]"#)]);
    }

    #[test]
    fn requirements_of_several_subgraphs_combine_with_and() {
        let merged = scopes_conjunction(vec![scopes(r#"[["a1", "a2"], ["a3"]]"#), scopes(r#"[["b1"], ["b2"]]"#)]);
        assert_eq!(merged, vec![scopes(r#"[["a1", "a2", "b1"], ["a1", "a2", "b2"], ["a3", "b1"], ["a3", "b2"]]"#)]);
    }

    #[test]
    fn duplicate_and_absorbed_alternatives_are_dropped() {
        let merged = scopes_conjunction(vec![scopes(r#"[["finance"]]"#), scopes(r#"[["finance"], ["audit"]]"#)]);
        assert_eq!(merged, vec![scopes(r#"[["finance"]]"#)]);
    }

    #[test]
    fn single_strings_coerce_to_lists_and_unreadable_values_fail_closed() {
        assert_eq!(scope_lists(r#""finance""#), Some(vec![vec!["finance".to_owned()]]));
        assert_eq!(scope_lists(r#"["a", "b"]"#), Some(vec![vec!["a".to_owned()], vec!["b".to_owned()]]));
        assert_eq!(scopes_conjunction(vec![scopes("[[1]]")]), vec![scopes("[]")]);
    }
}
