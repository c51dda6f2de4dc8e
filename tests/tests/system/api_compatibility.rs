//! Clients built against `schema/api.graphql` keep working: compared with the previous
//! commit's API schema, nothing a client may use disappears or changes shape unless it was
//! deprecated first. Removing a deprecated field or enum value is allowed; removing a type,
//! a field or enum value that was not deprecated, changing a field's or argument's type, or
//! adding a required argument or required input field is a breaking change and fails here.

use std::collections::BTreeMap;

use async_graphql_parser::types::{TypeKind, TypeSystemDefinition};

/// A type as clients see it: its kind and, per member (field, input field or enum value),
/// its type text (empty for enum values), whether it is deprecated, and its arguments with
/// their type text.
#[derive(Debug, Default)]
struct ApiType {
    kind: &'static str,
    members: BTreeMap<String, Member>,
}

#[derive(Debug, Default)]
struct Member {
    type_text: String,
    deprecated: bool,
    arguments: BTreeMap<String, String>,
}

fn is_deprecated(directives: &[async_graphql_parser::Positioned<async_graphql_parser::types::ConstDirective>]) -> bool {
    directives.iter().any(|directive| directive.node.name.node == "deprecated")
}

fn api_types(sdl: &str) -> BTreeMap<String, ApiType> {
    let document = async_graphql_parser::parse_schema(sdl).expect("the API schema parses");
    let mut types = BTreeMap::new();
    for definition in document.definitions {
        let TypeSystemDefinition::Type(definition) = definition else { continue };
        let definition = definition.node;
        let mut api = ApiType::default();
        match definition.kind {
            TypeKind::Scalar => api.kind = "scalar",
            TypeKind::Union(union) => {
                api.kind = "union";
                for member in union.members {
                    api.members.insert(member.node.to_string(), Member::default());
                }
            }
            TypeKind::Enum(enumeration) => {
                api.kind = "enum";
                for value in enumeration.values {
                    let deprecated = is_deprecated(&value.node.directives);
                    api.members.insert(value.node.value.node.to_string(), Member { deprecated, ..Member::default() });
                }
            }
            TypeKind::InputObject(input) => {
                api.kind = "input";
                for field in input.fields {
                    let field = field.node;
                    let type_text = field.ty.node.to_string();
                    let deprecated = is_deprecated(&field.directives);
                    api.members
                        .insert(field.name.node.to_string(), Member { type_text, deprecated, ..Member::default() });
                }
            }
            TypeKind::Object(object) => {
                api.kind = "object";
                add_fields(&mut api, object.fields);
            }
            TypeKind::Interface(interface) => {
                api.kind = "interface";
                add_fields(&mut api, interface.fields);
            }
        }
        types.insert(definition.name.node.to_string(), api);
    }
    types
}

fn add_fields(
    api: &mut ApiType,
    fields: Vec<async_graphql_parser::Positioned<async_graphql_parser::types::FieldDefinition>>,
) {
    for field in fields {
        let field = field.node;
        let arguments = field
            .arguments
            .iter()
            .map(|argument| {
                let argument = &argument.node;
                let required = argument.ty.node.to_string().ends_with('!') && argument.default_value.is_none();
                let text = format!("{}{}", argument.ty.node, if required { " required" } else { "" });
                (argument.name.node.to_string(), text)
            })
            .collect();
        let member =
            Member { type_text: field.ty.node.to_string(), deprecated: is_deprecated(&field.directives), arguments };
        api.members.insert(field.name.node.to_string(), member);
    }
}

/// What clients of `before` would lose in `after`.
fn breaking_changes(before: &str, after: &str) -> Vec<String> {
    let (before, after) = (api_types(before), api_types(after));
    let mut breaks = Vec::new();
    for (name, old) in &before {
        let Some(new) = after.get(name) else {
            breaks.push(format!("type `{name}` was removed"));
            continue;
        };
        if old.kind != new.kind {
            breaks.push(format!("type `{name}` changed from {} to {}", old.kind, new.kind));
            continue;
        }
        for (member, old_member) in &old.members {
            let Some(new_member) = new.members.get(member) else {
                if !old_member.deprecated {
                    breaks.push(format!("`{name}.{member}` was removed without being deprecated first"));
                }
                continue;
            };
            if old_member.type_text != new_member.type_text {
                breaks.push(format!(
                    "`{name}.{member}` changed type from `{}` to `{}`",
                    old_member.type_text, new_member.type_text
                ));
            }
            for (argument, old_type) in &old_member.arguments {
                match new_member.arguments.get(argument) {
                    None => breaks.push(format!("argument `{name}.{member}({argument})` was removed")),
                    Some(new_type) if new_type != old_type => breaks.push(format!(
                        "argument `{name}.{member}({argument})` changed from `{old_type}` to `{new_type}`"
                    )),
                    Some(_) => {}
                }
            }
            for (argument, new_type) in &new_member.arguments {
                if !old_member.arguments.contains_key(argument) && new_type.ends_with(" required") {
                    breaks.push(format!("`{name}.{member}` gained the required argument `{argument}`"));
                }
            }
        }
        if new.kind == "input" {
            for (field, new_member) in &new.members {
                if !old.members.contains_key(field) && new_member.type_text.ends_with('!') {
                    breaks.push(format!("input `{name}` gained the required field `{field}`"));
                }
            }
        }
    }
    breaks
}

/// The previous commit's API schema, when there is a previous commit that has one.
fn previous_api_schema() -> Option<String> {
    let root = atrium_system_tests::repository_root();
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["show", "HEAD~1:schema/api.graphql"])
        .output()
        .ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn the_api_schema_breaks_no_client_of_the_previous_commit() {
    let current = std::fs::read_to_string(atrium_system_tests::repository_root().join("schema/api.graphql"))
        .expect("schema/api.graphql");
    // The first commit with an API schema, or a checkout without history, has nothing to
    // compare with.
    let Some(previous) = previous_api_schema() else { return };
    let breaks = breaking_changes(&previous, &current);
    assert!(
        breaks.is_empty(),
        "schema/api.graphql breaks clients of the previous commit (deprecate first, remove later):\n{}",
        breaks.join("\n")
    );
}

#[test]
fn removals_type_changes_and_new_required_inputs_break_and_deprecated_removals_do_not() {
    let before = r#"
        type Query { account(id: ID!): Account  accounts(first: Int): [Account!]! old: String @deprecated(reason: "use account") }
        type Account { id: ID! name: String! band: Band }
        enum Band { RED GREEN LEGACY @deprecated }
        input Filter { name: String }
    "#;
    assert!(breaking_changes(before, before).is_empty(), "a schema does not break itself");
    let compatible = r#"
        type Query { account(id: ID!): Account  accounts(first: Int, after: String): [Account!]! }
        type Account { id: ID! name: String! band: Band health: Int }
        enum Band { RED GREEN YELLOW }
        input Filter { name: String  region: String }
        type Added { id: ID! }
    "#;
    assert_eq!(breaking_changes(before, compatible), Vec::<String>::new(), "additions and deprecated removals");
    let breaking = r#"
        type Query { account(id: String!): Account  accounts(first: Int, region: String!): [Account!]! old: String }
        type Account { id: ID! band: Band }
        enum Band { GREEN LEGACY }
        input Filter { name: String  region: String! }
    "#;
    let breaks = breaking_changes(before, breaking);
    for expected in [
        "`Account.name` was removed without being deprecated first",
        "`Band.RED` was removed without being deprecated first",
        "argument `Query.account(id)` changed from `ID! required` to `String! required`",
        "`Query.accounts` gained the required argument `region`",
        "input `Filter` gained the required field `region`",
    ] {
        assert!(breaks.iter().any(|found| found == expected), "missing `{expected}` in {breaks:#?}");
    }
    assert_eq!(breaks.len(), 5, "{breaks:#?}");
}
