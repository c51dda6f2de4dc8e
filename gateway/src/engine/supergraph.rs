//! A parsed supergraph: the planner built from it, the API schema clients see,
//! the full type relations the executor needs, and the subgraph endpoints
//! (from `enum join__Graph { X @join__graph(name:, url:) }`).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use graphql_tools::static_graphql::schema::{self, Definition, TypeDefinition};

use super::errors::EngineError;
use super::planner::{HivePlanner, QueryPlanner};
use super::schema::SchemaIndex;

pub struct Supergraph {
    planner: Box<dyn QueryPlanner>,
    /// The API (consumer) schema, including introspection types.
    api: SchemaIndex,
    /// Every type of the supergraph, inaccessible ones included: entity
    /// representations and flatten paths may name types clients cannot see.
    all_types: SchemaIndex,
    subgraphs: Vec<(String, String)>,
    hash: u64,
}

impl std::fmt::Debug for Supergraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supergraph")
            .field("subgraphs", &self.subgraphs)
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

impl Supergraph {
    pub fn from_sdl(sdl: &str) -> Result<Self, EngineError> {
        let document: schema::Document = graphql_tools::parser::parse_schema::<String>(sdl)
            .map_err(|error| EngineError::SupergraphParse(error.to_string()))?
            .into_static();
        let subgraphs = extract_subgraphs(&document)?;
        if !document.definitions.iter().any(|definition| {
            matches!(definition, Definition::TypeDefinition(TypeDefinition::Object(object)) if object.name == "Query")
                || matches!(definition, Definition::SchemaDefinition(def) if def.query.is_some())
        }) {
            return Err(EngineError::InvalidSupergraph("the supergraph has no query root type".into()));
        }
        let planner = HivePlanner::new(&document)?;
        let api = SchemaIndex::new(planner.api_schema());
        let all_types = SchemaIndex::new(&document);

        let mut hasher = DefaultHasher::new();
        sdl.hash(&mut hasher);

        Ok(Self { planner: Box::new(planner), api, all_types, subgraphs, hash: hasher.finish() })
    }

    /// `(name, url)` of every subgraph, in declaration order.
    pub fn subgraphs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.subgraphs.iter().map(|(name, url)| (name.as_str(), url.as_str()))
    }

    /// The API schema as SDL, without the built-in scalars, directives and
    /// introspection types every GraphQL schema implies.
    pub fn api_schema_sdl(&self) -> String {
        let document = self.planner.api_schema();
        let printable = schema::Document {
            definitions: document
                .definitions
                .iter()
                .filter_map(|definition| printable_definition(definition))
                .collect(),
        };
        printable.to_string()
    }

    /// Identifies this supergraph's SDL (plan cache keys include it).
    pub fn hash(&self) -> u64 {
        self.hash
    }

    pub(crate) fn planner(&self) -> &dyn QueryPlanner {
        self.planner.as_ref()
    }

    pub(crate) fn api_document(&self) -> &Arc<schema::Document> {
        self.planner.api_schema()
    }

    pub(crate) fn api(&self) -> &SchemaIndex {
        &self.api
    }

    pub(crate) fn all_types(&self) -> &SchemaIndex {
        &self.all_types
    }
}

const BUILTIN_DIRECTIVES: [&str; 5] = ["skip", "include", "deprecated", "specifiedBy", "oneOf"];
const BUILTIN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

fn printable_definition(definition: &Definition<'static, String>) -> Option<Definition<'static, String>> {
    match definition {
        Definition::DirectiveDefinition(def) if BUILTIN_DIRECTIVES.contains(&def.name.as_str()) => None,
        Definition::TypeDefinition(TypeDefinition::Scalar(scalar))
            if BUILTIN_SCALARS.contains(&scalar.name.as_str()) =>
        {
            None
        }
        Definition::TypeDefinition(def) if type_name(def).starts_with("__") => None,
        Definition::TypeDefinition(TypeDefinition::Object(object)) => {
            let mut object = object.clone();
            object.fields.retain(|field| !field.name.starts_with("__"));
            Some(Definition::TypeDefinition(TypeDefinition::Object(object)))
        }
        other => Some(other.clone()),
    }
}

fn type_name(definition: &TypeDefinition) -> &str {
    match definition {
        TypeDefinition::Scalar(t) => &t.name,
        TypeDefinition::Object(t) => &t.name,
        TypeDefinition::Interface(t) => &t.name,
        TypeDefinition::Union(t) => &t.name,
        TypeDefinition::Enum(t) => &t.name,
        TypeDefinition::InputObject(t) => &t.name,
    }
}

fn extract_subgraphs(document: &schema::Document) -> Result<Vec<(String, String)>, EngineError> {
    let graph_enum = document
        .definitions
        .iter()
        .find_map(|definition| match definition {
            Definition::TypeDefinition(TypeDefinition::Enum(e)) if e.name == "join__Graph" => Some(e),
            _ => None,
        })
        .ok_or_else(|| EngineError::InvalidSupergraph("no `enum join__Graph`".into()))?;

    graph_enum
        .values
        .iter()
        .map(|value| {
            let directive =
                value.directives.iter().find(|directive| directive.name == "join__graph").ok_or_else(|| {
                    EngineError::InvalidSupergraph(format!("join__Graph.{} has no @join__graph", value.name))
                })?;
            let argument = |name: &str| {
                directive
                    .arguments
                    .iter()
                    .find_map(|(arg, v)| match v {
                        schema::Value::String(s) if arg == name => Some(s.clone()),
                        _ => None,
                    })
                    .ok_or_else(|| {
                        EngineError::InvalidSupergraph(format!("join__Graph.{} has no `{name}`", value.name))
                    })
            };
            Ok((argument("name")?, argument("url")?))
        })
        .collect()
}
