//! Authorization requirements read from the supergraph: every `@requiresScopes` on a
//! field or a type, folded into one requirement per selectable field coordinate and per
//! type condition, and the field types an operation walk needs. Scopes are role names:
//! a requirement `[["finance"], ["tenant_admin"]]` is met by a caller holding every
//! role of any one inner list.

use std::collections::{BTreeSet, HashMap};

use graphql_tools::static_graphql::schema::{self, Definition, TypeDefinition};

const REQUIRES_SCOPES: &str = "requiresScopes";

/// One `@requiresScopes` application: alternatives (OR) of role sets (AND).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScopeRequirement {
    alternatives: Vec<BTreeSet<String>>,
}

impl ScopeRequirement {
    #[cfg(test)]
    pub(crate) fn new(alternatives: &[&[&str]]) -> Self {
        let alternatives =
            alternatives.iter().map(|all| all.iter().map(|scope| (*scope).to_owned()).collect()).collect();
        Self { alternatives }
    }

    /// Reads the `scopes` argument; GraphQL list coercion applies (`"a"` is `[["a"]]`).
    /// Anything else is a requirement no caller meets.
    fn from_directive(directive: &schema::Directive) -> Self {
        let scope_set = |value: &schema::Value| match value {
            schema::Value::String(scope) => Some(BTreeSet::from([scope.clone()])),
            schema::Value::List(scopes) => scopes
                .iter()
                .map(|scope| match scope {
                    schema::Value::String(scope) => Some(scope.clone()),
                    _ => None,
                })
                .collect(),
            _ => None,
        };
        let alternatives =
            directive.arguments.iter().find(|(name, _)| name == "scopes").and_then(|(_, value)| match value {
                schema::Value::List(sets) => sets.iter().map(scope_set).collect(),
                single => scope_set(single).map(|set| set.into_iter().map(|s| BTreeSet::from([s])).collect()),
            });
        Self { alternatives: alternatives.unwrap_or_default() }
    }

    pub(crate) fn is_met_by(&self, roles: &[String]) -> bool {
        self.alternatives.iter().any(|all| all.iter().all(|scope| roles.iter().any(|role| role == scope)))
    }
}

/// Every requirement of a selection; the caller must meet all of them.
pub(crate) type Requirements = Vec<ScopeRequirement>;

pub(crate) fn all_met(requirements: &Requirements, roles: &[String]) -> bool {
    requirements.iter().all(|requirement| requirement.is_met_by(roles))
}

/// A field's type as the walk needs it: the named type and how many lists wrap it.
#[derive(Debug, Clone)]
pub(crate) struct FieldType {
    pub named: String,
    pub list_depth: usize,
}

#[derive(Debug, Default)]
pub(crate) struct AuthorizationRules {
    /// `type name → field name → type`, for object and interface types.
    fields: HashMap<String, HashMap<String, FieldType>>,
    /// `(parent type, field)` selections with requirements.
    pub(crate) protected_fields: HashMap<(String, String), Requirements>,
    /// Type conditions (fragments) with requirements.
    pub(crate) protected_types: HashMap<String, Requirements>,
}

impl AuthorizationRules {
    pub(crate) fn from_supergraph(document: &schema::Document) -> Self {
        let mut fields: HashMap<String, HashMap<String, FieldType>> = HashMap::new();
        let mut field_requirements: HashMap<(String, String), ScopeRequirement> = HashMap::new();
        let mut type_requirements: HashMap<String, ScopeRequirement> = HashMap::new();
        let mut implementations: HashMap<String, Vec<String>> = HashMap::new();
        for definition in &document.definitions {
            let Definition::TypeDefinition(definition) = definition else { continue };
            let (name, directives, type_fields) = match definition {
                TypeDefinition::Object(object) => {
                    for interface in &object.implements_interfaces {
                        implementations.entry(interface.clone()).or_default().push(object.name.clone());
                    }
                    (&object.name, &object.directives, Some(&object.fields))
                }
                TypeDefinition::Interface(interface) => {
                    (&interface.name, &interface.directives, Some(&interface.fields))
                }
                TypeDefinition::Scalar(scalar) => (&scalar.name, &scalar.directives, None),
                TypeDefinition::Enum(enumeration) => (&enumeration.name, &enumeration.directives, None),
                TypeDefinition::Union(union) => (&union.name, &union.directives, None),
                TypeDefinition::InputObject(_) => continue,
            };
            if let Some(directive) = directives.iter().find(|d| d.name == REQUIRES_SCOPES) {
                type_requirements.insert(name.clone(), ScopeRequirement::from_directive(directive));
            }
            for field in type_fields.into_iter().flatten() {
                fields.entry(name.clone()).or_default().insert(field.name.clone(), field_type(&field.field_type));
                if let Some(directive) = field.directives.iter().find(|d| d.name == REQUIRES_SCOPES) {
                    field_requirements
                        .insert((name.clone(), field.name.clone()), ScopeRequirement::from_directive(directive));
                }
            }
        }

        // A field needs its own requirement and its type's; on an interface, also
        // those of every implementation's field and type, since they answer it.
        let mut protected_fields = HashMap::new();
        for (parent, parent_fields) in &fields {
            let answering: Vec<&String> = match implementations.get(parent) {
                Some(objects) => std::iter::once(parent).chain(objects).collect(),
                None => vec![parent],
            };
            for (field, ty) in parent_fields {
                let mut requirements: Requirements = Vec::new();
                for object in &answering {
                    requirements.extend(field_requirements.get(&((*object).clone(), field.clone())).cloned());
                    if *object != parent {
                        requirements.extend(type_requirements.get(*object).cloned());
                    }
                }
                requirements.extend(type_requirements.get(&ty.named).cloned());
                if !requirements.is_empty() {
                    protected_fields.insert((parent.clone(), field.clone()), requirements);
                }
            }
        }
        let protected_types =
            type_requirements.into_iter().map(|(name, requirement)| (name, vec![requirement])).collect();
        Self { fields, protected_fields, protected_types }
    }

    pub(crate) fn field_type(&self, parent: &str, field: &str) -> Option<&FieldType> {
        self.fields.get(parent)?.get(field)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.protected_fields.is_empty() && self.protected_types.is_empty()
    }
}

fn field_type(ty: &schema::Type) -> FieldType {
    match ty {
        schema::Type::NamedType(name) => FieldType { named: name.clone(), list_depth: 0 },
        schema::Type::NonNullType(inner) => field_type(inner),
        schema::Type::ListType(inner) => {
            let inner = field_type(inner);
            FieldType { list_depth: inner.list_depth + 1, ..inner }
        }
    }
}
