//! Entity representations: built from response objects with a fetch's
//! `requires` selection, rewritten with its input rewrites, and de-duplicated so
//! each distinct entity is sent once per `_entities` field.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::merge::{field, field_mut};
use super::plan::{InputItem, InputSelection, Rewrite, RewriteSegment};
use super::schema::SchemaIndex;

/// Builds the representation of `source`, or `None` when the object is not an
/// entity of this fetch (no type condition matched) or lacks a required field
/// (an earlier fetch failed).
pub(crate) fn build(
    source: &Map<String, Value>,
    requires: &InputSelection,
    types: &SchemaIndex,
) -> Option<Map<String, Value>> {
    let mut out = Map::new();
    select_into(source, requires, types, &mut out)?;
    (!out.is_empty()).then_some(out)
}

fn select_into(
    source: &Map<String, Value>,
    selection: &InputSelection,
    types: &SchemaIndex,
    out: &mut Map<String, Value>,
) -> Option<()> {
    let typename = field(source, "__typename").and_then(Value::as_str);
    for item in &selection.0 {
        match item {
            InputItem::Field { source_key, output_key, selection } => {
                let value = field(source, source_key)?;
                let value = match selection {
                    None => value.clone(),
                    Some(selection) => select_value(value, selection, types)?,
                };
                match field_mut(out, output_key) {
                    // The same key reached through two fragments: keep the union.
                    Some(Value::Object(existing)) => {
                        if let Value::Object(more) = value {
                            for (key, value) in more {
                                existing.entry(key).or_insert(value);
                            }
                        }
                    }
                    Some(_) => {}
                    None => {
                        out.insert(output_key.to_string(), value);
                    }
                }
            }
            InputItem::Fragment { type_condition, selection } => {
                let applies = typename.is_none_or(|name| types.type_condition_matches(type_condition, name));
                if applies {
                    select_into(source, selection, types, out)?;
                }
            }
        }
    }
    Some(())
}

fn select_value(value: &Value, selection: &InputSelection, types: &SchemaIndex) -> Option<Value> {
    match value {
        Value::Object(object) => {
            let mut out = Map::new();
            select_into(object, selection, types, &mut out)?;
            Some(Value::Object(out))
        }
        Value::Array(items) => {
            items.iter().map(|item| select_value(item, selection, types)).collect::<Option<Vec<_>>>().map(Value::Array)
        }
        other => Some(other.clone()),
    }
}

/// Applies input or output rewrites in place.
pub(crate) fn apply_rewrites(value: &mut Value, rewrites: &[Rewrite], types: &SchemaIndex) {
    for rewrite in rewrites {
        match rewrite {
            Rewrite::SetValue { path, value: to } => set_value(value, path, to, types),
            Rewrite::RenameKey { path, to } => rename_key(value, path, to, types),
        }
    }
}

fn typename_matches(value: &Value, expected: &[Box<str>], types: &SchemaIndex) -> bool {
    match value.get("__typename").and_then(Value::as_str) {
        Some(name) => expected.iter().any(|condition| types.type_condition_matches(condition, name)),
        // Without a typename there is nothing to tell the types apart with.
        None => true,
    }
}

fn set_value(current: &mut Value, path: &[RewriteSegment], to: &str, types: &SchemaIndex) {
    if let Value::Array(items) = current {
        for item in items {
            set_value(item, path, to, types);
        }
        return;
    }
    let Some((first, rest)) = path.split_first() else {
        *current = Value::String(to.to_owned());
        return;
    };
    match first {
        RewriteSegment::TypenameEquals(expected) => {
            if typename_matches(current, expected, types) {
                set_value(current, rest, to, types);
            }
        }
        RewriteSegment::Key(key) => {
            let Value::Object(object) = current else {
                return;
            };
            if rest.is_empty() {
                object.insert(key.to_string(), Value::String(to.to_owned()));
            } else if let Some(child) = object.get_mut(&**key) {
                set_value(child, rest, to, types);
            }
        }
    }
}

fn rename_key(current: &mut Value, path: &[RewriteSegment], to: &str, types: &SchemaIndex) {
    if let Value::Array(items) = current {
        for item in items {
            rename_key(item, path, to, types);
        }
        return;
    }
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    match first {
        RewriteSegment::TypenameEquals(expected) => {
            if typename_matches(current, expected, types) {
                rename_key(current, rest, to, types);
            }
        }
        RewriteSegment::Key(key) => {
            let Value::Object(object) = current else {
                return;
            };
            if rest.is_empty() {
                if let Some(value) = object.remove(&**key) {
                    object.insert(to.to_owned(), value);
                }
            } else if let Some(child) = object.get_mut(&**key) {
                rename_key(child, rest, to, types);
            }
        }
    }
}

/// De-duplicates serialized representations; the subgraph gets them as a JSON array.
#[derive(Debug, Default)]
pub(crate) struct RepresentationSet {
    /// Every distinct representation's JSON, back to back.
    buffer: Vec<u8>,
    /// Where each representation sits in `buffer`, by index.
    spans: Vec<std::ops::Range<usize>>,
    seen: HashMap<Vec<u8>, u32>,
}

impl RepresentationSet {
    /// Adds a representation; returns its index.
    pub(crate) fn insert(&mut self, representation: &Value) -> u32 {
        let bytes = match serde_json::to_vec(representation) {
            Ok(bytes) => bytes,
            // Values built from parsed JSON always serialize.
            Err(_) => b"null".to_vec(),
        };
        if let Some(index) = self.seen.get(&bytes) {
            return *index;
        }
        let start = self.buffer.len();
        self.buffer.extend_from_slice(&bytes);
        self.spans.push(start..self.buffer.len());
        let index = self.spans.len() as u32 - 1;
        self.seen.insert(bytes, index);
        index
    }

    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// Each representation's JSON, in index order.
    pub(crate) fn representations(&self) -> Vec<&[u8]> {
        self.spans.iter().map(|span| &self.buffer[span.clone()]).collect()
    }

    /// The JSON array of the representations at `indices`, in that order.
    pub(crate) fn subset(&self, indices: &[usize]) -> Vec<u8> {
        let mut array = Vec::with_capacity(self.buffer.len() + indices.len() + 2);
        array.push(b'[');
        for (position, index) in indices.iter().enumerate() {
            if position > 0 {
                array.push(b',');
            }
            array.extend_from_slice(&self.buffer[self.spans[*index].clone()]);
        }
        array.push(b']');
        array
    }
}
