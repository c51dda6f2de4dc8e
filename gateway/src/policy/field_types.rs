//! What the cost model needs to know about the API schema: for each field of each
//! composite type, the named type it returns, whether that is a list, and the default
//! of its slicing argument. Built once from the API schema SDL at startup.

use std::collections::HashMap;

use graphql_tools::parser::schema::{self, Definition, TypeDefinition, Value};

#[derive(Debug, thiserror::Error)]
#[error("the API schema does not parse: {0}")]
pub struct SchemaParseError(String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldShape {
    pub type_name: String,
    /// Whether the field returns a list (at any wrapping level).
    pub is_list: bool,
    /// The schema default of the first slicing argument that has an integer default.
    pub slicing_default: Option<u64>,
}

#[derive(Debug, Default)]
pub(crate) struct FieldTypes {
    pub query_type: String,
    pub mutation_type: String,
    pub subscription_type: String,
    /// Object, interface and union types (unions have no fields of their own); every
    /// other named type is a leaf.
    composite: HashMap<String, HashMap<String, FieldShape>>,
}

impl FieldTypes {
    pub(crate) fn from_sdl(sdl: &str, slicing_arguments: &[String]) -> Result<Self, SchemaParseError> {
        let document =
            graphql_tools::parser::parse_schema::<&str>(sdl).map_err(|error| SchemaParseError(error.to_string()))?;
        let mut types = FieldTypes {
            query_type: "Query".to_owned(),
            mutation_type: "Mutation".to_owned(),
            subscription_type: "Subscription".to_owned(),
            composite: HashMap::new(),
        };
        for definition in &document.definitions {
            match definition {
                Definition::SchemaDefinition(roots) => {
                    let set = |target: &mut String, name: Option<&str>| {
                        if let Some(name) = name {
                            name.clone_into(target);
                        }
                    };
                    set(&mut types.query_type, roots.query);
                    set(&mut types.mutation_type, roots.mutation);
                    set(&mut types.subscription_type, roots.subscription);
                }
                Definition::TypeDefinition(TypeDefinition::Object(object)) => {
                    types.add_fields(object.name, &object.fields, slicing_arguments);
                }
                Definition::TypeDefinition(TypeDefinition::Interface(interface)) => {
                    types.add_fields(interface.name, &interface.fields, slicing_arguments);
                }
                Definition::TypeDefinition(TypeDefinition::Union(union)) => {
                    types.composite.entry(union.name.to_owned()).or_default();
                }
                _ => {}
            }
        }
        Ok(types)
    }

    fn add_fields<'a>(&mut self, type_name: &str, fields: &[schema::Field<'a, &'a str>], slicing_arguments: &[String]) {
        let entry = self.composite.entry(type_name.to_owned()).or_default();
        for field in fields {
            let (named, is_list) = unwrap_type(&field.field_type);
            let slicing_default = field
                .arguments
                .iter()
                .filter(|argument| slicing_arguments.iter().any(|name| name == argument.name))
                .find_map(|argument| match &argument.default_value {
                    Some(Value::Int(number)) => number.as_i64().and_then(|value| u64::try_from(value).ok()),
                    _ => None,
                });
            entry.insert(field.name.to_owned(), FieldShape { type_name: named.to_owned(), is_list, slicing_default });
        }
    }

    pub(crate) fn field(&self, type_name: &str, field_name: &str) -> Option<&FieldShape> {
        self.composite.get(type_name)?.get(field_name)
    }

    pub(crate) fn is_composite(&self, type_name: &str) -> bool {
        self.composite.contains_key(type_name)
    }
}

fn unwrap_type<'a>(ty: &schema::Type<'a, &'a str>) -> (&'a str, bool) {
    match ty {
        schema::Type::NamedType(name) => (name, false),
        schema::Type::NonNullType(inner) => unwrap_type(inner),
        schema::Type::ListType(inner) => (unwrap_type(inner).0, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_list_shapes_slicing_defaults_and_root_names() {
        let sdl = "schema { query: Root }\n\
                   type Root { items(first: Int = 25): [Item!]! page(first: Int): Page! count: Int }\n\
                   type Page { nodes: [Item!]! }\n\
                   interface Node { id: ID! }\n\
                   union Thing = Item | Page\n\
                   type Item implements Node { id: ID! tags: [[String]] }";
        let types = FieldTypes::from_sdl(sdl, &["first".to_owned()]).unwrap();
        assert_eq!(types.query_type, "Root");
        assert_eq!(types.mutation_type, "Mutation");
        let items = types.field("Root", "items").unwrap();
        assert_eq!((items.type_name.as_str(), items.is_list, items.slicing_default), ("Item", true, Some(25)));
        let page = types.field("Root", "page").unwrap();
        assert_eq!((page.is_list, page.slicing_default), (false, None));
        assert!(types.field("Item", "tags").unwrap().is_list);
        assert!(types.is_composite("Thing") && types.is_composite("Node") && !types.is_composite("ID"));
    }
}
