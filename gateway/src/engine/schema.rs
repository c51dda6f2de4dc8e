//! Atrium's own read-only index of a GraphQL schema document: types, fields,
//! their wrapped types, possible types of abstract types, enum values and input
//! fields. Built once per supergraph; used by validation, projection, the
//! executor (type conditions) and introspection.

use std::collections::{HashMap, HashSet};
use std::fmt;

use graphql_tools::static_graphql::schema::{self, Definition, TypeDefinition};
use serde_json::Value;

use super::values::const_value_to_json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeKind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

impl TypeKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TypeKind::Scalar => "SCALAR",
            TypeKind::Object => "OBJECT",
            TypeKind::Interface => "INTERFACE",
            TypeKind::Union => "UNION",
            TypeKind::Enum => "ENUM",
            TypeKind::InputObject => "INPUT_OBJECT",
        }
    }

    pub(crate) fn is_composite(self) -> bool {
        matches!(self, TypeKind::Object | TypeKind::Interface | TypeKind::Union)
    }

    pub(crate) fn is_abstract(self) -> bool {
        matches!(self, TypeKind::Interface | TypeKind::Union)
    }
}

/// A possibly wrapped type reference, e.g. `[User!]!`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TypeRef {
    Named(Box<str>),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    pub(crate) fn from_ast(ty: &schema::Type) -> Self {
        match ty {
            schema::Type::NamedType(name) => TypeRef::Named(name.as_str().into()),
            schema::Type::ListType(inner) => TypeRef::List(Box::new(Self::from_ast(inner))),
            schema::Type::NonNullType(inner) => TypeRef::NonNull(Box::new(Self::from_ast(inner))),
        }
    }

    pub(crate) fn named(&self) -> &str {
        match self {
            TypeRef::Named(name) => name,
            TypeRef::List(inner) | TypeRef::NonNull(inner) => inner.named(),
        }
    }

    pub(crate) fn is_non_null(&self) -> bool {
        matches!(self, TypeRef::NonNull(_))
    }
}

impl fmt::Display for TypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeRef::Named(name) => f.write_str(name),
            TypeRef::List(inner) => write!(f, "[{inner}]"),
            TypeRef::NonNull(inner) => write!(f, "{inner}!"),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct InputValueDef {
    pub name: String,
    pub description: Option<String>,
    pub ty: TypeRef,
    /// The default as GraphQL literal text (for introspection).
    pub default_literal: Option<String>,
    /// The default as JSON (for variable and input coercion).
    pub default_json: Option<Value>,
    pub deprecation_reason: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct FieldDef {
    pub name: String,
    pub description: Option<String>,
    pub args: Vec<InputValueDef>,
    pub ty: TypeRef,
    pub deprecation_reason: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct EnumValueDef {
    pub name: String,
    pub description: Option<String>,
    pub deprecation_reason: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct TypeDef {
    pub name: String,
    pub kind: TypeKind,
    pub description: Option<String>,
    pub fields: Vec<FieldDef>,
    pub interfaces: Vec<String>,
    /// Object types an abstract type may resolve to; sorted. Empty for others.
    pub possible_types: Vec<String>,
    pub enum_values: Vec<EnumValueDef>,
    pub input_fields: Vec<InputValueDef>,
    pub specified_by_url: Option<String>,
    pub one_of: bool,
}

impl TypeDef {
    pub(crate) fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|field| field.name == name)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct DirectiveDef {
    pub name: String,
    pub description: Option<String>,
    pub locations: Vec<&'static str>,
    pub args: Vec<InputValueDef>,
    pub repeatable: bool,
}

#[derive(Debug)]
pub(crate) struct SchemaIndex {
    types: HashMap<String, TypeDef>,
    /// Type names in document order, for a stable introspection output.
    type_order: Vec<String>,
    /// Abstract type -> its object types, for O(1) type-condition checks.
    possible: HashMap<String, HashSet<String>>,
    /// Enum type -> its values, for O(1) output coercion of enum values.
    enum_values: HashMap<String, HashSet<String>>,
    pub query_type: String,
    pub mutation_type: Option<String>,
    pub subscription_type: Option<String>,
    pub directives: Vec<DirectiveDef>,
}

const BUILTIN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

fn deprecation_reason(directives: &[schema::Directive]) -> Option<String> {
    directives.iter().find(|directive| directive.name == "deprecated").map(|directive| {
        directive
            .arguments
            .iter()
            .find(|(name, _)| name == "reason")
            .and_then(|(_, value)| match value {
                schema::Value::String(reason) => Some(reason.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "No longer supported".to_owned())
    })
}

fn input_value(value: &schema::InputValue) -> InputValueDef {
    InputValueDef {
        name: value.name.clone(),
        description: value.description.clone(),
        ty: TypeRef::from_ast(&value.value_type),
        default_literal: value.default_value.as_ref().map(ToString::to_string),
        default_json: value.default_value.as_ref().map(const_value_to_json),
        deprecation_reason: deprecation_reason(&value.directives),
    }
}

fn field_def(field: &schema::Field) -> FieldDef {
    FieldDef {
        name: field.name.clone(),
        description: field.description.clone(),
        args: field.arguments.iter().map(input_value).collect(),
        ty: TypeRef::from_ast(&field.field_type),
        deprecation_reason: deprecation_reason(&field.directives),
    }
}

fn empty_type(name: &str, kind: TypeKind, description: Option<String>) -> TypeDef {
    TypeDef {
        name: name.to_owned(),
        kind,
        description,
        fields: Vec::new(),
        interfaces: Vec::new(),
        possible_types: Vec::new(),
        enum_values: Vec::new(),
        input_fields: Vec::new(),
        specified_by_url: None,
        one_of: false,
    }
}

impl SchemaIndex {
    pub(crate) fn new(document: &schema::Document) -> Self {
        let mut types: HashMap<String, TypeDef> = HashMap::new();
        let mut type_order = Vec::new();
        let mut directives = Vec::new();
        let mut roots = (None, None, None);

        for definition in &document.definitions {
            match definition {
                Definition::SchemaDefinition(def) => {
                    roots = (def.query.clone(), def.mutation.clone(), def.subscription.clone());
                }
                Definition::TypeDefinition(def) => {
                    let type_def = match def {
                        TypeDefinition::Scalar(scalar) => {
                            let mut t = empty_type(&scalar.name, TypeKind::Scalar, scalar.description.clone());
                            t.specified_by_url = scalar
                                .directives
                                .iter()
                                .find(|d| d.name == "specifiedBy")
                                .and_then(|d| d.arguments.iter().find(|(n, _)| n == "url"))
                                .and_then(|(_, v)| match v {
                                    schema::Value::String(url) => Some(url.clone()),
                                    _ => None,
                                });
                            t
                        }
                        TypeDefinition::Object(object) => {
                            let mut t = empty_type(&object.name, TypeKind::Object, object.description.clone());
                            t.fields = object.fields.iter().map(field_def).collect();
                            t.interfaces = object.implements_interfaces.clone();
                            t
                        }
                        TypeDefinition::Interface(interface) => {
                            let mut t = empty_type(&interface.name, TypeKind::Interface, interface.description.clone());
                            t.fields = interface.fields.iter().map(field_def).collect();
                            t.interfaces = interface.implements_interfaces.clone();
                            t
                        }
                        TypeDefinition::Union(union) => {
                            let mut t = empty_type(&union.name, TypeKind::Union, union.description.clone());
                            t.possible_types = union.types.clone();
                            t
                        }
                        TypeDefinition::Enum(enum_type) => {
                            let mut t = empty_type(&enum_type.name, TypeKind::Enum, enum_type.description.clone());
                            t.enum_values = enum_type
                                .values
                                .iter()
                                .map(|value| EnumValueDef {
                                    name: value.name.clone(),
                                    description: value.description.clone(),
                                    deprecation_reason: deprecation_reason(&value.directives),
                                })
                                .collect();
                            t
                        }
                        TypeDefinition::InputObject(input) => {
                            let mut t = empty_type(&input.name, TypeKind::InputObject, input.description.clone());
                            t.input_fields = input.fields.iter().map(input_value).collect();
                            t.one_of = input.directives.iter().any(|d| d.name == "oneOf");
                            t
                        }
                    };
                    if !types.contains_key(&type_def.name) {
                        type_order.push(type_def.name.clone());
                    }
                    types.insert(type_def.name.clone(), type_def);
                }
                Definition::DirectiveDefinition(def) => directives.push(DirectiveDef {
                    name: def.name.clone(),
                    description: def.description.clone(),
                    locations: def.locations.iter().map(|l| l.as_str()).collect(),
                    args: def.arguments.iter().map(input_value).collect(),
                    repeatable: def.repeatable,
                }),
                Definition::TypeExtension(_) => {}
            }
        }

        for scalar in BUILTIN_SCALARS {
            if !types.contains_key(scalar) {
                type_order.push(scalar.to_owned());
                types.insert(scalar.to_owned(), empty_type(scalar, TypeKind::Scalar, None));
            }
        }

        // Interfaces learn their implementers from the objects.
        let implementations: Vec<(String, String)> = types
            .values()
            .filter(|t| t.kind == TypeKind::Object)
            .flat_map(|t| t.interfaces.iter().map(move |interface| (interface.clone(), t.name.clone())))
            .collect();
        for (interface, object) in implementations {
            if let Some(t) = types.get_mut(&interface) {
                t.possible_types.push(object);
            }
        }
        let mut possible = HashMap::new();
        for t in types.values_mut() {
            t.possible_types.sort();
            t.possible_types.dedup();
            if !t.possible_types.is_empty() {
                possible.insert(t.name.clone(), t.possible_types.iter().cloned().collect::<HashSet<_>>());
            }
        }

        let enum_values = types
            .values()
            .filter(|t| t.kind == TypeKind::Enum)
            .map(|t| (t.name.clone(), t.enum_values.iter().map(|value| value.name.clone()).collect()))
            .collect();

        // A root named in `schema {}` counts only if the type exists.
        let pick = |explicit: Option<String>, conventional: &str| {
            explicit.or_else(|| Some(conventional.to_owned())).filter(|name| types.contains_key(name))
        };
        let query_type = pick(roots.0, "Query").unwrap_or_else(|| "Query".to_owned());
        let mutation_type = pick(roots.1, "Mutation");
        let subscription_type = pick(roots.2, "Subscription");

        Self { types, type_order, possible, enum_values, query_type, mutation_type, subscription_type, directives }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name)
    }

    /// Types in document order.
    pub(crate) fn types(&self) -> impl Iterator<Item = &TypeDef> {
        self.type_order.iter().filter_map(|name| self.types.get(name))
    }

    pub(crate) fn kind_of(&self, name: &str) -> Option<TypeKind> {
        self.types.get(name).map(|t| t.kind)
    }

    /// Whether `value` is a value of the enum `enum_type` in this schema. In the
    /// API schema, `@inaccessible` values are not.
    pub(crate) fn has_enum_value(&self, enum_type: &str, value: &str) -> bool {
        self.enum_values.get(enum_type).is_some_and(|values| values.contains(value))
    }

    /// Whether an object of type `object_type` matches the type condition `condition`.
    pub(crate) fn type_condition_matches(&self, condition: &str, object_type: &str) -> bool {
        condition == object_type || self.possible.get(condition).is_some_and(|objects| objects.contains(object_type))
    }
}
