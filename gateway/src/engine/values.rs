//! Conversions between GraphQL literal values (from parsed documents) and JSON.

use graphql_tools::static_graphql::query;
use serde_json::{Map, Number, Value};

/// A literal from a schema (defaults); variables cannot occur there.
pub(crate) fn const_value_to_json(value: &query::Value) -> Value {
    value_to_json(value, &Map::new())
}

/// A literal from an operation; `$var` resolves against `variables` (absent -> null).
pub(crate) fn value_to_json(value: &query::Value, variables: &Map<String, Value>) -> Value {
    match value {
        query::Value::Variable(name) => variables.get(name).cloned().unwrap_or(Value::Null),
        query::Value::Int(number) => number.as_i64().map(|n| Value::Number(n.into())).unwrap_or(Value::Null),
        query::Value::Float(float) => Number::from_f64(*float).map(Value::Number).unwrap_or(Value::Null),
        query::Value::String(string) => Value::String(string.clone()),
        query::Value::Boolean(boolean) => Value::Bool(*boolean),
        query::Value::Null => Value::Null,
        query::Value::Enum(name) => Value::String(name.clone()),
        query::Value::List(items) => Value::Array(items.iter().map(|item| value_to_json(item, variables)).collect()),
        query::Value::Object(fields) => {
            Value::Object(fields.iter().map(|(name, item)| (name.clone(), value_to_json(item, variables))).collect())
        }
    }
}
