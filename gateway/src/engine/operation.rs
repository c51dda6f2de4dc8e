//! Preparing an operation: parse, validate, select, compile the projection,
//! plan. The result is cached and holds everything execution needs, so a cache
//! hit does no parsing or planning.

use serde_json::Value;

use super::errors::{RequestError, codes};
use super::plan::{OperationKind, PlanNode};
use super::projection::compile_operation;
use super::restriction::RemovedSelections;
use super::selection_plan::Projection;
use super::supergraph::Supergraph;
use super::validation::{VariableDef, parse, select_operation, validate_document};

/// A parsed, validated and planned operation.
#[derive(Debug)]
pub struct PreparedOperation {
    kind: OperationKind,
    operation_name: Option<String>,
    pub(crate) plan: Option<PlanNode>,
    pub(crate) variables: Vec<VariableDef>,
    pub(crate) projection: Projection,
}

impl PreparedOperation {
    pub fn kind(&self) -> OperationKind {
        self.kind
    }

    pub fn operation_name(&self) -> Option<&str> {
        self.operation_name.as_deref()
    }

    /// The query plan as stable JSON (`null` when no subgraph is called).
    pub fn plan_json(&self) -> Value {
        self.plan.as_ref().map(PlanNode::to_json).unwrap_or(Value::Null)
    }

    /// Whether the operation selects `__schema` or `__type`.
    pub fn uses_introspection(&self) -> bool {
        self.projection.uses_introspection()
    }
}

/// `removed` selections are taken out of what is planned, not out of the
/// projection: they answer null without being fetched.
pub(crate) fn prepare(
    supergraph: &Supergraph,
    text: &str,
    operation_name: Option<&str>,
    allow_introspection: bool,
    removed: Option<&RemovedSelections>,
) -> Result<PreparedOperation, RequestError> {
    let document = tracing::info_span!("graphql.parse").in_scope(|| parse(text))?;
    tracing::info_span!("graphql.validate").in_scope(|| validate_document(supergraph.api_document(), &document))?;
    let operation = select_operation(&document, operation_name)?;

    let api = supergraph.api();
    let root_type = match operation.kind {
        OperationKind::Query => Some(api.query_type.as_str()),
        OperationKind::Mutation => api.mutation_type.as_deref(),
        OperationKind::Subscription => api.subscription_type.as_deref(),
    }
    .ok_or_else(|| {
        RequestError::new(
            codes::GRAPHQL_VALIDATION_FAILED,
            format!("The schema does not support {} operations.", operation.kind.as_str()),
        )
    })?;

    let projection = compile_operation(api, &document, root_type, operation.selection_set)?;
    if !allow_introspection && projection.uses_introspection() {
        return Err(RequestError::new(codes::INTROSPECTION_DISABLED, "Introspection is disabled."));
    }

    // Subscriptions are not executed (yet), so they are not planned either.
    let plan = if operation.kind == OperationKind::Subscription {
        None
    } else {
        let _planning = tracing::info_span!("graphql.plan").entered();
        let restricted = removed.map(|removed| removed.apply(&document, api));
        supergraph.planner().plan(restricted.as_ref().unwrap_or(&document), operation.name).map_err(|error| {
            tracing::error!(%error, "query planning failed");
            RequestError::new(codes::QUERY_PLANNING_FAILED, error.to_string())
        })?
    };

    Ok(PreparedOperation {
        kind: operation.kind,
        operation_name: operation.name.map(str::to_owned),
        plan,
        variables: operation.variables.iter().map(VariableDef::from_ast).collect(),
        projection,
    })
}
