//! Composition tests: Atrium-shaped subgraphs as SDL text and as real
//! async-graphql schemas, supergraph snapshots, query planning over the
//! result, and one test per composition error rule.

mod async_graphql_subgraphs;
mod compose;
mod errors;
mod fixtures;
mod planning;
mod scopes;
mod shapes;
