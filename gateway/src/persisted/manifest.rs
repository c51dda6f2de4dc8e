//! Persisted-document manifests: the Apollo persisted-query manifest, version 1 (what
//! `atrium-gateway pq publish` and the admin API store), read from what clients' build
//! tools emit — Apollo's generator (`clientName` allowed, `name` and `type` optional: taken
//! from the document) and graphql-codegen's client preset (`persisted-documents.json`, a
//! map of document id to document text).

use serde::{Deserialize, Serialize};

pub const MANIFEST_FORMAT: &str = "apollo-persisted-query-manifest";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub operations: Vec<ManifestOperation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestOperation {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("the manifest is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unsupported manifest: format `{format}` version {version} (expected `{MANIFEST_FORMAT}` version 1)")]
    Unsupported { format: String, version: u32 },
    #[error("operation id `{0}` appears more than once with different bodies")]
    DuplicateId(String),
    #[error("operation `{0}` has an empty id or body")]
    Empty(String),
}

/// An operation as tools write it: Apollo's generator may add `clientName` (the publishing
/// command's `--client` decides the client kind, so it is read and dropped) and may leave
/// out `name` and `type`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WrittenOperation {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    body: String,
    #[serde(rename = "clientName", default)]
    _client_name: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WrittenManifest {
    format: String,
    version: u32,
    operations: Vec<WrittenOperation>,
}

impl WrittenOperation {
    fn complete(self) -> ManifestOperation {
        let (derived_kind, derived_name) = operation_of(&self.body);
        ManifestOperation {
            name: self.name.filter(|name| !name.is_empty()).or(derived_name).unwrap_or_else(|| self.id.clone()),
            kind: self.kind.filter(|kind| !kind.is_empty()).unwrap_or(derived_kind),
            id: self.id,
            body: self.body,
        }
    }
}

/// The type and name of the document's first operation (`query` and none when it does not
/// parse: validation against the schema reports that later, with the operation's id).
fn operation_of(body: &str) -> (String, Option<String>) {
    use async_graphql_parser::types::{DocumentOperations, OperationType};
    let Ok(document) = async_graphql_parser::parse_query(body) else { return ("query".to_owned(), None) };
    let first = match &document.operations {
        DocumentOperations::Single(operation) => Some((operation.node.ty, None)),
        DocumentOperations::Multiple(operations) => {
            operations.iter().next().map(|(name, operation)| (operation.node.ty, Some(name.to_string())))
        }
    };
    match first {
        Some((ty, name)) => {
            let kind = match ty {
                OperationType::Query => "query",
                OperationType::Mutation => "mutation",
                OperationType::Subscription => "subscription",
            };
            (kind.to_owned(), name)
        }
        None => ("query".to_owned(), None),
    }
}

impl Manifest {
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let value: serde_json::Value = serde_json::from_str(text)?;
        let manifest = match value {
            // graphql-codegen's client preset: `{ "<id>": "<document>" }`.
            serde_json::Value::Object(map) if !map.contains_key("format") && map.values().all(|v| v.is_string()) => {
                let operations = map
                    .into_iter()
                    .map(|(id, body)| {
                        let body = body.as_str().unwrap_or_default().to_owned();
                        WrittenOperation { id, name: None, kind: None, body, _client_name: None }.complete()
                    })
                    .collect();
                Manifest::new(operations)
            }
            value => {
                let written: WrittenManifest = serde_json::from_value(value)?;
                if written.format != MANIFEST_FORMAT || written.version != 1 {
                    return Err(ManifestError::Unsupported { format: written.format, version: written.version });
                }
                Manifest::new(written.operations.into_iter().map(WrittenOperation::complete).collect())
            }
        };
        let mut seen = std::collections::HashMap::new();
        for operation in &manifest.operations {
            if operation.id.is_empty() || operation.body.trim().is_empty() {
                return Err(ManifestError::Empty(operation.name.clone()));
            }
            if let Some(body) = seen.insert(operation.id.as_str(), operation.body.as_str())
                && body != operation.body
            {
                return Err(ManifestError::DuplicateId(operation.id.clone()));
            }
        }
        Ok(manifest)
    }

    pub fn new(operations: Vec<ManifestOperation>) -> Self {
        Manifest { format: MANIFEST_FORMAT.to_owned(), version: 1, operations }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_v1_manifest_and_rejects_other_formats_and_conflicting_ids() {
        let ok = r#"{"format":"apollo-persisted-query-manifest","version":1,
            "operations":[{"id":"a1","name":"Report","type":"query","body":"query Report { tenant { name } }"}]}"#;
        assert_eq!(Manifest::parse(ok).unwrap().operations[0].name, "Report");
        let wrong = r#"{"format":"other","version":1,"operations":[]}"#;
        assert!(matches!(Manifest::parse(wrong), Err(ManifestError::Unsupported { .. })));
        let conflicting = r#"{"format":"apollo-persisted-query-manifest","version":1,"operations":[
            {"id":"a1","name":"A","type":"query","body":"{ a }"},{"id":"a1","name":"B","type":"query","body":"{ b }"}]}"#;
        assert!(matches!(Manifest::parse(conflicting), Err(ManifestError::DuplicateId(_))));
    }

    #[test]
    fn reads_apollo_manifests_with_client_names_and_without_names() {
        let apollo = r#"{"format":"apollo-persisted-query-manifest","version":1,"operations":[
            {"id":"h1","clientName":"portal","body":"query Portfolio($first: Int) { customerAccounts(first: $first) { nodes { id } } }"},
            {"id":"h2","body":"mutation Close($id: ID!) { closeCsAction(id: $id, outcome: SUCCESS) { id } }","type":"mutation"},
            {"id":"h3","body":"{ tenant { name } }"}]}"#;
        let operations = Manifest::parse(apollo).unwrap().operations;
        let summary: Vec<(&str, &str, &str)> =
            operations.iter().map(|op| (op.id.as_str(), op.name.as_str(), op.kind.as_str())).collect();
        // An anonymous document is named by its id.
        assert_eq!(summary, [("h1", "Portfolio", "query"), ("h2", "Close", "mutation"), ("h3", "h3", "query")]);
        let unknown_key = r#"{"format":"apollo-persisted-query-manifest","version":1,"operations":[
            {"id":"h1","body":"{ a }","extra":1}]}"#;
        assert!(matches!(Manifest::parse(unknown_key), Err(ManifestError::Json(_))), "typos stay errors");
    }

    #[test]
    fn reads_the_graphql_codegen_client_preset_document_map() {
        let codegen = r#"{
            "b2c3": "mutation RecordPulse($id: ID!) { recordCsmPulse(customerAccountId: $id, pulse: 4) { csmPulse } }",
            "a1f0": "query TenantName { tenant { name } }"
        }"#;
        let manifest = Manifest::parse(codegen).unwrap();
        assert_eq!(manifest.format, MANIFEST_FORMAT);
        let mut summary: Vec<(String, String, String)> =
            manifest.operations.into_iter().map(|op| (op.id, op.name, op.kind)).collect();
        summary.sort();
        assert_eq!(
            summary,
            [
                ("a1f0".to_owned(), "TenantName".to_owned(), "query".to_owned()),
                ("b2c3".to_owned(), "RecordPulse".to_owned(), "mutation".to_owned()),
            ]
        );
        assert!(matches!(Manifest::parse(r#"{"a1": ""}"#), Err(ManifestError::Empty(_))), "an empty body is refused");
    }
}
