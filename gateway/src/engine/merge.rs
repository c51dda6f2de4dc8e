//! The response tree during execution: walking flatten paths to the objects a
//! fetch targets, and deep-merging subgraph results into them.

use serde_json::{Map, Value};

use super::plan::PathSegment;
use super::schema::{SchemaIndex, TypeKind};

/// Objects up to this many keys are searched by comparing keys in order: response
/// objects are small, and hashing a key (SipHash, the map's hasher) costs more than a
/// handful of short comparisons.
const LINEAR_LOOKUP_MAX: usize = 12;

/// The value at `key`, found by scanning small objects and hashing only in large ones.
pub(crate) fn field_mut<'m>(object: &'m mut Map<String, Value>, key: &str) -> Option<&'m mut Value> {
    if object.len() <= LINEAR_LOOKUP_MAX {
        object.iter_mut().find_map(|(name, value)| (name == key).then_some(value))
    } else {
        object.get_mut(key)
    }
}

/// Read-only [`field_mut`].
pub(crate) fn field<'m>(object: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    if object.len() <= LINEAR_LOOKUP_MAX {
        object.iter().find_map(|(name, value)| (name == key).then_some(value))
    } else {
        object.get(key)
    }
}

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
            if let Some(child) = current.as_object().and_then(|object| field(object, key)) {
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
                .as_object()
                .and_then(|object| field(object, "__typename"))
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
            PathSegment::Field(key) => field_mut(current.as_object_mut()?, key)?,
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
        match field_mut(target, &key) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_lookups_agree_with_the_map_for_small_and_large_objects() {
        for size in [1, LINEAR_LOOKUP_MAX, LINEAR_LOOKUP_MAX + 1, 40] {
            let mut object: Map<String, Value> =
                (0..size).map(|index| (format!("k{index}"), Value::from(index))).collect();
            for index in 0..size {
                let key = format!("k{index}");
                assert_eq!(field(&object, &key), object.get(&key));
                *field_mut(&mut object, &key).unwrap() = Value::from(index * 2);
                assert_eq!(object[&key], Value::from(index * 2));
            }
            assert_eq!(field(&object, "absent"), None);
            assert!(field_mut(&mut object, "absent").is_none());
        }
    }
}
