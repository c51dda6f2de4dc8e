//! Atrium's own query plan representation: what the executor runs. The planner
//! adapter (`planner.rs`) translates into it, precomputing what every request
//! would otherwise redo (escaped subgraph queries, compiled `requires`
//! selections). Also renders the plan as stable JSON for `explain` and snapshots.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    Query,
    Mutation,
    Subscription,
}

impl OperationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Query => "query",
            OperationKind::Mutation => "mutation",
            OperationKind::Subscription => "subscription",
        }
    }
}

#[derive(Debug)]
pub(crate) enum PlanNode {
    /// A call to a subgraph's root type; merged at the root, or at every
    /// position of `path` when the planner re-enters a root type below it.
    Fetch(FetchNode),
    /// One `_entities` call (possibly several aliased `_entities` fields).
    Entities(EntitiesNode),
    Sequence(Vec<PlanNode>),
    Parallel(Vec<PlanNode>),
    Condition(ConditionNode),
    /// A node kind the executor does not run (`@defer`, subscriptions).
    Unsupported(&'static str),
}

#[derive(Debug)]
pub(crate) struct FetchNode {
    pub service_name: Box<str>,
    pub operation: Box<str>,
    /// `operation` as a JSON string literal, ready to splice into request bodies.
    pub operation_json: Box<str>,
    pub variable_usages: Vec<Box<str>>,
    pub path: Option<ResponsePath>,
    pub output_rewrites: Vec<Rewrite>,
}

#[derive(Debug)]
pub(crate) struct EntitiesNode {
    pub service_name: Box<str>,
    pub operation: Box<str>,
    pub operation_json: Box<str>,
    pub variable_usages: Vec<Box<str>>,
    pub groups: Vec<EntityGroup>,
    /// Came from a `BatchFetch` (aliased `_entities` fields) rather than `Flatten(Fetch)`.
    pub batched: bool,
}

/// One `_entities` field of an entities call: where its representations come
/// from and how they are built.
#[derive(Debug)]
pub(crate) struct EntityGroup {
    /// Response key of the `_entities` field (`_entities`, or an alias like `_e0`).
    pub response_key: Box<str>,
    /// Variable carrying the representations.
    pub variable: Box<str>,
    pub paths: Vec<ResponsePath>,
    pub requires: InputSelection,
    pub input_rewrites: Vec<Rewrite>,
    pub output_rewrites: Vec<Rewrite>,
}

#[derive(Debug)]
pub(crate) struct ConditionNode {
    pub variable: Box<str>,
    pub if_clause: Option<Box<PlanNode>>,
    pub else_clause: Option<Box<PlanNode>>,
}

/// A path into the response with list markers and type conditions, e.g. `products.@.reviews.@|[Review]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResponsePath(pub Vec<PathSegment>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathSegment {
    Field(Box<str>),
    List,
    TypeCondition(Vec<Box<str>>),
}

impl ResponsePath {
    pub(crate) fn list_depth(&self) -> usize {
        self.0.iter().filter(|segment| matches!(segment, PathSegment::List)).count()
    }

    /// The concrete response path of one position (`indices` fill the list markers).
    pub(crate) fn concrete(&self, indices: &[usize]) -> Vec<Value> {
        let mut out = Vec::with_capacity(self.0.len());
        let mut indices = indices.iter();
        for segment in &self.0 {
            match segment {
                PathSegment::Field(key) => out.push(Value::String(key.to_string())),
                PathSegment::List => {
                    if let Some(index) = indices.next() {
                        out.push(Value::from(*index));
                    }
                }
                PathSegment::TypeCondition(_) => {}
            }
        }
        out
    }
}

impl std::fmt::Display for ResponsePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                PathSegment::Field(key) => {
                    if i > 0 {
                        f.write_char('.')?;
                    }
                    f.write_str(key)?;
                }
                PathSegment::List => {
                    if i > 0 {
                        f.write_char('.')?;
                    }
                    f.write_char('@')?;
                }
                PathSegment::TypeCondition(types) => {
                    f.write_str("|[")?;
                    for (j, name) in types.iter().enumerate() {
                        if j > 0 {
                            f.write_char('|')?;
                        }
                        f.write_str(name)?;
                    }
                    f.write_char(']')?;
                }
            }
        }
        Ok(())
    }
}

/// The `requires` selection of an entity fetch, compiled for building representations.
#[derive(Debug, Clone, Default)]
pub(crate) struct InputSelection(pub Vec<InputItem>);

#[derive(Debug, Clone)]
pub(crate) enum InputItem {
    Field {
        /// Key holding the value in the response data.
        source_key: Box<str>,
        /// Key the value gets in the representation.
        output_key: Box<str>,
        selection: Option<InputSelection>,
    },
    Fragment {
        type_condition: Box<str>,
        selection: InputSelection,
    },
}

impl std::fmt::Display for InputSelection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_char('{')?;
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            match item {
                InputItem::Field { source_key, output_key, selection } => {
                    if source_key != output_key {
                        write!(f, "{output_key}: ")?;
                    }
                    f.write_str(source_key)?;
                    if let Some(selection) = selection {
                        write!(f, " {selection}")?;
                    }
                }
                InputItem::Fragment { type_condition, selection } => write!(f, "... on {type_condition} {selection}")?,
            }
        }
        f.write_char('}')
    }
}

/// Input/output rewrites of entity representations and results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rewrite {
    SetValue { path: Vec<RewriteSegment>, value: Box<str> },
    RenameKey { path: Vec<RewriteSegment>, to: Box<str> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RewriteSegment {
    Key(Box<str>),
    TypenameEquals(Vec<Box<str>>),
}

fn rewrite_json(rewrite: &Rewrite) -> Value {
    let path = |path: &[RewriteSegment]| {
        Value::Array(
            path.iter()
                .map(|segment| match segment {
                    RewriteSegment::Key(key) => Value::String(key.to_string()),
                    RewriteSegment::TypenameEquals(types) => Value::String(format!("... on {}", types.join("|"))),
                })
                .collect(),
        )
    };
    match rewrite {
        Rewrite::SetValue { path: p, value } => {
            json!({ "kind": "ValueSetter", "path": path(p), "setValueTo": value.as_ref() })
        }
        Rewrite::RenameKey { path: p, to } => {
            json!({ "kind": "KeyRenamer", "path": path(p), "renameKeyTo": to.as_ref() })
        }
    }
}

fn put_rewrites(object: &mut Map<String, Value>, key: &str, rewrites: &[Rewrite]) {
    if !rewrites.is_empty() {
        object.insert(key.to_owned(), Value::Array(rewrites.iter().map(rewrite_json).collect()));
    }
}

fn usages_json(usages: &[Box<str>]) -> Value {
    Value::Array(usages.iter().map(|usage| Value::String(usage.to_string())).collect())
}

impl PlanNode {
    /// A stable JSON rendering (no ids, no hashes) for `explain` and snapshots.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            PlanNode::Fetch(fetch) => {
                let mut node = Map::new();
                node.insert("kind".into(), "Fetch".into());
                node.insert("serviceName".into(), fetch.service_name.as_ref().into());
                if !fetch.variable_usages.is_empty() {
                    node.insert("variableUsages".into(), usages_json(&fetch.variable_usages));
                }
                node.insert("operation".into(), fetch.operation.as_ref().into());
                put_rewrites(&mut node, "outputRewrites", &fetch.output_rewrites);
                match &fetch.path {
                    Some(path) => json!({
                        "kind": "Flatten",
                        "path": path.to_string(),
                        "node": Value::Object(node),
                    }),
                    None => Value::Object(node),
                }
            }
            PlanNode::Entities(entities) if !entities.batched && entities.groups.len() == 1 => {
                let group = &entities.groups[0];
                let mut node = Map::new();
                node.insert("kind".into(), "Fetch".into());
                node.insert("serviceName".into(), entities.service_name.as_ref().into());
                if !entities.variable_usages.is_empty() {
                    node.insert("variableUsages".into(), usages_json(&entities.variable_usages));
                }
                node.insert("requires".into(), group.requires.to_string().into());
                node.insert("operation".into(), entities.operation.as_ref().into());
                put_rewrites(&mut node, "inputRewrites", &group.input_rewrites);
                put_rewrites(&mut node, "outputRewrites", &group.output_rewrites);
                let path = group.paths.first().map(ToString::to_string).unwrap_or_default();
                json!({ "kind": "Flatten", "path": path, "node": Value::Object(node) })
            }
            PlanNode::Entities(entities) => {
                let batch: Vec<Value> = entities
                    .groups
                    .iter()
                    .map(|group| {
                        let mut alias = Map::new();
                        alias.insert("alias".into(), group.response_key.as_ref().into());
                        alias.insert("representationsVariable".into(), group.variable.as_ref().into());
                        alias.insert(
                            "paths".into(),
                            Value::Array(group.paths.iter().map(|path| Value::String(path.to_string())).collect()),
                        );
                        alias.insert("requires".into(), group.requires.to_string().into());
                        put_rewrites(&mut alias, "inputRewrites", &group.input_rewrites);
                        put_rewrites(&mut alias, "outputRewrites", &group.output_rewrites);
                        Value::Object(alias)
                    })
                    .collect();
                let mut node = Map::new();
                node.insert("kind".into(), "BatchFetch".into());
                node.insert("serviceName".into(), entities.service_name.as_ref().into());
                if !entities.variable_usages.is_empty() {
                    node.insert("variableUsages".into(), usages_json(&entities.variable_usages));
                }
                node.insert("entityBatch".into(), Value::Array(batch));
                node.insert("operation".into(), entities.operation.as_ref().into());
                Value::Object(node)
            }
            PlanNode::Sequence(nodes) => json!({
                "kind": "Sequence",
                "nodes": nodes.iter().map(PlanNode::to_json).collect::<Vec<_>>(),
            }),
            PlanNode::Parallel(nodes) => json!({
                "kind": "Parallel",
                "nodes": nodes.iter().map(PlanNode::to_json).collect::<Vec<_>>(),
            }),
            PlanNode::Condition(condition) => {
                let mut node = Map::new();
                node.insert("kind".into(), "Condition".into());
                node.insert("condition".into(), condition.variable.as_ref().into());
                if let Some(if_clause) = &condition.if_clause {
                    node.insert("ifClause".into(), if_clause.to_json());
                }
                if let Some(else_clause) = &condition.else_clause {
                    node.insert("elseClause".into(), else_clause.to_json());
                }
                Value::Object(node)
            }
            PlanNode::Unsupported(kind) => json!({ "kind": kind }),
        }
    }
}
