//! The load benchmark's subgraphs: accounts, products, reviews and inventory in the schema
//! shape of the public GraphQL gateways benchmark (users with reviews of products, a
//! `@provides` on review authors, a `@requires` shipping estimate), over deterministic data
//! sized so that `bench/query.graphql` answers about 87 KB through the gateway.
//!
//! The schemas are plain async-graphql Federation v2 subgraphs; `serve` answers
//! `POST /graphql` without any tenant check (they stand in for third-party subgraphs).

pub mod data;
mod subgraphs;

use async_graphql::SDLExportOptions;
use axum::{Json, Router, routing::post};

pub use subgraphs::{AccountsSchema, InventorySchema, ProductsSchema, ReviewsSchema};

/// The four subgraph names, in the order ports are assigned.
pub const SUBGRAPHS: [&str; 4] = ["accounts", "inventory", "products", "reviews"];

/// The nested benchmark query (`bench/query.graphql`).
pub const QUERY: &str = include_str!("../query.graphql");

/// One benchmark subgraph's schema, ready to serve or to execute in-process.
#[derive(Clone)]
pub enum BenchSubgraph {
    Accounts(AccountsSchema),
    Inventory(InventorySchema),
    Products(ProductsSchema),
    Reviews(ReviewsSchema),
}

impl BenchSubgraph {
    /// The subgraph called `name`, if it is one of [`SUBGRAPHS`].
    pub fn by_name(name: &str) -> Option<Self> {
        Some(match name {
            "accounts" => Self::Accounts(subgraphs::accounts()),
            "inventory" => Self::Inventory(subgraphs::inventory()),
            "products" => Self::Products(subgraphs::products()),
            "reviews" => Self::Reviews(subgraphs::reviews()),
            _ => return None,
        })
    }

    /// Federation SDL as served over `_service { sdl }`.
    pub fn sdl(&self) -> String {
        let options = SDLExportOptions::new().federation();
        match self {
            Self::Accounts(schema) => schema.sdl_with_options(options),
            Self::Inventory(schema) => schema.sdl_with_options(options),
            Self::Products(schema) => schema.sdl_with_options(options),
            Self::Reviews(schema) => schema.sdl_with_options(options),
        }
    }

    /// Executes one GraphQL request in-process.
    pub async fn execute(&self, request: async_graphql::Request) -> async_graphql::Response {
        match self {
            Self::Accounts(schema) => schema.execute(request).await,
            Self::Inventory(schema) => schema.execute(request).await,
            Self::Products(schema) => schema.execute(request).await,
            Self::Reviews(schema) => schema.execute(request).await,
        }
    }

    /// `POST /graphql` for this subgraph.
    pub fn router(self) -> Router {
        Router::new().route(
            "/graphql",
            post(move |Json(request): Json<async_graphql::Request>| {
                let subgraph = self.clone();
                async move { Json(subgraph.execute(request).await) }
            }),
        )
    }
}
