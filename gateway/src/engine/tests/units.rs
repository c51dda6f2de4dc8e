//! Unit tests of the executor's building blocks: representations, rewrites,
//! de-duplication, path walking and merging.

use serde_json::json;

use crate::engine::merge::{deep_merge, position_mut, visit_path};
use crate::engine::plan::{InputItem, InputSelection, PathSegment, Rewrite, RewriteSegment};
use crate::engine::representations::{RepresentationSet, apply_rewrites, build};
use crate::engine::schema::SchemaIndex;

fn types() -> SchemaIndex {
    let document = graphql_tools::parser::parse_schema::<String>(
        "type Query { a: Int } interface Node { id: ID! } type User implements Node { id: ID! } type Post implements Node { id: ID! }",
    )
    .expect("schema parses")
    .into_static();
    SchemaIndex::new(&document)
}

fn field(name: &str) -> InputItem {
    InputItem::Field { source_key: name.into(), output_key: name.into(), selection: None }
}

#[test]
fn builds_representations_from_matching_fragments_only() {
    let types = types();
    let requires = InputSelection(vec![
        InputItem::Fragment {
            type_condition: "User".into(),
            selection: InputSelection(vec![field("__typename"), field("id")]),
        },
        InputItem::Fragment {
            type_condition: "Post".into(),
            selection: InputSelection(vec![field("__typename"), field("slug")]),
        },
    ]);
    let user = json!({ "__typename": "User", "id": "1", "name": "Ada" });
    let post_without_slug = json!({ "__typename": "Post", "id": "2" });

    assert_eq!(
        build(user.as_object().expect("object"), &requires, &types).map(serde_json::Value::Object),
        Some(json!({ "__typename": "User", "id": "1" }))
    );
    assert_eq!(
        build(post_without_slug.as_object().expect("object"), &requires, &types),
        None,
        "an entity missing a required field is not sent"
    );
}

#[test]
fn reads_internally_aliased_fields_under_their_original_key() {
    let types = types();
    let requires = InputSelection(vec![
        field("__typename"),
        InputItem::Field { source_key: "_internal_qp_alias_0".into(), output_key: "price".into(), selection: None },
    ]);
    let item = json!({ "__typename": "User", "price": 1, "_internal_qp_alias_0": 2 });
    assert_eq!(
        build(item.as_object().expect("object"), &requires, &types).map(serde_json::Value::Object),
        Some(json!({ "__typename": "User", "price": 2 }))
    );
}

#[test]
fn applies_value_setters_and_key_renamers() {
    let types = types();
    let mut value = json!({ "__typename": "User", "id": "1", "nested": [{ "_alias": 1 }, { "_alias": 2 }] });
    apply_rewrites(
        &mut value,
        &[
            Rewrite::SetValue {
                path: vec![
                    RewriteSegment::TypenameEquals(vec!["Node".into()]),
                    RewriteSegment::Key("__typename".into()),
                ],
                value: "Node".into(),
            },
            Rewrite::RenameKey {
                path: vec![RewriteSegment::Key("nested".into()), RewriteSegment::Key("_alias".into())],
                to: "score".into(),
            },
            Rewrite::SetValue {
                path: vec![RewriteSegment::TypenameEquals(vec!["Post".into()]), RewriteSegment::Key("id".into())],
                value: "never".into(),
            },
        ],
        &types,
    );
    assert_eq!(value, json!({ "__typename": "Node", "id": "1", "nested": [{ "score": 1 }, { "score": 2 }] }));
}

#[test]
fn de_duplicates_identical_representations() {
    let mut set = RepresentationSet::default();
    assert_eq!(set.insert(&json!({ "__typename": "User", "id": "1" })), 0);
    assert_eq!(set.insert(&json!({ "__typename": "User", "id": "2" })), 1);
    assert_eq!(set.insert(&json!({ "__typename": "User", "id": "1" })), 0);
    assert_eq!(
        String::from_utf8(set.subset(&[0, 1])).expect("utf-8"),
        r#"[{"__typename":"User","id":"1"},{"__typename":"User","id":"2"}]"#
    );
    assert_eq!(set.subset(&[1]), br#"[{"__typename":"User","id":"2"}]"#);
    assert_eq!(RepresentationSet::default().subset(&[]), b"[]");
}

#[test]
fn walks_flatten_paths_with_lists_and_type_conditions() {
    let types = types();
    let data = json!({ "feed": [
        { "__typename": "User", "id": "1" },
        null,
        { "__typename": "Post", "id": "2" },
        { "__typename": "User", "id": "3" }
    ] });
    let path = [PathSegment::Field("feed".into()), PathSegment::List, PathSegment::TypeCondition(vec!["User".into()])];
    let mut seen = Vec::new();
    visit_path(&data, &path, &types, &mut Vec::new(), &mut |object, at| {
        seen.push((object["id"].clone(), at.to_vec()));
    });
    assert_eq!(seen, [(json!("1"), vec![0]), (json!("3"), vec![3])]);

    let mut data = data;
    let target = position_mut(&mut data, &path, &[3]).expect("position exists");
    deep_merge(target, json!({ "name": "Grace" }), &types);
    assert_eq!(data["feed"][3], json!({ "__typename": "User", "id": "3", "name": "Grace" }));
}

#[test]
fn deep_merges_without_erasing_resolved_values() {
    let types = types();
    let mut target = json!({ "a": { "b": 1, "list": [{ "x": 1 }] }, "c": { "d": 1 } });
    deep_merge(&mut target, json!({ "a": { "e": 2, "list": [{ "y": 2 }] }, "c": null, "__typename": "User" }), &types);
    assert_eq!(
        target,
        json!({ "a": { "b": 1, "list": [{ "x": 1, "y": 2 }], "e": 2 }, "c": { "d": 1 }, "__typename": "User" })
    );
    // An interface name (from an @interfaceObject subgraph) does not replace the concrete type.
    deep_merge(&mut target, json!({ "__typename": "Node" }), &types);
    assert_eq!(target["__typename"], "User");
}
