//! Composition of the subgraphs' Federation v2 SDL into a join v0.3 supergraph.
//!
//! [`compose`] is the only entry point: it parses every subgraph (`parse`), merges
//! them into one model carrying the join metadata (`merge`), checks the
//! federation rules that make the result plannable (`rules`, `fieldset`) and
//! prints the supergraph in the shape Apollo composition emits (`print`).
//! Directives that travel from subgraphs into the supergraph beyond the join
//! spec (`@inaccessible`, `@deprecated`, later the authorization directives)
//! are declared in one table in `directives`.

mod directives;
mod error;
mod fieldset;
mod merge;
mod names;
mod parse;
mod print;
mod rules;
mod subgraph;
mod supergraph;

#[cfg(test)]
mod tests;

pub use error::CompositionError;

/// One subgraph as registered with the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubgraphDefinition {
    /// Subgraph name; becomes the `join__Graph` value (upper-cased) and the
    /// planner's service name.
    pub name: String,
    /// URL the router sends this subgraph's fetches to.
    pub url: String,
    /// Federation v2 SDL as exported by the subgraph (`_service { sdl }`).
    pub sdl: String,
}

/// Composes the subgraphs into a join v0.3 supergraph SDL.
///
/// The result does not depend on the order of `subgraphs`: subgraphs are
/// processed by name, types are printed by name and fields in the order of
/// their first appearance when walking subgraphs by name, as Apollo does.
pub fn compose(subgraphs: &[SubgraphDefinition]) -> Result<String, CompositionError> {
    let parsed = parse::parse_subgraphs(subgraphs)?;
    rules::check_subgraphs(&parsed)?;
    let supergraph = merge::merge(&parsed)?;
    Ok(print::print(&supergraph))
}
