//! Federation rules that make a composition plannable, each failing with a
//! [`CompositionError`] that names the subgraphs, type and field involved:
//! type kinds agree, referenced types exist, field sets select real fields,
//! `@requires` reads `@external` fields, every entity has a resolvable key
//! somewhere, fields resolved by several subgraphs are shareable, and every
//! `@external` field is resolved by someone.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::error::CompositionError;
use super::fieldset::{self, Selection};
use super::subgraph::{FieldDef, Sources, Subgraph, TypeDef, TypeKind, is_root_type};

const BUILTIN_SCALARS: &[&str] = &["String", "Int", "Float", "Boolean", "ID"];

/// Checks that only need the parsed subgraphs.
pub(crate) fn check_subgraphs(subgraphs: &[Subgraph]) -> Result<(), CompositionError> {
    let known: HashSet<&str> = subgraphs
        .iter()
        .flat_map(|s| s.types.keys().map(String::as_str))
        .chain(BUILTIN_SCALARS.iter().copied())
        .collect();
    for subgraph in subgraphs {
        check_type_references(subgraph, &known)?;
        check_field_sets(subgraph)?;
    }
    check_resolvable_entities(subgraphs)
}

fn check_type_references(subgraph: &Subgraph, known: &HashSet<&str>) -> Result<(), CompositionError> {
    let unknown = |coordinate: String, type_name: &str| CompositionError::UnknownType {
        subgraph: subgraph.name.clone(),
        coordinate,
        type_name: type_name.to_string(),
    };
    for def in subgraph.types.values() {
        for name in def.implements.iter().chain(&def.members) {
            if !known.contains(name.as_str()) {
                return Err(unknown(format!("type {:?}", def.name), name));
            }
        }
        for field in &def.fields {
            let coordinate = format!("\"{}.{}\"", def.name, field.name);
            if !known.contains(field.ty.named()) {
                return Err(unknown(coordinate, field.ty.named()));
            }
            for arg in &field.args {
                if !known.contains(arg.ty.named()) {
                    return Err(unknown(format!("\"{}.{}({}:)\"", def.name, field.name, arg.name), arg.ty.named()));
                }
            }
        }
        for field in &def.input_fields {
            if !known.contains(field.ty.named()) {
                return Err(unknown(format!("\"{}.{}\"", def.name, field.name), field.ty.named()));
            }
        }
    }
    Ok(())
}

/// Walks a field set against one subgraph, turning failures into errors.
fn walk_field_set(
    subgraph: &Subgraph,
    directive: &'static str,
    coordinate: &str,
    type_name: &str,
    fields: &str,
    visit: &mut dyn FnMut(&str, &str),
) -> Result<Vec<Selection>, CompositionError> {
    let selections = fieldset::parse(fields).map_err(|reason| CompositionError::InvalidFieldSet {
        subgraph: subgraph.name.clone(),
        directive,
        coordinate: coordinate.to_string(),
        fields: fields.to_string(),
        reason,
    })?;
    fieldset::walk(subgraph, type_name, &selections, visit).map_err(|(type_name, field)| {
        CompositionError::UnknownFieldInFieldSet {
            subgraph: subgraph.name.clone(),
            directive,
            coordinate: coordinate.to_string(),
            fields: fields.to_string(),
            missing: format!("{type_name}.{field}"),
        }
    })?;
    Ok(selections)
}

fn check_field_sets(subgraph: &Subgraph) -> Result<(), CompositionError> {
    for def in subgraph.types.values() {
        for key in &def.keys {
            walk_field_set(subgraph, "key", &format!("type {:?}", def.name), &def.name, &key.fields, &mut |_, _| {})?;
        }
        for field in &def.fields {
            let coordinate = format!("\"{}.{}\"", def.name, field.name);
            if let Some(requires) = &field.requires {
                let selections =
                    walk_field_set(subgraph, "requires", &coordinate, &def.name, requires, &mut |_, _| {})?;
                check_required_are_external(subgraph, def, field, requires, &selections)?;
            }
            if let Some(provides) = &field.provides {
                walk_field_set(subgraph, "provides", &coordinate, field.ty.named(), provides, &mut |_, _| {})?;
            }
        }
    }
    Ok(())
}

/// A subgraph cannot require what it resolves itself: the router fetches
/// required fields from the subgraphs that own them.
fn check_required_are_external(
    subgraph: &Subgraph,
    def: &TypeDef,
    field: &FieldDef,
    requires: &str,
    selections: &[Selection],
) -> Result<(), CompositionError> {
    for selection in selections {
        let Selection::Field { name, .. } = selection else { continue };
        let required_is_external = def.field(name).is_some_and(|f| f.external);
        if name != "__typename" && !required_is_external {
            return Err(CompositionError::RequiresNonExternalField {
                subgraph: subgraph.name.clone(),
                type_name: def.name.clone(),
                field: field.name.clone(),
                fields: requires.to_string(),
                required: name.clone(),
            });
        }
    }
    Ok(())
}

/// An entity whose every key is `resolvable: false` can be referenced but
/// never fetched by key, so nothing outside its parent subgraph reaches it.
fn check_resolvable_entities(subgraphs: &[Subgraph]) -> Result<(), CompositionError> {
    let mut keyed: HashMap<&str, (bool, BTreeSet<&str>)> = HashMap::new();
    for subgraph in subgraphs {
        for def in subgraph.types.values().filter(|d| d.is_entity()) {
            let entry = keyed.entry(def.name.as_str()).or_default();
            entry.0 |= def.keys.iter().any(|k| k.is_resolvable());
            entry.1.insert(subgraph.name.as_str());
        }
    }
    let mut unresolvable: Vec<(&str, BTreeSet<&str>)> = keyed
        .into_iter()
        .filter(|(_, (resolvable, _))| !resolvable)
        .map(|(name, (_, subgraphs))| (name, subgraphs))
        .collect();
    unresolvable.sort();
    match unresolvable.into_iter().next() {
        Some((type_name, subgraphs)) => Err(CompositionError::UnresolvableEntity {
            type_name: type_name.to_string(),
            subgraphs: subgraphs.into_iter().map(str::to_string).collect(),
        }),
        None => Ok(()),
    }
}

/// All definitions of a type must be of one kind.
pub(crate) fn check_kinds(
    subgraphs: &[Subgraph],
    name: &str,
    sources: &Sources<'_>,
) -> Result<TypeKind, CompositionError> {
    let kind = sources.first().map(|(_, d)| d.kind).unwrap_or(TypeKind::Scalar);
    if sources.iter().all(|(_, d)| d.kind == kind) {
        return Ok(kind);
    }
    Err(CompositionError::TypeKindMismatch {
        type_name: name.to_string(),
        kinds: sources
            .iter()
            .map(|(i, d)| format!("{} in {:?}", d.kind.describe(), subgraphs[*i].name))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Fields that are shareable without saying so, as Apollo computes them:
/// every field a `@key` selects (nested ones too), and every `@external`
/// field a `@provides` in the same subgraph selects.
#[derive(Debug, Default)]
pub(crate) struct ImplicitlyShareable {
    /// `(subgraph index, type, field)`.
    fields: HashSet<(usize, String, String)>,
    /// The `@provides` subset: these also count as resolved by that subgraph.
    provided: HashSet<(usize, String, String)>,
}

impl ImplicitlyShareable {
    pub(crate) fn compute(subgraphs: &[Subgraph]) -> Self {
        let mut facts = Self::default();
        for (index, subgraph) in subgraphs.iter().enumerate() {
            for def in subgraph.types.values() {
                for key in &def.keys {
                    facts.collect(subgraph, index, &def.name, &key.fields, false);
                }
                for field in &def.fields {
                    if let Some(provides) = &field.provides {
                        facts.collect(subgraph, index, field.ty.named(), provides, true);
                    }
                }
            }
        }
        facts
    }

    fn collect(&mut self, subgraph: &Subgraph, index: usize, type_name: &str, fields: &str, provides: bool) {
        let Ok(selections) = fieldset::parse(fields) else { return };
        let mut found = Vec::new();
        // Field sets were validated before merging; a failed walk only means
        // fewer fields are recorded here.
        let _ = fieldset::walk(subgraph, type_name, &selections, &mut |ty, f| {
            found.push((index, ty.to_string(), f.to_string()));
        });
        for (index, ty, field) in found {
            let external = subgraph.type_def(&ty).and_then(|d| d.field(&field)).is_some_and(|f| f.external);
            if provides && !external {
                continue;
            }
            if provides {
                self.provided.insert((index, ty.clone(), field.clone()));
            }
            self.fields.insert((index, ty, field));
        }
    }

    fn contains(&self, index: usize, type_name: &str, field: &str) -> bool {
        self.fields.contains(&(index, type_name.to_string(), field.to_string()))
    }

    fn is_provided(&self, index: usize, type_name: &str, field: &str) -> bool {
        self.provided.contains(&(index, type_name.to_string(), field.to_string()))
    }
}

/// Fields resolved by several subgraphs must be shareable in each of them;
/// key fields count as shareable, and overridden definitions do not resolve.
pub(crate) fn check_field_sharing(
    subgraphs: &[Subgraph],
    implicit: &ImplicitlyShareable,
    type_name: &str,
    field_name: &str,
    sources: &[(usize, &TypeDef, &FieldDef)],
    overridden: &HashMap<usize, bool>,
) -> Result<(), CompositionError> {
    let resolving: Vec<&(usize, &TypeDef, &FieldDef)> = sources
        .iter()
        .filter(|(i, _, _)| !overridden.contains_key(i))
        .filter(|(i, _, f)| !f.external || implicit.is_provided(*i, type_name, field_name))
        .collect();
    if resolving.len() < 2 {
        return Ok(());
    }
    let non_shareable: Vec<String> = resolving
        .iter()
        .filter(|(i, def, field)| !(field.shareable || def.shareable || implicit.contains(*i, type_name, field_name)))
        .map(|(i, _, _)| subgraphs[*i].name.clone())
        .collect();
    if non_shareable.is_empty() {
        return Ok(());
    }
    let resolvers = resolving.iter().map(|(i, _, _)| subgraphs[*i].name.clone()).collect();
    if is_root_type(type_name) {
        return Err(CompositionError::NonShareableRootField {
            type_name: type_name.to_string(),
            field: field_name.to_string(),
            subgraphs: resolvers,
            non_shareable,
        });
    }
    let is_entity = sources.iter().any(|(_, def, _)| def.is_entity());
    Err(CompositionError::NonShareableField {
        type_name: type_name.to_string(),
        field: field_name.to_string(),
        kind: if is_entity { "entity" } else { "value type" },
        subgraphs: resolvers,
        non_shareable,
    })
}

/// Called when every definition of a field is `@external`: that is only
/// fine when an `@interfaceObject` elsewhere resolves it for the interface.
pub(crate) fn check_external_resolved(
    subgraphs: &[Subgraph],
    type_name: &str,
    field_name: &str,
    sources: &[(usize, &TypeDef, &FieldDef)],
) -> Result<(), CompositionError> {
    let through_interface_object = sources.iter().any(|(_, def, _)| {
        def.implements.iter().any(|interface| {
            subgraphs.iter().any(|s| {
                s.type_def(interface)
                    .is_some_and(|d| d.interface_object && d.field(field_name).is_some_and(|f| !f.external))
            })
        })
    });
    if through_interface_object {
        return Ok(());
    }
    Err(CompositionError::ExternalFieldNotResolved {
        type_name: type_name.to_string(),
        field: field_name.to_string(),
        subgraphs: sources.iter().map(|(i, _, _)| subgraphs[*i].name.clone()).collect(),
    })
}
