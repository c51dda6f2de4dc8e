//! Answers `__schema` and `__type(name:)` from the API schema, walking the
//! client's compiled selection. (`__typename` is answered by projection.)

use serde_json::{Map, Value};

use super::schema::{DirectiveDef, EnumValueDef, FieldDef, InputValueDef, SchemaIndex, TypeDef, TypeKind, TypeRef};
use super::selection_plan::{Children, FieldKind, FieldPlan, SelectionPlan};
use super::values::value_to_json;

#[derive(Clone, Copy)]
enum Node<'s> {
    Schema,
    Type(TypeNode<'s>),
    Field(&'s FieldDef),
    InputValue(&'s InputValueDef),
    EnumValue(&'s EnumValueDef),
    Directive(&'s DirectiveDef),
}

#[derive(Clone, Copy)]
enum TypeNode<'s> {
    Named(&'s TypeDef),
    List(&'s TypeRef),
    NonNull(&'s TypeRef),
}

impl Node<'_> {
    fn typename(&self) -> &'static str {
        match self {
            Node::Schema => "__Schema",
            Node::Type(_) => "__Type",
            Node::Field(_) => "__Field",
            Node::InputValue(_) => "__InputValue",
            Node::EnumValue(_) => "__EnumValue",
            Node::Directive(_) => "__Directive",
        }
    }
}

struct Resolver<'s> {
    schema: &'s SchemaIndex,
    variables: &'s Map<String, Value>,
}

/// Resolves a root `__schema` or `__type` field into its response value.
pub(crate) fn resolve_root_field(schema: &SchemaIndex, field: &FieldPlan, variables: &Map<String, Value>) -> Value {
    let resolver = Resolver { schema, variables };
    match field.kind {
        FieldKind::Schema => resolver.nest(Node::Schema, field),
        FieldKind::Type => {
            let name = resolver.argument(field, "name");
            match name.as_ref().and_then(Value::as_str).and_then(|name| schema.get(name)) {
                Some(type_def) => resolver.nest(Node::Type(TypeNode::Named(type_def)), field),
                None => Value::Null,
            }
        }
        FieldKind::Typename | FieldKind::Data => Value::Null,
    }
}

fn string(value: &Option<String>) -> Value {
    value.clone().map(Value::String).unwrap_or(Value::Null)
}

impl<'s> Resolver<'s> {
    fn argument(&self, field: &FieldPlan, name: &str) -> Option<Value> {
        field.arguments.iter().find(|(arg, _)| &**arg == name).map(|(_, value)| value_to_json(value, self.variables))
    }

    fn include_deprecated(&self, field: &FieldPlan) -> bool {
        matches!(self.argument(field, "includeDeprecated"), Some(Value::Bool(true)))
    }

    fn object(&self, node: Node<'s>, plan: &SelectionPlan) -> Value {
        let mut out = Map::with_capacity(plan.fields.len());
        for field in &plan.fields {
            if !field.inclusion.holds(self.variables) {
                continue;
            }
            let value = match field.kind {
                FieldKind::Typename => Value::String(node.typename().to_owned()),
                _ => self.field(node, field),
            };
            out.insert(field.response_key.to_string(), value);
        }
        Value::Object(out)
    }

    /// The value of an object-typed field: `node` shaped by the field's selection.
    fn nest(&self, node: Node<'s>, field: &FieldPlan) -> Value {
        match &field.children {
            Children::Object(plan) => self.object(node, plan),
            Children::Abstract(children) => self.object(node, &children.fallback),
            Children::Leaf | Children::Enum => Value::Null,
        }
    }

    fn list(&self, nodes: impl Iterator<Item = Node<'s>>, field: &FieldPlan) -> Value {
        Value::Array(nodes.map(|node| self.nest(node, field)).collect())
    }

    fn type_ref(&self, ty: &'s TypeRef) -> Option<Node<'s>> {
        Some(Node::Type(match ty {
            TypeRef::Named(name) => TypeNode::Named(self.schema.get(name)?),
            TypeRef::List(inner) => TypeNode::List(inner),
            TypeRef::NonNull(inner) => TypeNode::NonNull(inner),
        }))
    }

    fn named(&self, name: &str) -> Option<Node<'s>> {
        self.schema.get(name).map(|type_def| Node::Type(TypeNode::Named(type_def)))
    }

    fn nest_opt(&self, node: Option<Node<'s>>, field: &FieldPlan) -> Value {
        node.map(|node| self.nest(node, field)).unwrap_or(Value::Null)
    }

    fn field(&self, node: Node<'s>, field: &FieldPlan) -> Value {
        let name = &*field.name;
        match node {
            Node::Schema => match name {
                "types" => self.list(self.schema.types().map(|type_def| Node::Type(TypeNode::Named(type_def))), field),
                "queryType" => self.nest_opt(self.named(&self.schema.query_type), field),
                "mutationType" => match &self.schema.mutation_type {
                    Some(name) => self.nest_opt(self.named(name), field),
                    None => Value::Null,
                },
                "subscriptionType" => match &self.schema.subscription_type {
                    Some(name) => self.nest_opt(self.named(name), field),
                    None => Value::Null,
                },
                "directives" => self.list(self.schema.directives.iter().map(Node::Directive), field),
                _ => Value::Null,
            },
            Node::Type(type_node) => self.type_field(type_node, field),
            Node::Field(def) => match name {
                "name" => Value::String(def.name.clone()),
                "description" => string(&def.description),
                "args" => {
                    let all = self.include_deprecated(field);
                    self.list(
                        def.args.iter().filter(|arg| all || arg.deprecation_reason.is_none()).map(Node::InputValue),
                        field,
                    )
                }
                "type" => self.nest_opt(self.type_ref(&def.ty), field),
                "isDeprecated" => Value::Bool(def.deprecation_reason.is_some()),
                "deprecationReason" => string(&def.deprecation_reason),
                _ => Value::Null,
            },
            Node::InputValue(def) => match name {
                "name" => Value::String(def.name.clone()),
                "description" => string(&def.description),
                "type" => self.nest_opt(self.type_ref(&def.ty), field),
                "defaultValue" => string(&def.default_literal),
                "isDeprecated" => Value::Bool(def.deprecation_reason.is_some()),
                "deprecationReason" => string(&def.deprecation_reason),
                _ => Value::Null,
            },
            Node::EnumValue(def) => match name {
                "name" => Value::String(def.name.clone()),
                "description" => string(&def.description),
                "isDeprecated" => Value::Bool(def.deprecation_reason.is_some()),
                "deprecationReason" => string(&def.deprecation_reason),
                _ => Value::Null,
            },
            Node::Directive(def) => match name {
                "name" => Value::String(def.name.clone()),
                "description" => string(&def.description),
                "locations" => {
                    Value::Array(def.locations.iter().map(|location| Value::String((*location).to_owned())).collect())
                }
                "args" => {
                    let all = self.include_deprecated(field);
                    self.list(
                        def.args.iter().filter(|arg| all || arg.deprecation_reason.is_none()).map(Node::InputValue),
                        field,
                    )
                }
                "isRepeatable" => Value::Bool(def.repeatable),
                _ => Value::Null,
            },
        }
    }

    fn type_field(&self, node: TypeNode<'s>, field: &FieldPlan) -> Value {
        let name = &*field.name;
        let type_def = match node {
            TypeNode::Named(type_def) => type_def,
            TypeNode::List(inner) | TypeNode::NonNull(inner) => {
                return match name {
                    "kind" => {
                        Value::String(if matches!(node, TypeNode::List(_)) { "LIST" } else { "NON_NULL" }.to_owned())
                    }
                    "ofType" => self.nest_opt(self.type_ref(inner), field),
                    _ => Value::Null,
                };
            }
        };
        match name {
            "kind" => Value::String(type_def.kind.as_str().to_owned()),
            "name" => Value::String(type_def.name.clone()),
            "description" => string(&type_def.description),
            "specifiedByURL" => string(&type_def.specified_by_url),
            "fields" if matches!(type_def.kind, TypeKind::Object | TypeKind::Interface) => {
                let all = self.include_deprecated(field);
                self.list(
                    type_def
                        .fields
                        .iter()
                        .filter(|f| !f.name.starts_with("__"))
                        .filter(|f| all || f.deprecation_reason.is_none())
                        .map(Node::Field),
                    field,
                )
            }
            "interfaces" if matches!(type_def.kind, TypeKind::Object | TypeKind::Interface) => {
                self.list(type_def.interfaces.iter().filter_map(|name| self.named(name)), field)
            }
            "possibleTypes" if type_def.kind.is_abstract() => {
                self.list(type_def.possible_types.iter().filter_map(|name| self.named(name)), field)
            }
            "enumValues" if type_def.kind == TypeKind::Enum => {
                let all = self.include_deprecated(field);
                self.list(
                    type_def.enum_values.iter().filter(|v| all || v.deprecation_reason.is_none()).map(Node::EnumValue),
                    field,
                )
            }
            "inputFields" if type_def.kind == TypeKind::InputObject => {
                let all = self.include_deprecated(field);
                self.list(
                    type_def
                        .input_fields
                        .iter()
                        .filter(|v| all || v.deprecation_reason.is_none())
                        .map(Node::InputValue),
                    field,
                )
            }
            "isOneOf" if type_def.kind == TypeKind::InputObject => Value::Bool(type_def.one_of),
            _ => Value::Null,
        }
    }
}
