//! Prints the [`Supergraph`] as SDL in the layout Apollo's supergraph printer
//! uses (schema, then directive definitions, then types, each group sorted by
//! name; type-level directives one per line; field directives inline), so the
//! committed supergraph diffs cleanly against an Apollo-composed one.

use std::fmt::Write;

use super::directives::{AppliedDirective, COMPOSED_DIRECTIVES, Placement, composed};
use super::names::compare_names;
use super::subgraph::{MUTATION, QUERY, SUBSCRIPTION, TypeKind};
use super::supergraph::{JoinField, JoinType, MergedArg, MergedField, MergedType, Supergraph};

const INDENT: &str = "  ";

const JOIN_DIRECTIVES: &[(&str, &str)] = &[
    ("join__enumValue", "directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE"),
    (
        "join__field",
        "directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION",
    ),
    ("join__graph", "directive @join__graph(name: String!, url: String!) on ENUM_VALUE"),
    (
        "join__implements",
        "directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE",
    ),
    (
        "join__type",
        "directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR",
    ),
    ("join__unionMember", "directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION"),
    (
        "link",
        "directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA",
    ),
];

const LINK_PURPOSE: &str = "enum link__Purpose {
  \"\"\"
  `SECURITY` features provide metadata necessary to securely resolve fields.
  \"\"\"
  SECURITY

  \"\"\"
  `EXECUTION` features provide metadata necessary for operation execution.
  \"\"\"
  EXECUTION
}";

pub(crate) fn print(supergraph: &Supergraph) -> String {
    let used = used_composed_directives(supergraph);

    let mut blocks = vec![schema_block(supergraph, &used)];

    let mut directive_defs: Vec<(&str, String)> =
        JOIN_DIRECTIVES.iter().map(|(name, def)| (*name, def.to_string())).collect();
    let mut type_defs: Vec<(String, String)> = vec![
        ("join__FieldSet".into(), "scalar join__FieldSet".into()),
        ("join__Graph".into(), graph_enum(supergraph)),
        ("link__Import".into(), "scalar link__Import".into()),
        ("link__Purpose".into(), LINK_PURPOSE.into()),
    ];
    for spec in COMPOSED_DIRECTIVES.iter().filter(|d| used.contains(&d.name)) {
        for definition in spec.definitions {
            match definition.strip_prefix("directive @") {
                Some(_) => directive_defs.push((spec.name, definition.to_string())),
                None => {
                    let name = definition.split_whitespace().nth(1).unwrap_or(definition);
                    type_defs.push((name.to_string(), definition.to_string()));
                }
            }
        }
    }
    directive_defs.sort_by(|a, b| compare_names(a.0, b.0));
    type_defs.extend(supergraph.types.iter().map(|t| (t.name.clone(), type_block(t))));
    type_defs.sort_by(|a, b| compare_names(&a.0, &b.0));

    blocks.extend(directive_defs.into_iter().map(|(_, def)| def));
    blocks.extend(type_defs.into_iter().map(|(_, def)| def));
    let mut out = blocks.join("\n\n");
    out.push('\n');
    out
}

fn used_composed_directives(supergraph: &Supergraph) -> Vec<&'static str> {
    let mut applied: Vec<&AppliedDirective> = Vec::new();
    for ty in &supergraph.types {
        applied.extend(&ty.directives);
        for field in &ty.fields {
            applied.extend(&field.directives);
            applied.extend(field.args.iter().flat_map(|a| &a.directives));
        }
        applied.extend(ty.values.iter().flat_map(|v| &v.directives));
    }
    COMPOSED_DIRECTIVES
        .iter()
        .filter(|spec| applied.iter().any(|d| d.name == spec.name))
        .map(|spec| spec.name)
        .collect()
}

fn schema_block(supergraph: &Supergraph, used: &[&str]) -> String {
    let mut links = vec![
        "@link(url: \"https://specs.apollo.dev/link/v1.0\")".to_string(),
        "@link(url: \"https://specs.apollo.dev/join/v0.3\", for: EXECUTION)".to_string(),
    ];
    for spec in COMPOSED_DIRECTIVES.iter().filter(|d| used.contains(&d.name)) {
        if let Some(link) = spec.link {
            let mut printed = format!("@link(url: {}", quote(link.url));
            if let Some(import) = link.import {
                let _ = write!(printed, ", import: {import}");
            }
            if let Some(purpose) = link.purpose {
                let _ = write!(printed, ", for: {purpose}");
            }
            printed.push(')');
            links.push(printed);
        }
    }
    let mut out = String::from("schema");
    for link in links {
        let _ = write!(out, "\n{INDENT}{link}");
    }
    out.push_str("\n{\n");
    for (operation, root) in [("query", QUERY), ("mutation", MUTATION), ("subscription", SUBSCRIPTION)] {
        if supergraph.type_def(root).is_some() {
            let _ = writeln!(out, "{INDENT}{operation}: {root}");
        }
    }
    out.push('}');
    out
}

fn graph_enum(supergraph: &Supergraph) -> String {
    let mut out = String::from("enum join__Graph {\n");
    for graph in &supergraph.graphs {
        let _ = writeln!(
            out,
            "{INDENT}{} @join__graph(name: {}, url: {})",
            graph.value,
            quote(&graph.name),
            quote(&graph.url)
        );
    }
    out.push('}');
    out
}

fn type_block(ty: &MergedType) -> String {
    let mut directives: Vec<String> = Vec::new();
    directives.extend(
        ty.join_implements
            .iter()
            .map(|(graph, interface)| format!("@join__implements(graph: {graph}, interface: {})", quote(interface))),
    );
    directives.extend(ty.join_types.iter().map(join_type));
    directives.extend(composed_of(&ty.directives, Placement::BeforeJoinField));
    directives.extend(
        ty.join_union_members
            .iter()
            .map(|(graph, member)| format!("@join__unionMember(graph: {graph}, member: {})", quote(member))),
    );
    directives.extend(composed_of(&ty.directives, Placement::AfterJoinField));

    let keyword = match ty.kind {
        TypeKind::Scalar => "scalar",
        TypeKind::Object => "type",
        TypeKind::Interface => "interface",
        TypeKind::Union => "union",
        TypeKind::Enum => "enum",
        TypeKind::InputObject => "input",
    };
    let mut out = description(ty.description.as_deref(), "", true);
    let _ = write!(out, "{keyword} {}", ty.name);
    if !ty.implements.is_empty() {
        let _ = write!(out, " implements {}", ty.implements.join(" & "));
    }
    let body: Vec<String> = match ty.kind {
        TypeKind::Scalar | TypeKind::Union => Vec::new(),
        TypeKind::Enum => ty
            .values
            .iter()
            .enumerate()
            .map(|(i, value)| {
                let mut line = description(value.description.as_deref(), INDENT, i == 0);
                let _ = write!(line, "{INDENT}{}", value.name);
                let mut applied = composed_of(&value.directives, Placement::BeforeJoinField);
                applied.extend(value.join_graphs.iter().map(|g| format!("@join__enumValue(graph: {g})")));
                applied.extend(composed_of(&value.directives, Placement::AfterJoinField));
                inline(&mut line, &applied);
                line
            })
            .collect(),
        TypeKind::Object | TypeKind::Interface | TypeKind::InputObject => {
            ty.fields.iter().enumerate().map(|(i, field)| field_line(field, i == 0)).collect()
        }
    };

    for directive in &directives {
        let _ = write!(out, "\n{INDENT}{directive}");
    }
    let has_body = !body.is_empty();
    if ty.kind == TypeKind::Union {
        if !ty.members.is_empty() {
            // Apollo ends the directive list with a newline, leaving ` = ` on its own line.
            if !directives.is_empty() {
                out.push('\n');
            }
            let _ = write!(out, " = {}", ty.members.join(" | "));
        }
        return out;
    }
    if has_body {
        out.push_str(if directives.is_empty() { " " } else { "\n" });
        let _ = write!(out, "{{\n{}\n}}", body.join("\n"));
    }
    out
}

fn field_line(field: &MergedField, first: bool) -> String {
    let mut line = description(field.description.as_deref(), INDENT, first);
    let _ = write!(line, "{INDENT}{}{}: {}", field.name, args(&field.args), field.ty);
    if let Some(default) = &field.default {
        let _ = write!(line, " = {default}");
    }
    let mut applied = composed_of(&field.directives, Placement::BeforeJoinField);
    applied.extend(field.join_fields.iter().map(join_field));
    applied.extend(composed_of(&field.directives, Placement::AfterJoinField));
    inline(&mut line, &applied);
    line
}

fn args(args: &[MergedArg]) -> String {
    if args.is_empty() {
        return String::new();
    }
    let printed = |arg: &MergedArg| {
        let mut out = format!("{}: {}", arg.name, arg.ty);
        if let Some(default) = &arg.default {
            let _ = write!(out, " = {default}");
        }
        let mut applied = composed_of(&arg.directives, Placement::BeforeJoinField);
        applied.extend(composed_of(&arg.directives, Placement::AfterJoinField));
        inline(&mut out, &applied);
        out
    };
    if args.iter().all(|a| a.description.as_deref().is_none_or(str::is_empty)) {
        return format!("({})", args.iter().map(printed).collect::<Vec<_>>().join(", "));
    }
    let indent = format!("{INDENT}{INDENT}");
    let lines: Vec<String> = args
        .iter()
        .enumerate()
        .map(|(i, arg)| format!("{}{indent}{}", description(arg.description.as_deref(), &indent, i == 0), printed(arg)))
        .collect();
    format!("(\n{}\n{INDENT})", lines.join("\n"))
}

fn inline(out: &mut String, directives: &[String]) {
    for directive in directives {
        out.push(' ');
        out.push_str(directive);
    }
}

fn composed_of(applied: &[AppliedDirective], placement: Placement) -> Vec<String> {
    applied
        .iter()
        .filter(|d| composed(&d.name).is_some_and(|spec| spec.placement == placement))
        .map(|d| {
            if d.args.is_empty() {
                format!("@{}", d.name)
            } else {
                let args: Vec<String> = d.args.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("@{}({})", d.name, args.join(", "))
            }
        })
        .collect()
}

fn join_type(join: &JoinType) -> String {
    let mut args = vec![format!("graph: {}", join.graph)];
    if let Some(key) = &join.key {
        args.push(format!("key: {}", quote(key)));
    }
    if join.extension {
        args.push("extension: true".into());
    }
    if let Some(resolvable) = join.resolvable {
        args.push(format!("resolvable: {resolvable}"));
    }
    if join.interface_object {
        args.push("isInterfaceObject: true".into());
    }
    format!("@join__type({})", args.join(", "))
}

fn join_field(join: &JoinField) -> String {
    let mut args = Vec::new();
    if let Some(graph) = &join.graph {
        args.push(format!("graph: {graph}"));
    }
    for (name, value) in [
        ("requires", &join.requires),
        ("provides", &join.provides),
        ("override", &join.override_from),
        ("type", &join.ty),
    ] {
        if let Some(value) = value {
            args.push(format!("{name}: {}", quote(value)));
        }
    }
    if join.external {
        args.push("external: true".into());
    }
    if join.used_overridden {
        args.push("usedOverridden: true".into());
    }
    if args.is_empty() { "@join__field".to_string() } else { format!("@join__field({})", args.join(", ")) }
}

/// A description as Apollo prints it: a block string, on its own lines when
/// long or multi-line, preceded by a blank line unless first in its block.
fn description(text: Option<&str>, indent: &str, first: bool) -> String {
    let Some(text) = text else {
        return String::new();
    };
    let multi_line = text.contains('\n') || text.len() > 70 || text.ends_with('"') || text.ends_with('\\');
    let leading_space = text.starts_with([' ', '\t']);
    let mut block = String::new();
    // A single line starting with whitespace cannot start on a fresh line:
    // the block string would strip that whitespace.
    if multi_line && (text.contains('\n') || !leading_space) {
        block.push('\n');
    }
    block.push_str(text);
    if multi_line {
        block.push('\n');
    }
    let block = format!("\"\"\"{}\"\"\"", block.replace("\"\"\"", "\\\"\"\""));
    let prefix = if !indent.is_empty() && !first { format!("\n{indent}") } else { indent.to_string() };
    format!("{prefix}{}\n", block.replace('\n', &format!("\n{indent}")))
}

/// A GraphQL string literal.
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
