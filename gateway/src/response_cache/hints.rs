//! Cache hints read from the supergraph: every composed `@cacheControl(maxAge:)` on a
//! type or a field, the field types an operation walk needs, and which object types can
//! stand behind an interface or union (change events name object types).

use std::collections::{HashMap, HashSet};

use graphql_tools::static_graphql::schema::{self, Definition, TypeDefinition};

const CACHE_CONTROL: &str = "cacheControl";

#[derive(Debug, Default)]
pub(crate) struct CacheHints {
    /// `(parent type, field) → named type of the field`.
    field_types: HashMap<(String, String), String>,
    /// Object, interface and union names: the types whose values are entities or
    /// carry them, and so name what an answer depends on.
    composite: HashSet<String>,
    /// Interface or union name → object types that can stand behind it.
    possible: HashMap<String, Vec<String>>,
    type_max_age: HashMap<String, u32>,
    field_max_age: HashMap<(String, String), u32>,
}

impl CacheHints {
    pub(crate) fn from_supergraph(document: &schema::Document) -> Self {
        let mut hints = CacheHints::default();
        for definition in &document.definitions {
            let Definition::TypeDefinition(definition) = definition else { continue };
            match definition {
                TypeDefinition::Object(object) => {
                    hints.composite.insert(object.name.clone());
                    for interface in &object.implements_interfaces {
                        hints.possible.entry(interface.clone()).or_default().push(object.name.clone());
                    }
                    hints.read_type(&object.name, &object.directives, &object.fields);
                }
                TypeDefinition::Interface(interface) => {
                    hints.composite.insert(interface.name.clone());
                    hints.read_type(&interface.name, &interface.directives, &interface.fields);
                }
                TypeDefinition::Union(union) => {
                    hints.composite.insert(union.name.clone());
                    hints.possible.entry(union.name.clone()).or_default().extend(union.types.iter().cloned());
                }
                _ => {}
            }
        }
        hints
    }

    fn read_type(&mut self, name: &str, directives: &[schema::Directive], fields: &[schema::Field]) {
        if let Some(max_age) = max_age_of(directives) {
            self.type_max_age.insert(name.to_owned(), max_age);
        }
        for field in fields {
            let key = (name.to_owned(), field.name.clone());
            if let Some(max_age) = max_age_of(&field.directives) {
                self.field_max_age.insert(key.clone(), max_age);
            }
            self.field_types.insert(key, named_type(&field.field_type).to_owned());
        }
    }

    pub(crate) fn field_type(&self, parent: &str, field: &str) -> Option<&str> {
        self.field_types.get(&(parent.to_owned(), field.to_owned())).map(String::as_str)
    }

    pub(crate) fn is_composite(&self, type_name: &str) -> bool {
        self.composite.contains(type_name)
    }

    /// The type itself and, for an interface or union, every object type behind it.
    pub(crate) fn concrete_types<'a>(&'a self, type_name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        std::iter::once(type_name).chain(self.possible.get(type_name).into_iter().flatten().map(String::as_str))
    }

    /// The hint that applies to selecting `field` on `parent`: the field's own, else
    /// the hint of the (composite) type it returns.
    pub(crate) fn max_age(&self, parent: &str, field: &str, returns: &str) -> Option<u32> {
        self.field_max_age
            .get(&(parent.to_owned(), field.to_owned()))
            .or_else(|| self.type_max_age.get(returns))
            .copied()
    }

    pub(crate) fn type_max_age(&self, type_name: &str) -> Option<u32> {
        self.type_max_age.get(type_name).copied()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.type_max_age.is_empty() && self.field_max_age.is_empty()
    }
}

/// `maxAge` of a `@cacheControl` among `directives`; an unreadable value is 0 (never
/// cached), so a mistyped hint fails towards freshness.
fn max_age_of(directives: &[schema::Directive]) -> Option<u32> {
    let directive = directives.iter().find(|directive| directive.name == CACHE_CONTROL)?;
    let value = directive.arguments.iter().find(|(name, _)| name == "maxAge").map(|(_, value)| value);
    Some(match value {
        Some(schema::Value::Int(number)) => number.as_i64().and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
        _ => 0,
    })
}

fn named_type(ty: &schema::Type) -> &str {
    match ty {
        schema::Type::NamedType(name) => name,
        schema::Type::ListType(inner) | schema::Type::NonNullType(inner) => named_type(inner),
    }
}
