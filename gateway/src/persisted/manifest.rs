//! The Apollo persisted-query manifest, version 1: the format clients' build tools emit
//! and `atrium-gateway pq publish` accepts.

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

impl Manifest {
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let manifest: Manifest = serde_json::from_str(text)?;
        if manifest.format != MANIFEST_FORMAT || manifest.version != 1 {
            return Err(ManifestError::Unsupported { format: manifest.format, version: manifest.version });
        }
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
}
