//! Turns each subgraph's Federation v2 SDL into a [`Subgraph`]: resolves the
//! `@link` import renames, reads the federation directives into typed fields,
//! keeps only the composed directives, and drops federation plumbing
//! (`_Any`, `_Entity`, `_Service`, `_service`, `_entities`, `FieldSet`,
//! `link__*`, directive definitions, `extend`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_graphql_parser::Positioned;
use async_graphql_parser::types::{
    BaseType, ConstDirective, FieldDefinition, InputValueDefinition, Type, TypeDefinition, TypeKind as AstKind,
    TypeSystemDefinition,
};
use async_graphql_value::ConstValue;

use super::SubgraphDefinition;
use super::directives::{AppliedDirective, composed};
use super::error::CompositionError;
use super::names::graph_enum_value;
use super::subgraph::{
    EnumValueDef, FieldDef, InputValue, Key, MUTATION, QUERY, SUBSCRIPTION, Subgraph, TypeDef, TypeKind, TypeRef,
};

const FEDERATION_SPEC_PREFIX: &str = "https://specs.apollo.dev/federation/v2";

/// Federation directives we read; anything else not in the composed table is dropped.
const FEDERATION_DIRECTIVES: &[&str] = &[
    "key",
    "external",
    "requires",
    "provides",
    "shareable",
    "override",
    "inaccessible",
    "tag",
    "interfaceObject",
    "extends",
    "composeDirective",
    "requiresScopes",
    "authenticated",
    "policy",
];

/// Types that exist only to serve the federation protocol to the router.
/// `FieldSet` is only plumbing as a scalar: an object of that name is the
/// subgraph's own.
fn is_plumbing_type(ty: &TypeDefinition) -> bool {
    let name = ty.name.node.as_str();
    matches!(name, "_Any" | "_Entity" | "_Service")
        || (matches!(name, "FieldSet" | "_FieldSet") && matches!(ty.kind, AstKind::Scalar))
        || name.starts_with("federation__")
        || name.starts_with("link__")
        || name.starts_with("join__")
        || name.starts_with("__")
}

/// Parses and validates the subgraph list; the result is ordered by subgraph name.
pub(crate) fn parse_subgraphs(definitions: &[SubgraphDefinition]) -> Result<Vec<Subgraph>, CompositionError> {
    if definitions.is_empty() {
        return Err(CompositionError::NoSubgraphs);
    }
    let mut sorted: Vec<&SubgraphDefinition> = definitions.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));

    let mut graphs: HashMap<String, &str> = HashMap::new();
    let mut subgraphs = Vec::with_capacity(sorted.len());
    for (index, definition) in sorted.iter().enumerate() {
        if index > 0 && sorted[index - 1].name == definition.name {
            return Err(CompositionError::DuplicateSubgraph { name: definition.name.clone() });
        }
        let graph = graph_enum_value(&definition.name)
            .ok_or_else(|| CompositionError::InvalidSubgraphName { name: definition.name.clone() })?;
        if let Some(first) = graphs.insert(graph.clone(), &definition.name) {
            return Err(CompositionError::GraphNameCollision {
                first: first.to_string(),
                second: definition.name.clone(),
                graph,
            });
        }
        subgraphs.push(parse_subgraph(definition, graph)?);
    }
    Ok(subgraphs)
}

fn parse_subgraph(definition: &SubgraphDefinition, graph: String) -> Result<Subgraph, CompositionError> {
    let subgraph = definition.name.as_str();
    let document = async_graphql_parser::parse_schema(&definition.sdl)
        .map_err(|error| CompositionError::InvalidSdl { subgraph: subgraph.to_string(), message: error.to_string() })?;

    let mut names = None;
    for item in &document.definitions {
        if let TypeSystemDefinition::Schema(schema) = item {
            let schema = &schema.node;
            for (operation, root, default) in [
                ("query", &schema.query, QUERY),
                ("mutation", &schema.mutation, MUTATION),
                ("subscription", &schema.subscription, SUBSCRIPTION),
            ] {
                if let Some(root) = root
                    && root.node.as_str() != default
                {
                    return Err(CompositionError::UnsupportedRootType {
                        subgraph: subgraph.to_string(),
                        operation: operation.to_string(),
                        type_name: root.node.to_string(),
                    });
                }
            }
            for directive in &schema.directives {
                if let Some(found) = DirectiveNames::from_link(&directive.node) {
                    names = Some(found);
                }
            }
        }
    }
    let names = names.ok_or_else(|| CompositionError::NotFederationV2 { subgraph: subgraph.to_string() })?;

    let reader = Reader { subgraph, names };
    let mut types: BTreeMap<String, TypeDef> = BTreeMap::new();
    for item in &document.definitions {
        let TypeSystemDefinition::Type(ty) = item else {
            continue;
        };
        let ty = &ty.node;
        if is_plumbing_type(ty) {
            continue;
        }
        let parsed = reader.type_def(ty)?;
        match types.get_mut(&parsed.name) {
            Some(existing) => reader.extend(existing, parsed)?,
            None => {
                types.insert(parsed.name.clone(), parsed);
            }
        }
    }

    Ok(Subgraph { name: subgraph.to_string(), url: definition.url.clone(), graph, types })
}

/// Maps directive names as written in one subgraph to canonical federation names.
struct DirectiveNames {
    imported: HashMap<String, String>,
    prefix: String,
}

impl DirectiveNames {
    fn from_link(directive: &ConstDirective) -> Option<Self> {
        if directive.name.node.as_str() != "link" {
            return None;
        }
        let url = match directive.get_argument("url").map(|v| &v.node) {
            Some(ConstValue::String(url)) => url,
            _ => return None,
        };
        if !url.starts_with(FEDERATION_SPEC_PREFIX) {
            return None;
        }
        let prefix = match directive.get_argument("as").map(|v| &v.node) {
            Some(ConstValue::String(alias)) => alias.clone(),
            _ => "federation".to_string(),
        };
        let mut imported = HashMap::new();
        if let Some(ConstValue::List(imports)) = directive.get_argument("import").map(|v| &v.node) {
            for import in imports {
                let (name, alias) = match import {
                    ConstValue::String(name) => (name.clone(), name.clone()),
                    ConstValue::Object(fields) => {
                        let Some(ConstValue::String(name)) = fields.get("name") else {
                            continue;
                        };
                        let alias = match fields.get("as") {
                            Some(ConstValue::String(alias)) => alias.clone(),
                            _ => name.clone(),
                        };
                        (name.clone(), alias)
                    }
                    _ => continue,
                };
                if let (Some(name), Some(alias)) = (name.strip_prefix('@'), alias.strip_prefix('@')) {
                    imported.insert(alias.to_string(), name.to_string());
                }
            }
        }
        Some(Self { imported, prefix })
    }

    /// The canonical name of a directive application, or `None` when it is
    /// neither a federation directive nor a composed built-in.
    fn canonical(&self, written: &str) -> Option<String> {
        if let Some(name) = self.imported.get(written) {
            return FEDERATION_DIRECTIVES.contains(&name.as_str()).then(|| name.clone());
        }
        if let Some(name) = written.strip_prefix(self.prefix.as_str()).and_then(|rest| rest.strip_prefix("__")) {
            return FEDERATION_DIRECTIVES.contains(&name).then(|| name.to_string());
        }
        // Built-ins such as @deprecated are never renamed.
        (!FEDERATION_DIRECTIVES.contains(&written) && composed(written).is_some()).then(|| written.to_string())
    }
}

/// Reads AST definitions of one subgraph into the model.
struct Reader<'a> {
    subgraph: &'a str,
    names: DirectiveNames,
}

/// Federation directives on one element, by canonical name.
struct Directives<'d> {
    found: Vec<(String, &'d ConstDirective)>,
}

impl<'d> Directives<'d> {
    fn has(&self, name: &str) -> bool {
        self.found.iter().any(|(n, _)| n == name)
    }

    fn all(&self, name: &'d str) -> impl Iterator<Item = &'d ConstDirective> + '_ {
        self.found.iter().filter(move |(n, _)| n == name).map(|(_, d)| *d)
    }

    fn composed(&self) -> Vec<AppliedDirective> {
        self.found
            .iter()
            .filter(|(name, _)| composed(name).is_some())
            .map(|(name, directive)| AppliedDirective {
                name: name.clone(),
                args: directive
                    .arguments
                    .iter()
                    .map(|(arg, value)| (arg.node.to_string(), value.node.to_string()))
                    .collect(),
            })
            .collect()
    }
}

impl Reader<'_> {
    fn directives<'d>(&self, applied: &'d [Positioned<ConstDirective>]) -> Directives<'d> {
        Directives {
            found: applied
                .iter()
                .filter_map(|d| self.names.canonical(&d.node.name.node).map(|name| (name, &d.node)))
                .collect(),
        }
    }

    fn string_arg(&self, directive: &ConstDirective, arg: &str, coordinate: &str) -> Result<String, CompositionError> {
        match directive.get_argument(arg).map(|v| &v.node) {
            Some(ConstValue::String(value)) => Ok(value.clone()),
            _ => Err(CompositionError::InvalidDirective {
                subgraph: self.subgraph.to_string(),
                coordinate: coordinate.to_string(),
                directive: directive.name.node.to_string(),
                reason: format!("argument `{arg}` must be a string"),
            }),
        }
    }

    fn type_def(&self, ty: &TypeDefinition) -> Result<TypeDef, CompositionError> {
        let name = ty.name.node.to_string();
        let directives = self.directives(&ty.directives);
        let extension = ty.extend || directives.has("extends");
        let mut keys = Vec::new();
        for key in directives.all("key") {
            let resolvable = match key.get_argument("resolvable").map(|v| &v.node) {
                Some(ConstValue::Boolean(value)) => Some(*value),
                _ => None,
            };
            keys.push(Key { fields: self.string_arg(key, "fields", &name)?, resolvable, extension });
        }
        let interface_object = directives.has("interfaceObject");
        // A type-level @external makes every field of that definition external.
        let all_external = directives.has("external");

        let mut def = TypeDef {
            name: name.clone(),
            description: ty.description.as_ref().map(|d| d.node.clone()),
            kind: TypeKind::Scalar,
            keys,
            shareable: directives.has("shareable"),
            interface_object,
            implements: Vec::new(),
            fields: Vec::new(),
            input_fields: Vec::new(),
            members: Vec::new(),
            values: Vec::new(),
            directives: directives.composed(),
        };
        match &ty.kind {
            AstKind::Scalar => {}
            AstKind::Object(object) => {
                def.kind = if interface_object { TypeKind::Interface } else { TypeKind::Object };
                def.implements = object.implements.iter().map(|i| i.node.to_string()).collect();
                def.fields = self.fields(&name, &object.fields, all_external)?;
            }
            AstKind::Interface(interface) => {
                def.kind = TypeKind::Interface;
                def.implements = interface.implements.iter().map(|i| i.node.to_string()).collect();
                def.fields = self.fields(&name, &interface.fields, all_external)?;
            }
            AstKind::Union(union) => {
                def.kind = TypeKind::Union;
                def.members = union.members.iter().map(|m| m.node.to_string()).collect();
            }
            AstKind::Enum(enumeration) => {
                def.kind = TypeKind::Enum;
                def.values = enumeration
                    .values
                    .iter()
                    .map(|value| EnumValueDef {
                        name: value.node.value.node.to_string(),
                        description: value.node.description.as_ref().map(|d| d.node.clone()),
                        directives: self.directives(&value.node.directives).composed(),
                    })
                    .collect();
            }
            AstKind::InputObject(input) => {
                def.kind = TypeKind::InputObject;
                def.input_fields = input.fields.iter().map(|field| self.input_value(&field.node)).collect();
            }
        }
        Ok(def)
    }

    fn fields(
        &self,
        type_name: &str,
        fields: &[Positioned<FieldDefinition>],
        all_external: bool,
    ) -> Result<Vec<FieldDef>, CompositionError> {
        let mut parsed = Vec::with_capacity(fields.len());
        for field in fields {
            let field = &field.node;
            let name = field.name.node.to_string();
            let is_protocol_field = type_name == QUERY && matches!(name.as_str(), "_service" | "_entities");
            if is_protocol_field || name.starts_with("__") {
                continue;
            }
            let coordinate = format!("{type_name}.{name}");
            let directives = self.directives(&field.directives);
            let fieldset = |directive: &str| -> Result<Option<String>, CompositionError> {
                directives.all(directive).next().map(|d| self.string_arg(d, "fields", &coordinate)).transpose()
            };
            let override_from =
                directives.all("override").next().map(|d| self.string_arg(d, "from", &coordinate)).transpose()?;
            parsed.push(FieldDef {
                description: field.description.as_ref().map(|d| d.node.clone()),
                args: field.arguments.iter().map(|arg| self.input_value(&arg.node)).collect(),
                ty: type_ref(&field.ty.node),
                external: all_external || directives.has("external"),
                shareable: directives.has("shareable"),
                requires: fieldset("requires")?,
                provides: fieldset("provides")?,
                override_from,
                directives: directives.composed(),
                name,
            });
        }
        Ok(parsed)
    }

    fn input_value(&self, value: &InputValueDefinition) -> InputValue {
        InputValue {
            name: value.name.node.to_string(),
            description: value.description.as_ref().map(|d| d.node.clone()),
            ty: type_ref(&value.ty.node),
            default: value.default_value.as_ref().map(|v| v.node.to_string()),
            directives: self.directives(&value.directives).composed(),
        }
    }

    /// Folds a second definition of the same type (`extend type`, repeated
    /// definitions) into the first.
    fn extend(&self, existing: &mut TypeDef, more: TypeDef) -> Result<(), CompositionError> {
        if existing.kind != more.kind {
            return Err(CompositionError::InvalidSdl {
                subgraph: self.subgraph.to_string(),
                message: format!(
                    "type {:?} is defined both as {} and as {}",
                    existing.name,
                    existing.kind.describe(),
                    more.kind.describe()
                ),
            });
        }
        let seen: BTreeSet<String> = existing.fields.iter().map(|f| f.name.clone()).collect();
        for field in more.fields {
            if seen.contains(&field.name) {
                return Err(CompositionError::InvalidSdl {
                    subgraph: self.subgraph.to_string(),
                    message: format!("field \"{}.{}\" is defined twice", existing.name, field.name),
                });
            }
            existing.fields.push(field);
        }
        existing.description = existing.description.take().or(more.description);
        existing.keys.extend(more.keys);
        existing.shareable |= more.shareable;
        existing.interface_object |= more.interface_object;
        existing.implements.extend(more.implements);
        existing.input_fields.extend(more.input_fields);
        existing.members.extend(more.members);
        existing.values.extend(more.values);
        existing.directives.extend(more.directives);
        Ok(())
    }
}

fn type_ref(ty: &Type) -> TypeRef {
    let base = match &ty.base {
        BaseType::Named(name) => TypeRef::Named(name.to_string()),
        BaseType::List(inner) => TypeRef::List(Box::new(type_ref(inner))),
    };
    if ty.nullable { base } else { TypeRef::NonNull(Box::new(base)) }
}
