//! Engine tests: an in-memory subgraph transport, hand-written join v0.3
//! supergraph fixtures, and test suites per concern.

mod entities;
mod errors;
mod inaccessible;
mod introspection;
mod planning;
mod projection;
mod root_fetches;
mod units;
mod validation;

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use parking_lot::Mutex;
use serde_json::{Value, json};

use super::{Engine, EngineOptions, ExecutionResponse, GraphQLRequest, SubgraphTransport, Supergraph, TransportError};

type Handler = Arc<dyn Fn(Value) -> BoxFuture<'static, Result<Value, TransportError>> + Send + Sync>;

/// Subgraph name -> handler that inspects the JSON request and answers JSON.
/// Records every request it receives.
#[derive(Default, Clone)]
pub(super) struct MockTransport {
    handlers: HashMap<String, Handler>,
    calls: Arc<Mutex<Vec<(String, Value)>>>,
}

impl MockTransport {
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// A synchronous handler.
    pub(super) fn on<F>(mut self, subgraph: &str, handler: F) -> Self
    where
        F: Fn(&Value) -> Value + Send + Sync + 'static,
    {
        let handler = Arc::new(handler);
        self.handlers.insert(
            subgraph.to_owned(),
            Arc::new(move |request| {
                let reply = handler(&request);
                async move { Ok(reply) }.boxed()
            }),
        );
        self
    }

    /// A handler that may await (e.g. on a barrier) or fail.
    pub(super) fn on_async<F, Fut>(mut self, subgraph: &str, handler: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, TransportError>> + Send + 'static,
    {
        self.handlers.insert(subgraph.to_owned(), Arc::new(move |request| handler(request).boxed()));
        self
    }

    pub(super) fn calls(&self) -> Vec<(String, Value)> {
        self.calls.lock().clone()
    }

    pub(super) fn calls_to(&self, subgraph: &str) -> Vec<Value> {
        self.calls.lock().iter().filter(|(name, _)| name == subgraph).map(|(_, body)| body.clone()).collect()
    }
}

impl SubgraphTransport for MockTransport {
    fn fetch<'a>(&'a self, subgraph: &'a str, body: Bytes) -> BoxFuture<'a, Result<Bytes, TransportError>> {
        async move {
            let request: Value = serde_json::from_slice(&body)
                .map_err(|e| TransportError::new(format!("request body is not JSON: {e}")))?;
            self.calls.lock().push((subgraph.to_owned(), request.clone()));
            let handler = self
                .handlers
                .get(subgraph)
                .cloned()
                .ok_or_else(|| TransportError::new(format!("no handler for {subgraph}")))?;
            let reply = handler(request).await?;
            serde_json::to_vec(&reply).map(Bytes::from).map_err(|e| TransportError::new(e.to_string()))
        }
        .boxed()
    }
}

/// The `query` a subgraph received.
pub(super) fn query_of(request: &Value) -> &str {
    request["query"].as_str().unwrap_or_default()
}

/// The representations an `_entities` request carried.
pub(super) fn representations(request: &Value) -> Vec<Value> {
    request["variables"]["representations"].as_array().cloned().unwrap_or_default()
}

/// The representations sent in a named variable (batched entity calls).
pub(super) fn representations_of(request: &Value, variable: &str) -> Vec<Value> {
    request["variables"][variable].as_array().cloned().unwrap_or_default()
}

/// Answers an `_entities` request by mapping each representation.
pub(super) fn entities(request: &Value, resolve: impl Fn(&Value) -> Value) -> Value {
    let entities: Vec<Value> = representations(request).iter().map(resolve).collect();
    json!({ "data": { "_entities": entities } })
}

pub(super) fn engine(sdl: &str) -> Engine {
    engine_with(sdl, EngineOptions::default())
}

pub(super) fn engine_with(sdl: &str, options: EngineOptions) -> Engine {
    let supergraph = Supergraph::from_sdl(sdl).expect("fixture supergraph is valid");
    Engine::new(Arc::new(supergraph), options)
}

pub(super) async fn run(engine: &Engine, transport: &MockTransport, query: &str) -> ExecutionResponse {
    engine.execute(&GraphQLRequest::new(query), transport).await
}

pub(super) async fn run_with(
    engine: &Engine,
    transport: &MockTransport,
    query: &str,
    variables: Value,
) -> ExecutionResponse {
    let variables = match variables {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    engine.execute(&GraphQLRequest::new(query).with_variables(variables), transport).await
}

/// The join v0.3 definitions every fixture shares (each adds its `schema` block).
const JOIN_HEADER: &str = r#"

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

scalar join__FieldSet
scalar link__Import

enum link__Purpose {
  SECURITY
  EXECUTION
}
"#;

/// accounts (users), products (catalog, search, media), reviews, inventory
/// (`@requires` on price and weight).
pub(super) fn shop_supergraph() -> String {
    format!(
        "{JOIN_HEADER}{}",
        r#"
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION) {
  query: Query
  mutation: Mutation
  subscription: Subscription
}

enum join__Graph {
  ACCOUNTS @join__graph(name: "accounts", url: "http://accounts")
  INVENTORY @join__graph(name: "inventory", url: "http://inventory")
  PRODUCTS @join__graph(name: "products", url: "http://products")
  REVIEWS @join__graph(name: "reviews", url: "http://reviews")
}

type Query
  @join__type(graph: ACCOUNTS)
  @join__type(graph: INVENTORY)
  @join__type(graph: PRODUCTS)
  @join__type(graph: REVIEWS)
{
  me: User @join__field(graph: ACCOUNTS)
  users: [User!]! @join__field(graph: ACCOUNTS)
  topProducts(first: Int = 5): [Product!]! @join__field(graph: PRODUCTS)
  product(upc: String!): Product @join__field(graph: PRODUCTS)
  search(term: String!): [SearchResult!]! @join__field(graph: PRODUCTS)
  media: [Media!]! @join__field(graph: PRODUCTS)
}

type Mutation @join__type(graph: ACCOUNTS) @join__type(graph: REVIEWS) {
  rename(name: String!): User @join__field(graph: ACCOUNTS)
  addReview(upc: String!, body: String!): Review @join__field(graph: REVIEWS)
}

type Subscription @join__type(graph: REVIEWS) {
  reviewAdded: Review @join__field(graph: REVIEWS)
}

type User
  @join__type(graph: ACCOUNTS, key: "id")
  @join__type(graph: REVIEWS, key: "id")
{
  id: ID!
  name: String! @join__field(graph: ACCOUNTS)
  username: String @join__field(graph: ACCOUNTS)
  reviews: [Review!]! @join__field(graph: REVIEWS)
}

type Product
  @join__type(graph: INVENTORY, key: "upc")
  @join__type(graph: PRODUCTS, key: "upc")
  @join__type(graph: REVIEWS, key: "upc")
{
  upc: String!
  name: String! @join__field(graph: PRODUCTS)
  price: Int @join__field(graph: INVENTORY, external: true) @join__field(graph: PRODUCTS)
  weight: Int @join__field(graph: INVENTORY, external: true) @join__field(graph: PRODUCTS)
  inStock: Boolean @join__field(graph: INVENTORY)
  shippingEstimate: Int @join__field(graph: INVENTORY, requires: "price weight")
  reviews: [Review!]! @join__field(graph: REVIEWS)
}

type Review @join__type(graph: REVIEWS, key: "id") {
  id: ID!
  body: String!
  author: User!
  product: Product!
}

union SearchResult
  @join__type(graph: PRODUCTS)
  @join__unionMember(graph: PRODUCTS, member: "Book")
  @join__unionMember(graph: PRODUCTS, member: "Movie")
  = Book | Movie

interface Media @join__type(graph: PRODUCTS) {
  id: ID!
  title: String!
}

type Book implements Media
  @join__type(graph: PRODUCTS, key: "id")
  @join__type(graph: REVIEWS, key: "id")
  @join__implements(graph: PRODUCTS, interface: "Media")
{
  id: ID!
  title: String! @join__field(graph: PRODUCTS)
  pages: Int @join__field(graph: PRODUCTS)
  rating: Int @join__field(graph: REVIEWS)
}

type Movie implements Media
  @join__type(graph: PRODUCTS)
  @join__implements(graph: PRODUCTS, interface: "Media")
{
  id: ID!
  title: String!
  minutes: Int
}
"#
    )
}

/// catalog owns items; pricing computes prices with arguments; catalog derives
/// two fields from two differently-argumented prices (planned as a BatchFetch).
pub(super) fn pricing_supergraph() -> String {
    format!(
        "{JOIN_HEADER}{}",
        r#"
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION) {
  query: Query
}

enum join__Graph {
  CATALOG @join__graph(name: "catalog", url: "http://catalog")
  PRICING @join__graph(name: "pricing", url: "http://pricing")
}

type Query @join__type(graph: CATALOG) @join__type(graph: PRICING) {
  items: [Item] @join__field(graph: CATALOG)
}

type Item
  @join__type(graph: CATALOG, key: "sku")
  @join__type(graph: PRICING, key: "sku")
{
  sku: String!
  price(discounted: Boolean): Int @join__field(graph: CATALOG, external: true) @join__field(graph: PRICING)
  isExpensive: Boolean @join__field(graph: CATALOG, requires: "price(discounted: false)")
  isBargain: Boolean @join__field(graph: CATALOG, requires: "price(discounted: true)")
}
"#
    )
}

/// people resolves members (an interface); billing extends them as an
/// `@interfaceObject` and lists debtors without knowing their concrete types.
pub(super) fn directory_supergraph() -> String {
    format!(
        "{JOIN_HEADER}{}",
        r#"
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION) {
  query: Query
}

enum join__Graph {
  BILLING @join__graph(name: "billing", url: "http://billing")
  PEOPLE @join__graph(name: "people", url: "http://people")
}

type Query @join__type(graph: BILLING) @join__type(graph: PEOPLE) {
  members: [Member!]! @join__field(graph: PEOPLE)
  debtors: [Member!]! @join__field(graph: BILLING)
}

interface Member
  @join__type(graph: PEOPLE, key: "id")
  @join__type(graph: BILLING, key: "id", isInterfaceObject: true)
{
  id: ID!
  name: String! @join__field(graph: PEOPLE)
  balance: Int @join__field(graph: BILLING)
}

type Staff implements Member
  @join__implements(graph: PEOPLE, interface: "Member")
  @join__type(graph: PEOPLE, key: "id")
{
  id: ID!
  name: String!
  role: String
  balance: Int @join__field
}

type Guest implements Member
  @join__implements(graph: PEOPLE, interface: "Member")
  @join__type(graph: PEOPLE, key: "id")
{
  id: ID!
  name: String!
  balance: Int @join__field
}
"#
    )
}
