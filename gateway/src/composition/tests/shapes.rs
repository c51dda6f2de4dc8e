//! Every supergraph construct the composer emits, in one small composition:
//! interfaces and `@join__implements`, unions and `@join__unionMember`,
//! enums merged across subgraphs, input defaults, `@provides`, `@override`,
//! `@interfaceObject`, `@inaccessible` on arguments and `@deprecated`.

use super::fixtures::subgraph;
use super::planning::{plan, planner_for};
use crate::composition::compose;

const MEDIA: &str = r#"
type Query {
    "Everything published, newest first."
    media(first: Int = 10, cursor: String @inaccessible): [Media!]!
    search(term: String!): [SearchResult!]!
}

interface Media @key(fields: "id") {
    id: ID!
    title: String!
}

type Book implements Media @key(fields: "id") {
    id: ID!
    title: String!
    isbn: String! @deprecated(reason: "use `id`")
}

type Film implements Media @key(fields: "id") {
    id: ID!
    title: String!
    director: Person! @provides(fields: "name")
}

type Person @key(fields: "id") {
    id: ID!
    name: String! @external
    format: Format
}

union SearchResult = Book | Film

enum Format {
    PRINT
    DIGITAL
}

input Window {
    from: Int = 0
    to: Int
}
"#;

const PEOPLE: &str = r#"
type Query {
    person(id: ID!): Person
}

type Person @key(fields: "id") {
    id: ID!
    name: String! @shareable
    format: Format @override(from: "media")
}

enum Format {
    DIGITAL
    AUDIO
}
"#;

const REVIEWS: &str = r#"
type Media @key(fields: "id") @interfaceObject {
    id: ID!
    rating(window: Window): Float
}

input Window {
    from: Int = 0
    to: Int
}
"#;

fn media_subgraphs() -> Vec<crate::composition::SubgraphDefinition> {
    vec![subgraph("media", MEDIA), subgraph("people", PEOPLE), subgraph("reviews", REVIEWS)]
}

#[test]
fn interfaces_unions_enums_overrides_and_interface_objects_compose() {
    let supergraph = compose(&media_subgraphs()).expect("media subgraphs compose");
    insta::assert_snapshot!(supergraph);
}

#[test]
fn the_planner_reaches_interface_object_fields_and_overridden_fields() {
    let supergraph = compose(&media_subgraphs()).expect("compose");
    let planner = planner_for(&supergraph);

    let rated = plan(&planner, "query { media { title ... on Book { rating } } }");
    assert_eq!(rated.services(), ["media", "reviews"], "{}", rated.text);

    let overridden = plan(&planner, r#"query { person(id: "p-1") { format } }"#);
    assert_eq!(overridden.services(), ["people"], "{}", overridden.text);

    let provided = plan(&planner, "query { search { ... on Film { director { name } } } }");
    assert_eq!(provided.services(), ["media"], "{}", provided.text);
}
