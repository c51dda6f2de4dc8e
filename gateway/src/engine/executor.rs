//! Atrium's plan executor: runs a [`PlanNode`] tree against subgraphs through a
//! [`SubgraphTransport`], building the merged (not yet projected) response data
//! and the subgraph errors with paths rewritten to response positions.
//!
//! The response tree sits behind a mutex that is only held in synchronous
//! sections (collecting representations, merging results), never across a
//! subgraph call, so parallel branches run concurrently.

use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt, join_all};
use parking_lot::Mutex;
use serde_json::{Map, Value};

use super::errors::{codes, subgraph_error};
use super::merge::{deep_merge, position_mut, visit_path};
use super::plan::{EntitiesNode, EntityGroup, FetchNode, PlanNode, ResponsePath};
use super::representations::{self, RepresentationSet};
use super::schema::SchemaIndex;
use super::transport::{EntityFetch, EntityLookup, SubgraphTransport};

/// Merged data and errors after running a plan.
#[derive(Debug)]
pub(crate) struct ExecutionOutput {
    pub data: Value,
    pub errors: Vec<Value>,
}

pub(crate) struct Executor<'a> {
    types: &'a SchemaIndex,
    transport: &'a dyn SubgraphTransport,
    variables: &'a Map<String, Value>,
    state: Mutex<ExecutionOutput>,
}

#[derive(serde::Deserialize)]
struct SubgraphResponse {
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    errors: Option<Vec<Value>>,
}

/// The objects one entity group targets: each position records which path of
/// the group it was found on, where its list indices start in `indices`, and
/// which representation it sent.
#[derive(Default)]
struct Targets {
    indices: Vec<usize>,
    entries: Vec<Target>,
    /// For each representation, the first target that sent it (error paths).
    first_of_rep: Vec<u32>,
}

struct Target {
    path: u32,
    start: u32,
    rep: u32,
}

impl<'a> Executor<'a> {
    pub(crate) fn new(
        types: &'a SchemaIndex,
        transport: &'a dyn SubgraphTransport,
        variables: &'a Map<String, Value>,
    ) -> Self {
        Self {
            types,
            transport,
            variables,
            state: Mutex::new(ExecutionOutput { data: Value::Object(Map::new()), errors: Vec::new() }),
        }
    }

    pub(crate) async fn run(self, plan: Option<&PlanNode>) -> ExecutionOutput {
        if let Some(plan) = plan {
            self.execute(plan).await;
        }
        self.state.into_inner()
    }

    fn execute<'s>(&'s self, node: &'s PlanNode) -> BoxFuture<'s, ()> {
        async move {
            match node {
                PlanNode::Fetch(fetch) => self.fetch_root(fetch).await,
                PlanNode::Entities(entities) => self.fetch_entities(entities).await,
                PlanNode::Sequence(nodes) => {
                    for node in nodes {
                        self.execute(node).await;
                    }
                }
                PlanNode::Parallel(nodes) => {
                    join_all(nodes.iter().map(|node| self.execute(node))).await;
                }
                PlanNode::Condition(condition) => {
                    let holds = matches!(self.variables.get(&*condition.variable), Some(Value::Bool(true)));
                    let branch = if holds { &condition.if_clause } else { &condition.else_clause };
                    if let Some(branch) = branch {
                        self.execute(branch).await;
                    }
                }
                PlanNode::Unsupported(kind) => {
                    let code =
                        if *kind == "Defer" { codes::DEFER_NOT_SUPPORTED } else { codes::SUBSCRIPTIONS_NOT_SUPPORTED };
                    self.state.lock().errors.push(super::errors::graphql_error(
                        format!("{kind} plan nodes are not supported"),
                        code,
                        None,
                    ));
                }
            }
        }
        .boxed()
    }

    async fn fetch_root(&self, fetch: &FetchNode) {
        // Below a flatten path the fetch re-enters a root type once per position.
        let positions = match &fetch.path {
            Some(path) => {
                let state = self.state.lock();
                let mut targets = Vec::new();
                let mut indices = Vec::new();
                visit_path(&state.data, &path.0, self.types, &mut indices, &mut |_, at: &[usize]| {
                    targets.push(at.to_vec())
                });
                if targets.is_empty() {
                    return;
                }
                Some(targets)
            }
            None => None,
        };

        let body = request_body(&fetch.operation_json, &fetch.variable_usages, self.variables, &[]);
        let Some(response) = self.call(&fetch.service_name, body).await else {
            return;
        };

        let mut state = self.state.lock();
        let state = &mut *state;
        let mut data = response.data.unwrap_or(Value::Null);
        representations::apply_rewrites(&mut data, &fetch.output_rewrites, self.types);
        match (&fetch.path, positions) {
            (Some(path), Some(positions)) => {
                let prefix = positions.first().map(|at| path.concrete(at));
                for error in response.errors.unwrap_or_default() {
                    let path = prefix.as_ref().map(|prefix| {
                        let mut full = prefix.clone();
                        full.extend(error_path(&error).into_iter().flatten().cloned());
                        full
                    });
                    state.errors.push(normalize_error(error, &fetch.service_name, path));
                }
                if data.is_object() {
                    for at in &positions {
                        if let Some(target) = position_mut(&mut state.data, &path.0, at) {
                            deep_merge(target, data.clone(), self.types);
                        }
                    }
                }
            }
            _ => {
                for error in response.errors.unwrap_or_default() {
                    let path = error_path(&error).cloned();
                    state.errors.push(normalize_error(error, &fetch.service_name, path));
                }
                if data.is_object() {
                    deep_merge(&mut state.data, data, self.types);
                }
            }
        }
    }

    async fn fetch_entities(&self, node: &EntitiesNode) {
        let (sets, targets) = {
            let state = self.state.lock();
            let mut sets = Vec::with_capacity(node.groups.len());
            let mut all_targets = Vec::with_capacity(node.groups.len());
            for group in &node.groups {
                let (set, targets) = self.collect_group(&state.data, group);
                sets.push(set);
                all_targets.push(targets);
            }
            if all_targets.iter().all(|t| t.entries.is_empty()) {
                return;
            }
            (sets, all_targets)
        };
        let mut lookups = self.cached_entities(node, &sets).await;
        // Per group, the representations sent (indices into its set): those the cache
        // does not hold, or all of them.
        let sent: Vec<Vec<usize>> = sets
            .iter()
            .zip(&lookups)
            .map(|(set, lookup)| match lookup {
                Some(lookup) => (0..set.len()).filter(|index| lookup.found[*index].is_none()).collect(),
                None => (0..set.len()).collect(),
            })
            .collect();

        let mut fetched: Vec<Option<Vec<Value>>> = vec![None; node.groups.len()];
        if sent.iter().any(|indices| !indices.is_empty()) {
            let arrays: Vec<Vec<u8>> = sets.iter().zip(&sent).map(|(set, indices)| set.subset(indices)).collect();
            let reps: Vec<(&str, &[u8])> =
                node.groups.iter().zip(&arrays).map(|(group, array)| (&*group.variable, array.as_slice())).collect();
            let body = request_body(&node.operation_json, &node.variable_usages, self.variables, &reps);
            let Some(response) = self.call(&node.service_name, body).await else {
                return;
            };
            let had_errors = self.record_entity_errors(node, &targets, &sent, response.errors);
            let Some(Value::Object(mut data)) = response.data else {
                if !had_errors {
                    self.state.lock().errors.push(subgraph_error(
                        format!("Subgraph \"{}\" returned no data", node.service_name),
                        codes::INVALID_SUBGRAPH_RESPONSE,
                        &node.service_name,
                    ));
                }
                return;
            };
            for (index, group) in node.groups.iter().enumerate() {
                if sent[index].is_empty() {
                    continue;
                }
                match data.get_mut(&*group.response_key).map(Value::take) {
                    Some(Value::Array(entities)) if entities.len() == sent[index].len() => {
                        fetched[index] = Some(entities);
                    }
                    Some(Value::Null) | None if had_errors => {}
                    _ => self.state.lock().errors.push(subgraph_error(
                        format!("Subgraph \"{}\" returned an invalid `{}` list", node.service_name, group.response_key),
                        codes::INVALID_SUBGRAPH_RESPONSE,
                        &node.service_name,
                    )),
                }
            }
            // Only a clean answer is reusable; one with errors may be transient.
            if !had_errors {
                self.store_entities(&lookups, &sent, &fetched).await;
            }
        }

        let mut state = self.state.lock();
        for (index, (group, targets)) in node.groups.iter().zip(&targets).enumerate() {
            if targets.entries.is_empty() {
                continue;
            }
            let entities = match (lookups[index].take(), fetched[index].take()) {
                (None, Some(entities)) => entities,
                (Some(lookup), fetched) => {
                    let mut entities: Vec<Value> = lookup.found.into_iter().map(Option::unwrap_or_default).collect();
                    for (position, entity) in sent[index].iter().zip(fetched.into_iter().flatten()) {
                        entities[*position] = entity;
                    }
                    entities
                }
                (None, None) => continue,
            };
            self.merge_entities(&mut state, group, targets, entities);
        }
    }

    /// What the caller's entity cache holds for each group; `None` per group when there
    /// is no cache or the fetch is not cacheable.
    async fn cached_entities(&self, node: &EntitiesNode, sets: &[RepresentationSet]) -> Vec<Option<EntityLookup>> {
        let Some(cache) = self.transport.entity_cache() else {
            return sets.iter().map(|_| None).collect();
        };
        let lookups = node.groups.iter().zip(sets).map(|(group, set)| {
            let fetch = EntityFetch {
                service: &node.service_name,
                operation: &node.operation,
                response_key: &group.response_key,
                variables: node.variable_usages.iter().map(|name| (&**name, self.variables.get(&**name))).collect(),
            };
            async move {
                if set.len() == 0 {
                    return None;
                }
                cache.lookup(fetch, set.representations()).await
            }
        });
        join_all(lookups).await
    }

    async fn store_entities(
        &self,
        lookups: &[Option<EntityLookup>],
        sent: &[Vec<usize>],
        fetched: &[Option<Vec<Value>>],
    ) {
        let Some(cache) = self.transport.entity_cache() else { return };
        for ((lookup, indices), entities) in lookups.iter().zip(sent).zip(fetched) {
            let (Some(lookup), Some(entities)) = (lookup, entities) else { continue };
            // Null stands for "not found" (or not visible to this caller): never cached.
            let objects: Vec<(usize, &Value)> =
                indices.iter().copied().zip(entities).filter(|(_, entity)| entity.is_object()).collect();
            if !objects.is_empty() {
                cache.store(lookup, objects).await;
            }
        }
    }

    /// Records a subgraph's errors with paths into the client response; `true` when
    /// there were any.
    fn record_entity_errors(
        &self,
        node: &EntitiesNode,
        targets: &[Targets],
        sent: &[Vec<usize>],
        errors: Option<Vec<Value>>,
    ) -> bool {
        let errors = errors.unwrap_or_default();
        let had_errors = !errors.is_empty();
        let mut state = self.state.lock();
        for error in errors {
            let path = error_path(&error).and_then(|path| {
                let (key, rest) = path.split_first()?;
                let (index, rest) = rest.split_first()?;
                let (group_index, group) =
                    node.groups.iter().enumerate().find(|(_, group)| key.as_str() == Some(&*group.response_key))?;
                let targets = &targets[group_index];
                let rep = *sent[group_index].get(usize::try_from(index.as_u64()?).ok()?)?;
                let target = targets.first_of_rep.get(rep).and_then(|first| targets.entries.get(*first as usize))?;
                let mut full = target_path(group, targets, target);
                full.extend(rest.iter().cloned());
                Some(full)
            });
            state.errors.push(normalize_error(error, &node.service_name, path));
        }
        had_errors
    }

    /// Finds the group's targets in the response tree and builds their
    /// de-duplicated representations.
    fn collect_group(&self, data: &Value, group: &EntityGroup) -> (RepresentationSet, Targets) {
        let mut set = RepresentationSet::default();
        let mut targets = Targets::default();
        let mut indices = Vec::new();
        for (path_index, path) in group.paths.iter().enumerate() {
            visit_path(data, &path.0, self.types, &mut indices, &mut |object: &Map<String, Value>, at: &[usize]| {
                let Some(representation) = representations::build(object, &group.requires, self.types) else {
                    return;
                };
                let mut representation = Value::Object(representation);
                representations::apply_rewrites(&mut representation, &group.input_rewrites, self.types);
                let rep = set.insert(&representation);
                let entry = targets.entries.len() as u32;
                if rep as usize == targets.first_of_rep.len() {
                    targets.first_of_rep.push(entry);
                }
                targets.entries.push(Target { path: path_index as u32, start: targets.indices.len() as u32, rep });
                targets.indices.extend_from_slice(at);
            });
        }
        (set, targets)
    }

    fn merge_entities(
        &self,
        state: &mut ExecutionOutput,
        group: &EntityGroup,
        targets: &Targets,
        mut entities: Vec<Value>,
    ) {
        for entity in &mut entities {
            representations::apply_rewrites(entity, &group.output_rewrites, self.types);
        }
        // Entities sent once but used at several positions are cloned for all
        // but their last position, where they are moved.
        let mut remaining = vec![0u32; entities.len()];
        for target in &targets.entries {
            remaining[target.rep as usize] += 1;
        }
        for target in &targets.entries {
            let rep = target.rep as usize;
            remaining[rep] -= 1;
            let entity = if remaining[rep] == 0 { entities[rep].take() } else { entities[rep].clone() };
            if !entity.is_object() {
                continue;
            }
            let Some(path) = group.paths.get(target.path as usize) else {
                continue;
            };
            let at = target_indices(targets, target, path);
            if let Some(position) = position_mut(&mut state.data, &path.0, at) {
                deep_merge(position, entity, self.types);
            }
        }
    }

    /// Sends a request; failures become `SUBGRAPH_REQUEST_FAILED` errors.
    async fn call(&self, service: &str, body: Bytes) -> Option<SubgraphResponse> {
        let failure = match self.transport.fetch(service, body).await {
            Ok(bytes) => match serde_json::from_slice::<SubgraphResponse>(&bytes) {
                Ok(response) => return Some(response),
                Err(error) => {
                    tracing::warn!(subgraph = service, %error, "subgraph response is not a GraphQL JSON response");
                    format!("Subgraph \"{service}\" returned an invalid response")
                }
            },
            Err(error) => {
                tracing::warn!(subgraph = service, error = %error.message, "subgraph request failed");
                format!("Request to subgraph \"{service}\" failed")
            }
        };
        self.state.lock().errors.push(subgraph_error(failure, codes::SUBGRAPH_REQUEST_FAILED, service));
        None
    }
}

fn target_indices<'t>(targets: &'t Targets, target: &Target, path: &ResponsePath) -> &'t [usize] {
    let start = target.start as usize;
    let end = start + path.list_depth();
    targets.indices.get(start..end).unwrap_or_default()
}

fn target_path(group: &EntityGroup, targets: &Targets, target: &Target) -> Vec<Value> {
    match group.paths.get(target.path as usize) {
        Some(path) => path.concrete(target_indices(targets, target, path)),
        None => Vec::new(),
    }
}

fn error_path(error: &Value) -> Option<&Vec<Value>> {
    error.get("path").and_then(Value::as_array)
}

/// Makes a subgraph error fit for the client: response path (or none when it
/// cannot be mapped), no subgraph-document locations, `serviceName`, and a code.
fn normalize_error(error: Value, service: &str, path: Option<Vec<Value>>) -> Value {
    let mut error = match error {
        Value::Object(error) => error,
        other => {
            let mut error = Map::new();
            error.insert("message".into(), Value::String(other.to_string()));
            error
        }
    };
    if !error.get("message").is_some_and(Value::is_string) {
        error.insert("message".into(), Value::String(format!("Subgraph \"{service}\" returned an error")));
    }
    error.remove("locations");
    match path {
        Some(path) => {
            error.insert("path".into(), Value::Array(path));
        }
        None => {
            error.remove("path");
        }
    }
    let extensions = error.entry("extensions").or_insert_with(|| Value::Object(Map::new()));
    if !extensions.is_object() {
        *extensions = Value::Object(Map::new());
    }
    if let Value::Object(extensions) = extensions {
        if !extensions.get("code").is_some_and(Value::is_string) {
            extensions.insert("code".into(), Value::String(codes::DOWNSTREAM_SERVICE_ERROR.into()));
        }
        extensions.insert("serviceName".into(), Value::String(service.to_owned()));
    }
    Value::Object(error)
}

/// `{"query":...,"variables":{...}}`, spliced from pre-serialized parts.
fn request_body(
    operation_json: &str,
    variable_usages: &[Box<str>],
    variables: &Map<String, Value>,
    representations: &[(&str, &[u8])],
) -> Bytes {
    let capacity = operation_json.len()
        + 32
        + representations.iter().map(|(name, bytes)| name.len() + bytes.len() + 4).sum::<usize>();
    let mut body = Vec::with_capacity(capacity);
    body.extend_from_slice(b"{\"query\":");
    body.extend_from_slice(operation_json.as_bytes());
    let mut has_variables = false;
    let mut open = |body: &mut Vec<u8>| {
        body.extend_from_slice(if has_variables { b"," } else { b",\"variables\":{" });
        has_variables = true;
    };
    for (name, array) in representations {
        open(&mut body);
        write_key(&mut body, name);
        body.extend_from_slice(array);
    }
    for name in variable_usages {
        if let Some(value) = variables.get(&**name) {
            open(&mut body);
            write_key(&mut body, name);
            // Writing a Value into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut body, value);
        }
    }
    if has_variables {
        body.push(b'}');
    }
    body.push(b'}');
    Bytes::from(body)
}

fn write_key(body: &mut Vec<u8>, name: &str) {
    let _ = serde_json::to_writer(&mut *body, name);
    body.push(b':');
}
