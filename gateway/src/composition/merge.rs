//! Merges the parsed subgraphs into the [`Supergraph`] model, deciding every
//! `@join__*` application the way Apollo composition does (see the comments
//! on `needs_join_field` for the one non-obvious rule).

use std::collections::{BTreeMap, HashMap};

use super::directives::merge_applied;
use super::error::CompositionError;
use super::fieldset::top_level_fields;
use super::names::compare_names;
use super::rules;
use super::subgraph::{FieldDef, InputValue, QUERY, Sources, Subgraph, TypeDef, TypeKind, TypeRef};
use super::supergraph::{Graph, JoinField, JoinType, MergedArg, MergedEnumValue, MergedField, MergedType, Supergraph};

pub(crate) fn merge(subgraphs: &[Subgraph]) -> Result<Supergraph, CompositionError> {
    let by_type = collect_types(subgraphs);
    let usages = enum_usages(subgraphs);
    let implicit = rules::ImplicitlyShareable::compute(subgraphs);

    let mut types = Vec::with_capacity(by_type.len());
    for (name, sources) in &by_type {
        let kind = rules::check_kinds(subgraphs, name, sources)?;
        let merger = Merger { subgraphs, name, sources, implicit: &implicit };
        let merged = match kind {
            TypeKind::Object | TypeKind::Interface => merger.object_like(kind)?,
            TypeKind::Union => merger.union(),
            TypeKind::Enum => merger.enumeration(usages.get(name.as_str()).copied())?,
            TypeKind::InputObject => merger.input_object()?,
            TypeKind::Scalar => merger.base(kind),
        };
        types.push(merged);
    }
    add_interface_object_fields(subgraphs, &mut types);

    if !types.iter().any(|t| t.name == QUERY && !t.fields.is_empty()) {
        return Err(CompositionError::NoQueries);
    }
    types.sort_by(|a, b| compare_names(&a.name, &b.name));

    Ok(Supergraph {
        graphs: subgraphs
            .iter()
            .map(|s| Graph { value: s.graph.clone(), name: s.name.clone(), url: s.url.clone() })
            .collect(),
        types,
    })
}

fn collect_types(subgraphs: &[Subgraph]) -> BTreeMap<String, Sources<'_>> {
    let mut by_type: BTreeMap<String, Sources<'_>> = BTreeMap::new();
    for (index, subgraph) in subgraphs.iter().enumerate() {
        for (name, def) in &subgraph.types {
            by_type.entry(name.clone()).or_default().push((index, def));
        }
    }
    by_type
}

#[derive(Debug, Clone, Copy, Default)]
struct EnumUsage {
    input: bool,
    output: bool,
}

fn enum_usages(subgraphs: &[Subgraph]) -> HashMap<&str, EnumUsage> {
    let mut usages: HashMap<&str, EnumUsage> = HashMap::new();
    for def in subgraphs.iter().flat_map(|s| s.types.values()) {
        for field in &def.fields {
            usages.entry(field.ty.named()).or_default().output = true;
            for arg in &field.args {
                usages.entry(arg.ty.named()).or_default().input = true;
            }
        }
        for field in &def.input_fields {
            usages.entry(field.ty.named()).or_default().input = true;
        }
    }
    usages
}

struct Merger<'a> {
    subgraphs: &'a [Subgraph],
    name: &'a str,
    sources: &'a Sources<'a>,
    implicit: &'a rules::ImplicitlyShareable,
}

impl Merger<'_> {
    fn graph(&self, index: usize) -> String {
        self.subgraphs[index].graph.clone()
    }

    fn subgraph_name(&self, index: usize) -> String {
        self.subgraphs[index].name.clone()
    }

    /// Subgraph indexes that have this type, counting `Query` everywhere.
    fn present(&self) -> Vec<usize> {
        (0..self.subgraphs.len()).filter(|&i| self.subgraphs[i].has_type(self.name)).collect()
    }

    /// The parts every kind shares: description, `@join__type`s, composed directives.
    fn base(&self, kind: TypeKind) -> MergedType {
        let mut join_types = Vec::new();
        for index in self.present() {
            let def = self.sources.iter().find(|(i, _)| *i == index).map(|(_, d)| *d);
            let keys = def.map(|d| d.keys.as_slice()).unwrap_or_default();
            let interface_object = def.is_some_and(|d| d.interface_object);
            if keys.is_empty() {
                join_types.push(JoinType {
                    graph: self.graph(index),
                    key: None,
                    extension: false,
                    resolvable: None,
                    interface_object,
                });
            }
            for key in keys {
                join_types.push(JoinType {
                    graph: self.graph(index),
                    key: Some(key.fields.clone()),
                    extension: key.extension,
                    resolvable: key.resolvable,
                    interface_object,
                });
            }
        }
        MergedType {
            name: self.name.to_string(),
            description: pick_description(self.sources.iter().map(|(_, d)| d.description.as_deref())),
            kind,
            implements: Vec::new(),
            join_implements: Vec::new(),
            join_types,
            directives: merge_applied(self.sources.iter().map(|(_, d)| d.directives.as_slice())),
            fields: Vec::new(),
            members: Vec::new(),
            join_union_members: Vec::new(),
            values: Vec::new(),
        }
    }

    fn object_like(&self, kind: TypeKind) -> Result<MergedType, CompositionError> {
        let mut merged = self.base(kind);
        for (index, def) in self.sources {
            for interface in &def.implements {
                merged.join_implements.push((self.graph(*index), interface.clone()));
                if !merged.implements.contains(interface) {
                    merged.implements.push(interface.clone());
                }
            }
        }

        for field_name in first_appearance(self.sources.iter().map(|(_, d)| d.fields.iter().map(|f| &f.name))) {
            let field_sources: Vec<(usize, &TypeDef, &FieldDef)> =
                self.sources.iter().filter_map(|(i, d)| d.field(&field_name).map(|f| (*i, *d, f))).collect();
            merged.fields.push(self.output_field(kind, &field_name, &field_sources)?);
        }
        Ok(merged)
    }

    fn output_field(
        &self,
        kind: TypeKind,
        field_name: &str,
        sources: &[(usize, &TypeDef, &FieldDef)],
    ) -> Result<MergedField, CompositionError> {
        // Overridden definitions stop counting as resolvers; they stay in the
        // join metadata only when their subgraph still needs the field for
        // one of its own keys or requirements ("used overridden").
        let mut overridden: HashMap<usize, bool> = HashMap::new();
        for (_, _, field) in sources {
            let Some(from) = &field.override_from else { continue };
            if let Some((index, def, _)) = sources.iter().find(|(i, _, _)| self.subgraphs[*i].name == *from) {
                let used = def
                    .keys
                    .iter()
                    .map(|k| k.fields.as_str())
                    .chain(def.fields.iter().filter_map(|f| f.requires.as_deref()))
                    .any(|fields| top_level_fields(fields).iter().any(|f| f == field_name));
                overridden.insert(*index, used);
            }
        }

        let resolving: Vec<&(usize, &TypeDef, &FieldDef)> = sources.iter().filter(|(_, _, f)| !f.external).collect();
        if resolving.is_empty() {
            rules::check_external_resolved(self.subgraphs, self.name, field_name, sources)?;
        }
        let typed: Vec<(usize, &TypeRef)> = if resolving.is_empty() {
            sources.iter().map(|(i, _, f)| (*i, &f.ty)).collect()
        } else {
            resolving.iter().map(|(i, _, f)| (*i, &f.ty)).collect()
        };
        let (ty, all_types_equal) = self.merge_output_type(field_name, &typed, sources)?;

        if kind == TypeKind::Object {
            rules::check_field_sharing(self.subgraphs, self.implicit, self.name, field_name, sources, &overridden)?;
        }

        let arg_sources: Vec<&[InputValue]> = resolving.iter().map(|(_, _, f)| f.args.as_slice()).collect();
        let arg_subgraphs: Vec<usize> = resolving.iter().map(|(i, _, _)| *i).collect();
        let args = self.merge_args(field_name, &arg_sources, &arg_subgraphs)?;

        let needs_join_field = !all_types_equal
            || !overridden.is_empty()
            || self.present().into_iter().any(|index| {
                match sources.iter().find(|(i, _, _)| *i == index) {
                    Some((_, _, f)) if overridden.get(&index) != Some(&false) => {
                        f.external || f.requires.is_some() || f.provides.is_some()
                    }
                    // The subgraph has the type but not (effectively) the field.
                    _ => true,
                }
            });
        let join_fields = if needs_join_field {
            sources
                .iter()
                .filter(|(i, _, _)| overridden.get(i) != Some(&false))
                .map(|(index, _, field)| JoinField {
                    graph: Some(self.graph(*index)),
                    requires: field.requires.clone(),
                    provides: field.provides.clone(),
                    override_from: field.override_from.clone(),
                    ty: (!all_types_equal).then(|| field.ty.to_string()),
                    external: field.external,
                    used_overridden: overridden.get(index) == Some(&true),
                })
                .collect()
        } else {
            Vec::new()
        };

        let described = if resolving.is_empty() { sources.iter().collect::<Vec<_>>() } else { resolving.clone() };
        Ok(MergedField {
            name: field_name.to_string(),
            description: pick_description(described.iter().map(|(_, _, f)| f.description.as_deref())),
            args,
            ty,
            default: None,
            join_fields,
            directives: merge_applied(described.iter().map(|(_, _, f)| f.directives.as_slice())),
        })
    }

    /// The most general of the resolving definitions' types; externals must agree.
    fn merge_output_type(
        &self,
        field_name: &str,
        typed: &[(usize, &TypeRef)],
        all: &[(usize, &TypeDef, &FieldDef)],
    ) -> Result<(TypeRef, bool), CompositionError> {
        let mismatch = || CompositionError::FieldTypeMismatch {
            type_name: self.name.to_string(),
            field: field_name.to_string(),
            types: all
                .iter()
                .map(|(i, _, f)| {
                    let external = if f.external { " (@external)" } else { "" };
                    format!("{:?}: {}{external}", self.subgraphs[*i].name, f.ty)
                })
                .collect::<Vec<_>>()
                .join(", "),
        };
        let mut merged = typed.first().map(|(_, t)| (*t).clone()).ok_or_else(mismatch)?;
        for (_, ty) in typed.iter().skip(1) {
            if merged.is_subtype_of(ty) {
                merged = (*ty).clone();
            } else if !ty.is_subtype_of(&merged) {
                return Err(mismatch());
            }
        }
        for (_, _, field) in all {
            if !field.ty.is_subtype_of(&merged) && !merged.is_subtype_of(&field.ty) {
                return Err(mismatch());
            }
        }
        let all_equal = all.iter().all(|(_, _, f)| f.ty == merged);
        Ok((merged, all_equal))
    }

    /// Arguments every resolving definition accepts; an argument missing
    /// somewhere is dropped unless it is required, which cannot be honoured.
    fn merge_args(
        &self,
        field_name: &str,
        sources: &[&[InputValue]],
        subgraphs: &[usize],
    ) -> Result<Vec<MergedArg>, CompositionError> {
        let mut merged = Vec::new();
        for arg_name in first_appearance(sources.iter().map(|args| args.iter().map(|a| &a.name))) {
            let found: Vec<(usize, &InputValue)> = sources
                .iter()
                .zip(subgraphs)
                .filter_map(|(args, i)| args.iter().find(|a| a.name == arg_name).map(|a| (*i, a)))
                .collect();
            let error = |reason: String| CompositionError::ArgumentMismatch {
                type_name: self.name.to_string(),
                field: field_name.to_string(),
                argument: arg_name.clone(),
                reason,
            };
            if found.len() < sources.len() {
                let required: Vec<String> = found
                    .iter()
                    .filter(|(_, a)| a.ty.is_non_null() && a.default.is_none())
                    .map(|(i, _)| self.subgraph_name(*i))
                    .collect();
                if !required.is_empty() {
                    let missing: Vec<String> = subgraphs
                        .iter()
                        .filter(|i| !found.iter().any(|(f, _)| f == *i))
                        .map(|i| self.subgraph_name(*i))
                        .collect();
                    return Err(error(format!(
                        "it is required in subgraph(s) {required:?} but missing in subgraph(s) {missing:?}"
                    )));
                }
                continue;
            }
            let ty = merge_input_type(found.iter().map(|(_, a)| &a.ty)).ok_or_else(|| {
                error(format!(
                    "its types differ: {}",
                    describe_types(self.subgraphs, found.iter().map(|(i, a)| (*i, &a.ty)))
                ))
            })?;
            let mut defaults = found.iter().filter_map(|(_, a)| a.default.as_ref());
            let default = defaults.next().cloned();
            if defaults.any(|d| Some(d) != default.as_ref()) {
                return Err(error("its default value differs between subgraphs".to_string()));
            }
            merged.push(MergedArg {
                name: arg_name.clone(),
                description: pick_description(found.iter().map(|(_, a)| a.description.as_deref())),
                ty,
                default,
                directives: merge_applied(found.iter().map(|(_, a)| a.directives.as_slice())),
            });
        }
        Ok(merged)
    }

    fn union(&self) -> MergedType {
        let mut merged = self.base(TypeKind::Union);
        merged.members = first_appearance(self.sources.iter().map(|(_, d)| d.members.iter()));
        for member in &merged.members {
            for (index, def) in self.sources {
                if def.members.contains(member) {
                    merged.join_union_members.push((self.graph(*index), member.clone()));
                }
            }
        }
        merged
    }

    fn enumeration(&self, usage: Option<EnumUsage>) -> Result<MergedType, CompositionError> {
        let usage = usage.unwrap_or(EnumUsage { input: false, output: true });
        let mut merged = self.base(TypeKind::Enum);
        for value in first_appearance(self.sources.iter().map(|(_, d)| d.values.iter().map(|v| &v.name))) {
            let defining: Vec<(usize, &super::subgraph::EnumValueDef)> = self
                .sources
                .iter()
                .filter_map(|(i, d)| d.values.iter().find(|v| v.name == value).map(|v| (*i, v)))
                .collect();
            if defining.len() < self.sources.len() && usage.input {
                if usage.output {
                    return Err(CompositionError::EnumValueMismatch {
                        enum_name: self.name.to_string(),
                        value,
                        defined_in: defining.iter().map(|(i, _)| self.subgraph_name(*i)).collect(),
                        missing_in: self
                            .sources
                            .iter()
                            .filter(|(i, _)| !defining.iter().any(|(d, _)| d == i))
                            .map(|(i, _)| self.subgraph_name(*i))
                            .collect(),
                    });
                }
                // Input-only: a value some subgraph cannot accept is left out.
                continue;
            }
            merged.values.push(MergedEnumValue {
                description: pick_description(defining.iter().map(|(_, v)| v.description.as_deref())),
                join_graphs: defining.iter().map(|(i, _)| self.graph(*i)).collect(),
                directives: merge_applied(defining.iter().map(|(_, v)| v.directives.as_slice())),
                name: value,
            });
        }
        Ok(merged)
    }

    fn input_object(&self) -> Result<MergedType, CompositionError> {
        let mut merged = self.base(TypeKind::InputObject);
        for field_name in first_appearance(self.sources.iter().map(|(_, d)| d.input_fields.iter().map(|f| &f.name))) {
            let found: Vec<(usize, &InputValue)> = self
                .sources
                .iter()
                .filter_map(|(i, d)| d.input_fields.iter().find(|f| f.name == field_name).map(|f| (*i, f)))
                .collect();
            if found.len() < self.sources.len() {
                let required_in: Vec<String> = found
                    .iter()
                    .filter(|(_, f)| f.ty.is_non_null() && f.default.is_none())
                    .map(|(i, _)| self.subgraph_name(*i))
                    .collect();
                if !required_in.is_empty() {
                    return Err(CompositionError::RequiredInputFieldMissing {
                        type_name: self.name.to_string(),
                        field: field_name,
                        required_in,
                        missing_in: self
                            .sources
                            .iter()
                            .filter(|(i, _)| !found.iter().any(|(f, _)| f == i))
                            .map(|(i, _)| self.subgraph_name(*i))
                            .collect(),
                    });
                }
                continue;
            }
            let ty = merge_input_type(found.iter().map(|(_, f)| &f.ty)).ok_or_else(|| {
                CompositionError::FieldTypeMismatch {
                    type_name: self.name.to_string(),
                    field: field_name.clone(),
                    types: describe_types(self.subgraphs, found.iter().map(|(i, f)| (*i, &f.ty))),
                }
            })?;
            let all_equal = found.iter().all(|(_, f)| f.ty == ty);
            merged.fields.push(MergedField {
                description: pick_description(found.iter().map(|(_, f)| f.description.as_deref())),
                args: Vec::new(),
                default: found.iter().find_map(|(_, f)| f.default.clone()),
                join_fields: if all_equal {
                    Vec::new()
                } else {
                    found
                        .iter()
                        .map(|(i, f)| JoinField {
                            graph: Some(self.graph(*i)),
                            ty: Some(f.ty.to_string()),
                            ..JoinField::default()
                        })
                        .collect()
                },
                directives: merge_applied(found.iter().map(|(_, f)| f.directives.as_slice())),
                ty,
                name: field_name,
            });
        }
        Ok(merged)
    }
}

/// An `@interfaceObject` serves its fields for every implementation, so
/// implementations missing such a field get it, joined to no graph in
/// particular (a bare `@join__field`), as Apollo does.
fn add_interface_object_fields(subgraphs: &[Subgraph], types: &mut [MergedType]) {
    let provided: Vec<(String, MergedField)> = types
        .iter()
        .filter(|t| t.kind == TypeKind::Interface)
        .flat_map(|interface| {
            interface
                .fields
                .iter()
                .filter(|field| {
                    subgraphs.iter().any(|s| {
                        s.type_def(&interface.name)
                            .is_some_and(|d| d.interface_object && d.field(&field.name).is_some_and(|f| !f.external))
                    })
                })
                .map(|field| (interface.name.clone(), field.clone()))
        })
        .collect();
    for ty in types.iter_mut().filter(|t| t.kind == TypeKind::Object) {
        for (interface, field) in &provided {
            if ty.implements.contains(interface) && !ty.fields.iter().any(|f| f.name == field.name) {
                let mut added = field.clone();
                added.join_fields = vec![JoinField::default()];
                ty.fields.push(added);
            }
        }
    }
}

/// Input positions take the most restrictive type (a non-null wins over a nullable one).
fn merge_input_type<'t>(mut types: impl Iterator<Item = &'t TypeRef>) -> Option<TypeRef> {
    let mut merged = types.next()?.clone();
    for ty in types {
        if ty.is_subtype_of(&merged) {
            merged = ty.clone();
        } else if !merged.is_subtype_of(ty) {
            return None;
        }
    }
    Some(merged)
}

fn describe_types<'t>(subgraphs: &[Subgraph], types: impl Iterator<Item = (usize, &'t TypeRef)>) -> String {
    types.map(|(i, ty)| format!("{:?}: {ty}", subgraphs[i].name)).collect::<Vec<_>>().join(", ")
}

/// Names in order of first appearance, walking subgraphs in order.
fn first_appearance<'n, I, J>(lists: I) -> Vec<String>
where
    I: Iterator<Item = J>,
    J: Iterator<Item = &'n String>,
{
    let mut names: Vec<String> = Vec::new();
    for list in lists {
        for name in list {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
    }
    names
}

/// Apollo keeps the description most subgraphs agree on, preferring any
/// non-empty one, ties going to the first subgraph.
fn pick_description<'d>(descriptions: impl Iterator<Item = Option<&'d str>>) -> Option<String> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for description in descriptions.flatten() {
        match counts.iter_mut().find(|(d, _)| *d == description) {
            Some((_, count)) => *count += 1,
            None => counts.push((description, 1)),
        }
    }
    let best = counts
        .iter()
        .filter(|(d, _)| !d.is_empty())
        .fold(None::<(&str, usize)>, |best, &(d, c)| match best {
            Some((_, bc)) if bc >= c => best,
            _ => Some((d, c)),
        })
        .or_else(|| counts.first().copied());
    best.map(|(d, _)| d.to_string())
}
