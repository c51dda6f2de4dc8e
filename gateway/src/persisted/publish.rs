//! Publishing checks: every operation of a manifest must validate and plan against the
//! current supergraph, so a portal release can never ship a document the gateway rejects.
//! The same check, run against a new supergraph, lists what a schema change would break.

use crate::engine::{Engine, GraphQLRequest};

use super::manifest::Manifest;

/// An operation that does not run against the supergraph, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidOperation {
    pub id: String,
    pub name: String,
    pub reason: String,
}

impl std::fmt::Display for InvalidOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "operation `{}` (id {}): {}", self.name, self.id, self.reason)
    }
}

/// Validates and plans every operation; returns those that fail.
pub async fn validate_manifest(engine: &Engine, manifest: &Manifest) -> Vec<InvalidOperation> {
    let mut invalid = Vec::new();
    for operation in &manifest.operations {
        let request = GraphQLRequest {
            query: operation.body.clone(),
            operation_name: Some(operation.name.clone()).filter(|name| !name.is_empty()),
            variables: Default::default(),
            extensions: Default::default(),
        };
        if let Err(error) = engine.prepare(&request).await {
            invalid.push(InvalidOperation {
                id: operation.id.clone(),
                name: operation.name.clone(),
                reason: error.message.clone(),
            });
        }
    }
    invalid
}
