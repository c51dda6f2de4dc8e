//! `@external`: a field a subgraph declares but does not resolve is always fetched from
//! its owner.

use serde_json::json;

use super::{requires::fixtures, services_in};

#[tokio::test]
async fn an_external_field_is_fetched_from_its_owner_never_from_the_declaring_subgraph() {
    let scenario = fixtures::scenario().await;
    assert!(scenario.supergraph_sdl().contains("external: true"), "{}", scenario.supergraph_sdl());

    // `inventory` declares `price @external`: only `products` may answer it.
    let answer = scenario.query("{ products { upc price weight } }").await;
    assert_eq!(
        answer.response,
        json!({ "data": { "products": [
            { "upc": "1", "price": 899, "weight": 100 },
            { "upc": "2", "price": 1299, "weight": 1000 },
        ] } })
    );
    assert_eq!(services_in(&answer.plan), ["products"]);

    // Mixing in a field `inventory` owns jumps there for that field alone.
    let answer = scenario.query("{ products { price inStock } }").await;
    assert_eq!(services_in(&answer.plan), ["products", "inventory"]);
    insta::assert_json_snapshot!(answer.snapshot());
}
