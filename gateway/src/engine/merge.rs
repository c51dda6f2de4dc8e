//! The response tree during execution: walking flatten paths to the objects a
//! fetch targets, and deep-merging subgraph results into them.

use serde_json::{Map, Value};

use super::plan::PathSegment;
use super::schema::{SchemaIndex, TypeKind};

/// Calls `visit` for every object reached by `path` from `current`, with the
/// list indices taken on the way (one per `@`). Nulls and shapes that do not
/// match the path are skipped: there is nothing to fetch for them.
pub(crate) fn visit_path<F>(
    current: &Value,
    path: &[PathSegment],
    types: &SchemaIndex,
    indices: &mut Vec<usize>,
    visit: &mut F,
) where
    F: FnMut(&Map<String, Value>, &[usize]),
{
    let Some((segment, rest)) = path.split_first() else {
        if let Value::Object(object) = current {
            visit(object, indices);
        }
        return;
    };
    match segment {
        PathSegment::Field(key) => {
            if let Some(child) = current.as_object().and_then(|object| object.get(&**key)) {
                visit_path(child, rest, types, indices, visit);
            }
        }
        PathSegment::List => {
            if let Value::Array(items) = current {
                for (index, item) in items.iter().enumerate() {
                    indices.push(index);
                    visit_path(item, rest, types, indices, visit);
                    indices.pop();
                }
            }
        }
        PathSegment::TypeCondition(expected) => {
            let matches = current
                .get("__typename")
                .and_then(Value::as_str)
                .is_some_and(|name| expected.iter().any(|condition| types.type_condition_matches(condition, name)));
            if matches {
                visit_path(current, rest, types, indices, visit);
            }
        }
    }
}

/// The value at one position found by [`visit_path`].
pub(crate) fn position_mut<'v>(
    mut current: &'v mut Value,
    path: &[PathSegment],
    indices: &[usize],
) -> Option<&'v mut Value> {
    let mut indices = indices.iter();
    for segment in path {
        current = match segment {
            PathSegment::Field(key) => current.as_object_mut()?.get_mut(&**key)?,
            PathSegment::List => current.as_array_mut()?.get_mut(*indices.next()?)?,
            PathSegment::TypeCondition(_) => current,
        };
    }
    Some(current)
}

/// Deep-merges `source` into `target`, moving (not cloning) the source tree.
pub(crate) fn deep_merge(target: &mut Value, source: Value, types: &SchemaIndex) {
    match (target, source) {
        (Value::Object(target), Value::Object(source)) => merge_objects(target, source, types),
        (Value::Array(target), Value::Array(source)) if target.len() == source.len() => {
            for (target, source) in target.iter_mut().zip(source) {
                deep_merge(target, source, types);
            }
        }
        // A null from a later fetch does not erase what another subgraph resolved.
        (target, Value::Null) if target.is_object() || target.is_array() => {}
        (target, source) => *target = source,
    }
}

fn merge_objects(target: &mut Map<String, Value>, source: Map<String, Value>, types: &SchemaIndex) {
    for (key, value) in source {
        match target.get_mut(&key) {
            Some(existing) if key == "__typename" => {
                // An @interfaceObject subgraph answers with the interface's name;
                // the concrete type learned elsewhere must win.
                let names_interface =
                    value.as_str().and_then(|name| types.kind_of(name)).is_some_and(|kind| kind == TypeKind::Interface);
                if !names_interface {
                    *existing = value;
                }
            }
            Some(existing) => deep_merge(existing, value, types),
            None => {
                target.insert(key, value);
            }
        }
    }
}
