//! The query planner boundary. [`QueryPlanner`] is Atrium's own trait; the only
//! implementation wraps the published `hive-router-query-planner` crate and
//! translates its plans into Atrium's plan ([`super::plan`]). Nothing outside
//! this file touches the crate, so it can be replaced.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use graphql_tools::static_graphql::{query, schema};
use hive_router_query_planner::ast::normalization::normalize_operation;
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::SelectionSet;
use hive_router_query_planner::graph::PlannerOverrideContext;
use hive_router_query_planner::planner::plan_nodes::{
    self as hive, FetchNodePathSegment, FetchRewrite, FlattenNodePath, FlattenNodePathSegment,
};
use hive_router_query_planner::planner::{Planner, QueryPlannerOptions};
use hive_router_query_planner::utils::cancellation::CancellationToken;

use super::errors::EngineError;
use super::plan::{
    ConditionNode, EntitiesNode, EntityGroup, FetchNode, InputItem, InputSelection, PathSegment, PlanNode,
    ResponsePath, Rewrite, RewriteSegment,
};

/// Planning a single operation never takes longer than this; pathological
/// operations fail instead of pinning a core.
const PLANNING_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub(crate) enum PlanningError {
    #[error("query planning failed: {0}")]
    Planner(String),
    #[error("query planner produced an unsupported plan: {0}")]
    UnsupportedPlan(String),
    #[error("query planner panicked")]
    Panicked,
}

/// Produces Atrium plans for validated operations.
pub(crate) trait QueryPlanner: Send + Sync {
    /// The API schema clients see (inaccessible elements removed; includes the
    /// introspection types and the `__schema`/`__type` root fields).
    fn api_schema(&self) -> &Arc<schema::Document>;

    /// Plans the selected operation of a validated document. Root introspection
    /// fields are the engine's business and are left out of the plan; `None`
    /// means no subgraph has to be called.
    fn plan(&self, document: &query::Document, operation_name: Option<&str>)
    -> Result<Option<PlanNode>, PlanningError>;
}

pub(crate) struct HivePlanner {
    planner: Planner,
}

impl HivePlanner {
    pub(crate) fn new(supergraph: &schema::Document) -> Result<Self, EngineError> {
        // The crate panics on some malformed supergraphs instead of erroring.
        let planner =
            catch_unwind(AssertUnwindSafe(|| Planner::new_from_supergraph(supergraph, QueryPlannerOptions::default())))
                .map_err(|_| EngineError::InvalidSupergraph("query planner panicked".into()))?
                .map_err(|error| EngineError::Planner(error.to_string()))?;
        Ok(Self { planner })
    }
}

impl QueryPlanner for HivePlanner {
    fn api_schema(&self) -> &Arc<schema::Document> {
        &self.planner.consumer_schema.document
    }

    fn plan(
        &self,
        document: &query::Document,
        operation_name: Option<&str>,
    ) -> Result<Option<PlanNode>, PlanningError> {
        let planner = &self.planner;
        let plan = catch_unwind(AssertUnwindSafe(|| {
            let normalized = normalize_operation(&planner.supergraph, document, operation_name)
                .map_err(|error| PlanningError::Planner(error.to_string()))?;
            let mut operation = normalized.operation;
            strip_root_meta_fields(&mut operation.selection_set);
            if operation.selection_set.items.is_empty() {
                return Ok(None);
            }
            let token = CancellationToken::with_timeout(PLANNING_TIMEOUT);
            planner
                .plan_from_normalized_operation(&operation, PlannerOverrideContext::default(), &token)
                .map(Some)
                .map_err(|error| PlanningError::Planner(error.to_string()))
        }))
        .map_err(|_| PlanningError::Panicked)??;

        match plan.and_then(|plan| plan.node) {
            Some(node) => convert(node).map(Some),
            None => Ok(None),
        }
    }
}

/// `__typename`, `__schema` and `__type` on the root type are answered by the
/// engine itself, so subgraphs never see them.
fn strip_root_meta_fields(selection_set: &mut SelectionSet) {
    selection_set.items.retain_mut(|item| match item {
        SelectionItem::Field(field) => !field.name.starts_with("__"),
        SelectionItem::InlineFragment(fragment) => {
            strip_root_meta_fields(&mut fragment.selections);
            !fragment.selections.items.is_empty()
        }
        SelectionItem::FragmentSpread(_) => true,
    });
}

fn convert(node: hive::PlanNode) -> Result<PlanNode, PlanningError> {
    Ok(match node {
        hive::PlanNode::Fetch(fetch) => convert_fetch(fetch, None)?,
        hive::PlanNode::Flatten(flatten) => {
            let path = convert_path(&flatten.path);
            match *flatten.node {
                hive::PlanNode::Fetch(fetch) => convert_fetch(fetch, Some(path))?,
                other => {
                    return Err(PlanningError::UnsupportedPlan(format!("Flatten over {}", kind_name(&other))));
                }
            }
        }
        hive::PlanNode::BatchFetch(batch) => {
            let groups = batch
                .entity_batch
                .aliases
                .into_iter()
                .map(|alias| EntityGroup {
                    response_key: alias.alias.into(),
                    variable: alias.representations_variable_name.into(),
                    paths: alias.merge_paths.iter().map(convert_path).collect(),
                    requires: convert_input(&alias.requires),
                    input_rewrites: convert_rewrites(alias.input_rewrites),
                    output_rewrites: convert_rewrites(alias.output_rewrites),
                })
                .collect::<Vec<_>>();
            let operation = batch.operation.document_str;
            PlanNode::Entities(EntitiesNode {
                service_name: batch.service_name.into(),
                operation_json: json_string(&operation),
                variable_usages: usages(batch.variable_usages, &groups),
                operation: operation.into(),
                groups,
                batched: true,
            })
        }
        hive::PlanNode::Sequence(sequence) => {
            PlanNode::Sequence(sequence.nodes.into_iter().map(convert).collect::<Result<_, _>>()?)
        }
        hive::PlanNode::Parallel(parallel) => {
            PlanNode::Parallel(parallel.nodes.into_iter().map(convert).collect::<Result<_, _>>()?)
        }
        hive::PlanNode::Condition(condition) => PlanNode::Condition(ConditionNode {
            variable: condition.condition.into(),
            if_clause: condition.if_clause.map(|node| convert(*node).map(Box::new)).transpose()?,
            else_clause: condition.else_clause.map(|node| convert(*node).map(Box::new)).transpose()?,
        }),
        hive::PlanNode::Subscription(_) => PlanNode::Unsupported("Subscription"),
        hive::PlanNode::Defer(_) => PlanNode::Unsupported("Defer"),
    })
}

fn kind_name(node: &hive::PlanNode) -> &'static str {
    match node {
        hive::PlanNode::Fetch(_) => "Fetch",
        hive::PlanNode::BatchFetch(_) => "BatchFetch",
        hive::PlanNode::Sequence(_) => "Sequence",
        hive::PlanNode::Parallel(_) => "Parallel",
        hive::PlanNode::Flatten(_) => "Flatten",
        hive::PlanNode::Condition(_) => "Condition",
        hive::PlanNode::Subscription(_) => "Subscription",
        hive::PlanNode::Defer(_) => "Defer",
    }
}

fn convert_fetch(fetch: hive::FetchNode, path: Option<ResponsePath>) -> Result<PlanNode, PlanningError> {
    let operation = fetch.operation.document_str;
    let operation_json = json_string(&operation);
    match fetch.requires {
        Some(requires) => {
            let path =
                path.ok_or_else(|| PlanningError::UnsupportedPlan("entity fetch outside of a Flatten".into()))?;
            let groups = vec![EntityGroup {
                response_key: "_entities".into(),
                variable: "representations".into(),
                paths: vec![path],
                requires: convert_input(&requires),
                input_rewrites: convert_rewrites(fetch.input_rewrites),
                output_rewrites: convert_rewrites(fetch.output_rewrites),
            }];
            Ok(PlanNode::Entities(EntitiesNode {
                service_name: fetch.service_name.into(),
                variable_usages: usages(fetch.variable_usages, &groups),
                operation: operation.into(),
                operation_json,
                groups,
                batched: false,
            }))
        }
        None => Ok(PlanNode::Fetch(FetchNode {
            service_name: fetch.service_name.into(),
            variable_usages: usages(fetch.variable_usages, &[]),
            operation: operation.into(),
            operation_json,
            path,
            output_rewrites: convert_rewrites(fetch.output_rewrites),
        })),
    }
}

/// Client variables a fetch forwards; representation variables are the executor's own.
fn usages(usages: Option<std::collections::BTreeSet<String>>, groups: &[EntityGroup]) -> Vec<Box<str>> {
    usages
        .unwrap_or_default()
        .into_iter()
        .filter(|name| !groups.iter().any(|group| *group.variable == **name))
        .map(String::into_boxed_str)
        .collect()
}

fn json_string(text: &str) -> Box<str> {
    // Serializing a &str into JSON cannot fail.
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned()).into_boxed_str()
}

fn convert_path(path: &FlattenNodePath) -> ResponsePath {
    ResponsePath(
        path.as_slice()
            .iter()
            .map(|segment| match segment {
                FlattenNodePathSegment::Field(name) => PathSegment::Field(name.as_str().into()),
                FlattenNodePathSegment::List => PathSegment::List,
                FlattenNodePathSegment::TypeCondition(types) => {
                    PathSegment::TypeCondition(types.iter().map(|t| t.as_str().into()).collect())
                }
            })
            .collect(),
    )
}

fn convert_input(selection_set: &SelectionSet) -> InputSelection {
    InputSelection(
        selection_set
            .items
            .iter()
            .filter_map(|item| match item {
                SelectionItem::Field(field) => Some(InputItem::Field {
                    source_key: field.name.as_str().into(),
                    output_key: field.alias.as_deref().unwrap_or(&field.name).into(),
                    selection: (!field.selections.items.is_empty()).then(|| convert_input(&field.selections)),
                }),
                SelectionItem::InlineFragment(fragment) => Some(InputItem::Fragment {
                    type_condition: fragment.type_condition.as_str().into(),
                    selection: convert_input(&fragment.selections),
                }),
                SelectionItem::FragmentSpread(_) => None,
            })
            .collect(),
    )
}

fn convert_rewrites(rewrites: Option<Vec<FetchRewrite>>) -> Vec<Rewrite> {
    let path = |path: Vec<FetchNodePathSegment>| {
        path.into_iter()
            .map(|segment| match segment {
                FetchNodePathSegment::Key(key) => RewriteSegment::Key(key.into()),
                FetchNodePathSegment::TypenameEquals(types) => {
                    RewriteSegment::TypenameEquals(types.into_iter().map(Into::into).collect())
                }
            })
            .collect()
    };
    rewrites
        .unwrap_or_default()
        .into_iter()
        .map(|rewrite| match rewrite {
            FetchRewrite::ValueSetter(setter) => {
                Rewrite::SetValue { path: path(setter.path), value: setter.set_value_to.into() }
            }
            FetchRewrite::KeyRenamer(renamer) => {
                Rewrite::RenameKey { path: path(renamer.path), to: renamer.rename_key_to.into() }
            }
        })
        .collect()
}
