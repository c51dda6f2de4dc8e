//! Request validation before planning: parsing, GraphQL validation against the
//! API schema (graphql-tools' rule set), operation selection, and per-request
//! variable coercion.

use graphql_tools::static_graphql::{query, schema};
use graphql_tools::validation::rules::default_rules_validation_plan;
use graphql_tools::validation::validate::validate;
use serde_json::{Map, Value};

use super::errors::{RequestError, codes};
use super::plan::OperationKind;
use super::schema::{SchemaIndex, TypeKind, TypeRef};
use super::values::const_value_to_json;

/// Deepest `{`/`[`/`(` nesting accepted. The parser, validation and planner
/// all recurse per level; this keeps a hostile document from exhausting the
/// stack long before any of them run.
const MAX_NESTING: usize = 128;

pub(crate) fn parse(text: &str) -> Result<query::Document, RequestError> {
    check_nesting(text, MAX_NESTING)?;
    graphql_tools::parser::parse_query::<String>(text).map(|document| document.into_static()).map_err(|error| {
        let position = error.0.position;
        RequestError::new(codes::GRAPHQL_PARSE_FAILED, format!("Syntax error: {}", error.to_string().trim()))
            .with_location(position.line, position.column)
    })
}

/// Rejects documents nested deeper than `max`, skipping strings and comments.
fn check_nesting(text: &str, max: usize) -> Result<(), RequestError> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // `\"""` is an escaped triple quote inside a block string.
                    i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > max {
                    return Err(RequestError::new(
                        codes::MAX_DEPTH_EXCEEDED,
                        format!("The document is nested deeper than {max} levels."),
                    ));
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

pub(crate) fn validate_document(api: &schema::Document, document: &query::Document) -> Result<(), RequestError> {
    let plan = default_rules_validation_plan();
    let errors = validate(api, document, &plan);
    match errors.into_iter().next() {
        None => Ok(()),
        Some(first) => {
            let mut error = RequestError::new(codes::GRAPHQL_VALIDATION_FAILED, first.message);
            for location in first.locations {
                error = error.with_location(location.line, location.column);
            }
            Err(error)
        }
    }
}

/// The parts of the operation to execute.
pub(crate) struct SelectedOperation<'d> {
    pub kind: OperationKind,
    pub name: Option<&'d str>,
    pub variables: &'d [query::VariableDefinition],
    pub selection_set: &'d query::SelectionSet,
}

pub(crate) fn select_operation<'d>(
    document: &'d query::Document,
    operation_name: Option<&str>,
) -> Result<SelectedOperation<'d>, RequestError> {
    let operations = document.definitions.iter().filter_map(|definition| match definition {
        query::Definition::Operation(operation) => Some(operation),
        query::Definition::Fragment(_) => None,
    });
    let mut selected = None;
    let mut count = 0;
    for operation in operations {
        count += 1;
        let parts = operation_parts(operation);
        let matches = match operation_name {
            Some(wanted) => parts.name == Some(wanted),
            None => true,
        };
        if matches && selected.is_none() {
            selected = Some(parts);
        }
    }
    match (selected, operation_name) {
        (Some(_), None) if count > 1 => Err(RequestError::new(
            codes::OPERATION_NAME_INVALID,
            "Must provide operation name if query contains multiple operations.",
        )),
        (Some(operation), _) => Ok(operation),
        (None, Some(name)) => {
            Err(RequestError::new(codes::OPERATION_NAME_INVALID, format!("Unknown operation named \"{name}\".")))
        }
        (None, None) => Err(RequestError::new(codes::GRAPHQL_VALIDATION_FAILED, "The document contains no operation.")),
    }
}

fn operation_parts(operation: &query::OperationDefinition) -> SelectedOperation<'_> {
    match operation {
        query::OperationDefinition::SelectionSet(selection_set) => {
            SelectedOperation { kind: OperationKind::Query, name: None, variables: &[], selection_set }
        }
        query::OperationDefinition::Query(q) => SelectedOperation {
            kind: OperationKind::Query,
            name: q.name.as_deref(),
            variables: &q.variable_definitions,
            selection_set: &q.selection_set,
        },
        query::OperationDefinition::Mutation(m) => SelectedOperation {
            kind: OperationKind::Mutation,
            name: m.name.as_deref(),
            variables: &m.variable_definitions,
            selection_set: &m.selection_set,
        },
        query::OperationDefinition::Subscription(s) => SelectedOperation {
            kind: OperationKind::Subscription,
            name: s.name.as_deref(),
            variables: &s.variable_definitions,
            selection_set: &s.selection_set,
        },
    }
}

/// A variable definition of the prepared operation.
#[derive(Debug)]
pub(crate) struct VariableDef {
    pub name: Box<str>,
    pub ty: TypeRef,
    pub default: Option<Value>,
}

impl VariableDef {
    pub(crate) fn from_ast(definition: &query::VariableDefinition) -> Self {
        Self {
            name: definition.name.as_str().into(),
            ty: TypeRef::from_ast(&definition.var_type),
            default: definition.default_value.as_ref().map(const_value_to_json),
        }
    }
}

/// Checks the provided variables against their definitions and fills in
/// defaults. Variables the operation does not define are dropped.
pub(crate) fn coerce_variables(
    definitions: &[VariableDef],
    provided: &Map<String, Value>,
    schema: &SchemaIndex,
) -> Result<Map<String, Value>, RequestError> {
    let mut coerced = Map::with_capacity(definitions.len());
    for definition in definitions {
        match provided.get(&*definition.name) {
            Some(value) => {
                check_input(value, &definition.ty, schema).map_err(|reason| {
                    RequestError::new(
                        codes::BAD_USER_INPUT,
                        format!("Variable \"${}\" got invalid value {}; {reason}", definition.name, value),
                    )
                })?;
                coerced.insert(definition.name.to_string(), value.clone());
            }
            None => match &definition.default {
                Some(default) => {
                    coerced.insert(definition.name.to_string(), default.clone());
                }
                None if definition.ty.is_non_null() => {
                    return Err(RequestError::new(
                        codes::BAD_USER_INPUT,
                        format!(
                            "Variable \"${}\" of required type \"{}\" was not provided.",
                            definition.name, definition.ty
                        ),
                    ));
                }
                None => {}
            },
        }
    }
    Ok(coerced)
}

fn check_input(value: &Value, ty: &TypeRef, schema: &SchemaIndex) -> Result<(), String> {
    match ty {
        TypeRef::NonNull(inner) => {
            if value.is_null() {
                Err(format!("Expected non-nullable type \"{ty}\" not to be null."))
            } else {
                check_input(value, inner, schema)
            }
        }
        TypeRef::List(inner) => match value {
            Value::Null => Ok(()),
            Value::Array(items) => items.iter().enumerate().try_for_each(|(index, item)| {
                check_input(item, inner, schema).map_err(|reason| format!("at index {index}: {reason}"))
            }),
            // Input coercion accepts a single item for a list.
            single => check_input(single, inner, schema),
        },
        TypeRef::Named(name) => {
            if value.is_null() {
                return Ok(());
            }
            let Some(type_def) = schema.get(name) else {
                return Err(format!("Unknown type \"{name}\"."));
            };
            match type_def.kind {
                TypeKind::Scalar => check_scalar(name, value),
                TypeKind::Enum => match value.as_str() {
                    Some(v) if type_def.enum_values.iter().any(|e| e.name == v) => Ok(()),
                    _ => Err(format!("Value does not exist in \"{name}\" enum.")),
                },
                TypeKind::InputObject => {
                    let Value::Object(fields) = value else {
                        return Err(format!("Expected type \"{name}\" to be an object."));
                    };
                    if let Some(unknown) =
                        fields.keys().find(|key| !type_def.input_fields.iter().any(|f| f.name == **key))
                    {
                        return Err(format!("Field \"{unknown}\" is not defined by type \"{name}\"."));
                    }
                    if type_def.one_of && (fields.len() != 1 || fields.values().any(Value::is_null)) {
                        return Err(format!("Exactly one non-null field must be given for \"{name}\"."));
                    }
                    for field in &type_def.input_fields {
                        match fields.get(&field.name) {
                            Some(field_value) => check_input(field_value, &field.ty, schema)
                                .map_err(|reason| format!("at \"{}\": {reason}", field.name))?,
                            None if field.ty.is_non_null() && field.default_json.is_none() => {
                                return Err(format!(
                                    "Field \"{}\" of required type \"{}\" was not provided.",
                                    field.name, field.ty
                                ));
                            }
                            None => {}
                        }
                    }
                    Ok(())
                }
                TypeKind::Object | TypeKind::Interface | TypeKind::Union => {
                    Err(format!("\"{name}\" is not an input type."))
                }
            }
        }
    }
}

fn check_scalar(name: &str, value: &Value) -> Result<(), String> {
    let ok = match name {
        "Int" => match value {
            Value::Number(number) => number
                .as_i64()
                .or_else(|| number.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .is_some_and(|n| i32::try_from(n).is_ok()),
            _ => false,
        },
        "Float" => value.is_number(),
        "String" => value.is_string(),
        "Boolean" => value.is_boolean(),
        "ID" => value.is_string() || value.is_i64() || value.is_u64(),
        // Custom scalars are the subgraphs' to validate.
        _ => true,
    };
    if ok { Ok(()) } else { Err(format!("\"{name}\" cannot represent value {value}")) }
}
