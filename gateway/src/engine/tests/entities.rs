//! Entity fetches: batching and de-duplication of representations, `@requires`,
//! nested list paths and merging results back into every position.

use serde_json::json;

use super::*;

#[tokio::test]
async fn batches_entity_fetches_into_one_call_per_subgraph() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new()
        .on("products", |_| {
            json!({ "data": { "topProducts": [
                { "__typename": "Product", "upc": "p1", "name": "Table" },
                { "__typename": "Product", "upc": "p2", "name": "Chair" },
                { "__typename": "Product", "upc": "p1", "name": "Table" }
            ] } })
        })
        .on("reviews", |request| {
            entities(request, |rep| {
                let upc = rep["upc"].as_str().unwrap_or_default();
                json!({ "reviews": [{ "body": format!("about {upc}") }] })
            })
        });

    let response = run(&engine, &transport, "{ topProducts { upc name reviews { body } } }").await;

    assert_eq!(
        response.body,
        json!({ "data": { "topProducts": [
            { "upc": "p1", "name": "Table", "reviews": [{ "body": "about p1" }] },
            { "upc": "p2", "name": "Chair", "reviews": [{ "body": "about p2" }] },
            { "upc": "p1", "name": "Table", "reviews": [{ "body": "about p1" }] }
        ] } })
    );
    let calls = transport.calls_to("reviews");
    assert_eq!(calls.len(), 1, "one _entities call for all three products");
    assert_eq!(
        representations(&calls[0]),
        [json!({ "__typename": "Product", "upc": "p1" }), json!({ "__typename": "Product", "upc": "p2" })],
        "identical representations are sent once"
    );
    assert!(query_of(&calls[0]).contains("_entities(representations: $representations)"));
}

#[tokio::test]
async fn computes_requires_fields_in_another_subgraph() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new()
        .on("products", |request| {
            assert_eq!(query_of(request), "{topProducts{__typename name upc price weight}}");
            json!({ "data": { "topProducts": [
                { "__typename": "Product", "name": "Table", "upc": "p1", "price": 100, "weight": 20 },
                { "__typename": "Product", "name": "Lamp", "upc": "p2", "price": 30, "weight": 1 }
            ] } })
        })
        .on("inventory", |request| {
            entities(request, |rep| {
                let price = rep["price"].as_i64().unwrap_or_default();
                let weight = rep["weight"].as_i64().unwrap_or_default();
                json!({ "shippingEstimate": price / 10 + weight })
            })
        });

    let response = run(&engine, &transport, "{ topProducts { name shippingEstimate } }").await;

    assert_eq!(
        response.body,
        json!({ "data": { "topProducts": [
            { "name": "Table", "shippingEstimate": 30 },
            { "name": "Lamp", "shippingEstimate": 4 }
        ] } }),
        "fields fetched only for @requires and keys do not leak into the response"
    );
    assert_eq!(
        representations(&transport.calls_to("inventory")[0]),
        [
            json!({ "__typename": "Product", "price": 100, "weight": 20, "upc": "p1" }),
            json!({ "__typename": "Product", "price": 30, "weight": 1, "upc": "p2" })
        ]
    );
}

#[tokio::test]
async fn merges_entities_along_nested_list_paths() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new()
        .on("accounts", |_| {
            json!({ "data": { "users": [
                { "__typename": "User", "id": "u1", "name": "Ada" },
                { "__typename": "User", "id": "u2", "name": "Grace" }
            ] } })
        })
        .on("reviews", |request| {
            entities(request, |rep| match rep["id"].as_str() {
                Some("u1") => json!({ "reviews": [
                    { "body": "Nice", "product": { "__typename": "Product", "upc": "p1" } },
                    { "body": "Meh", "product": { "__typename": "Product", "upc": "p2" } }
                ] }),
                _ => json!({ "reviews": [
                    { "body": "Solid", "product": { "__typename": "Product", "upc": "p1" } }
                ] }),
            })
        })
        .on("products", |request| {
            entities(request, |rep| json!({ "name": format!("Product {}", rep["upc"].as_str().unwrap_or_default()) }))
        });

    let response = run(&engine, &transport, "{ users { name reviews { body product { name } } } }").await;

    assert_eq!(
        response.body,
        json!({ "data": { "users": [
            { "name": "Ada", "reviews": [
                { "body": "Nice", "product": { "name": "Product p1" } },
                { "body": "Meh", "product": { "name": "Product p2" } }
            ] },
            { "name": "Grace", "reviews": [
                { "body": "Solid", "product": { "name": "Product p1" } }
            ] }
        ] } })
    );
    // Three product positions, two distinct products, one call.
    let calls = transport.calls_to("products");
    assert_eq!(calls.len(), 1);
    assert_eq!(representations(&calls[0]).len(), 2);
}

#[tokio::test]
async fn skips_the_entity_call_when_no_position_needs_it() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new().on("products", |_| json!({ "data": { "topProducts": [] } }));

    let response = run(&engine, &transport, "{ topProducts { reviews { body } } }").await;

    assert_eq!(response.body, json!({ "data": { "topProducts": [] } }));
    assert!(transport.calls_to("reviews").is_empty());
}

#[tokio::test]
async fn executes_a_batch_fetch_with_one_representation_list_per_alias() {
    let engine = engine(&pricing_supergraph());
    let transport = MockTransport::new()
        .on("catalog", |request| {
            if query_of(request).contains("_entities") {
                // _e0 answers isBargain from the discounted price, _e1 isExpensive.
                let answer = |variable: &str, field: &str, decide: fn(i64) -> bool| {
                    representations_of(request, variable)
                        .iter()
                        .map(|rep| json!({ field: decide(rep["price"].as_i64().unwrap_or_default()) }))
                        .collect::<Vec<_>>()
                };
                json!({ "data": {
                    "_e0": answer("__batch_reps_0", "isBargain", |price| price < 50),
                    "_e1": answer("__batch_reps_1", "isExpensive", |price| price > 100)
                } })
            } else {
                json!({ "data": { "items": [
                    { "__typename": "Item", "sku": "a" },
                    { "__typename": "Item", "sku": "b" }
                ] } })
            }
        })
        .on("pricing", |request| {
            entities(request, |rep| match rep["sku"].as_str() {
                Some("a") => json!({ "price": 200, "_internal_qp_alias_0": 150 }),
                _ => json!({ "price": 60, "_internal_qp_alias_0": 40 }),
            })
        });

    let response = run(&engine, &transport, "{ items { isExpensive isBargain } }").await;

    assert_eq!(
        response.body,
        json!({ "data": { "items": [
            { "isExpensive": true, "isBargain": false },
            { "isExpensive": false, "isBargain": true }
        ] } })
    );
    let batch = transport
        .calls_to("catalog")
        .into_iter()
        .find(|request| query_of(request).contains("_entities"))
        .expect("a batched entity call");
    // Each alias carries its own representations, with the internally aliased
    // price renamed back to `price` for the discounted one.
    assert_eq!(
        representations_of(&batch, "__batch_reps_0"),
        [
            json!({ "__typename": "Item", "price": 150, "sku": "a" }),
            json!({ "__typename": "Item", "price": 40, "sku": "b" })
        ]
    );
    assert_eq!(
        representations_of(&batch, "__batch_reps_1"),
        [
            json!({ "__typename": "Item", "price": 200, "sku": "a" }),
            json!({ "__typename": "Item", "price": 60, "sku": "b" })
        ]
    );
    assert_eq!(transport.calls_to("catalog").len(), 2);
}

#[tokio::test]
async fn rewrites_typenames_for_interface_objects_and_keeps_the_concrete_type() {
    let engine = engine(&directory_supergraph());
    let transport = MockTransport::new()
        .on("people", |_| {
            json!({ "data": { "members": [
                { "__typename": "Staff", "name": "Ada", "id": "1", "role": "admin" },
                { "__typename": "Guest", "name": "Bob", "id": "2" }
            ] } })
        })
        .on("billing", |request| {
            entities(request, |rep| json!({ "__typename": "Member", "balance": if rep["id"] == "1" { 10 } else { 0 } }))
        });

    let response = run(&engine, &transport, "{ members { __typename name balance ... on Staff { role } } }").await;

    assert_eq!(
        response.body,
        json!({ "data": { "members": [
            { "__typename": "Staff", "name": "Ada", "balance": 10, "role": "admin" },
            { "__typename": "Guest", "name": "Bob", "balance": 0 }
        ] } })
    );
    assert_eq!(
        representations(&transport.calls_to("billing")[0]),
        [json!({ "__typename": "Member", "id": "1" }), json!({ "__typename": "Member", "id": "2" })]
    );
}

#[tokio::test]
async fn fetches_entities_only_for_union_members_matching_the_type_condition() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new()
        .on("products", |_| {
            json!({ "data": { "search": [
                { "__typename": "Book", "id": "b1", "title": "Dune" },
                { "__typename": "Movie", "title": "Alien" },
                { "__typename": "Book", "id": "b2", "title": "Emma" }
            ] } })
        })
        .on("reviews", |request| entities(request, |rep| json!({ "rating": if rep["id"] == "b1" { 5 } else { 3 } })));
    let query = r#"{ search(term: "x") { ... on Book { title rating } ... on Movie { title } } }"#;

    let response = run(&engine, &transport, query).await;

    assert_eq!(
        response.body,
        json!({ "data": { "search": [
            { "title": "Dune", "rating": 5 },
            { "title": "Alien" },
            { "title": "Emma", "rating": 3 }
        ] } })
    );
    assert_eq!(
        representations(&transport.calls_to("reviews")[0]),
        [json!({ "__typename": "Book", "id": "b1" }), json!({ "__typename": "Book", "id": "b2" })]
    );
    let plan = engine.prepare(&GraphQLRequest::new(query)).await.expect("plans").plan_json();
    assert_eq!(plan["nodes"][1]["path"], "search.@|[Book]");
}

#[tokio::test]
async fn batches_one_entity_type_across_several_merge_paths() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new()
        .on("accounts", |_| {
            json!({ "data": {
                "me": { "__typename": "User", "id": "u1" },
                "users": [{ "__typename": "User", "id": "u1" }, { "__typename": "User", "id": "u2" }]
            } })
        })
        .on("reviews", |request| {
            let reps = representations_of(request, "__batch_reps_0");
            let answers: Vec<serde_json::Value> = reps
                .iter()
                .map(|rep| json!({ "reviews": [{ "body": format!("by {}", rep["id"].as_str().unwrap_or_default()) }] }))
                .collect();
            json!({
                "data": { "_e0": answers },
                "errors": [{ "message": "partial", "path": ["_e0", 1, "reviews"] }]
            })
        });
    let query = "{ me { reviews { body } } users { reviews { body } } }";

    let response = run(&engine, &transport, query).await;

    assert_eq!(
        response.body,
        json!({
            "data": {
                "me": { "reviews": [{ "body": "by u1" }] },
                "users": [{ "reviews": [{ "body": "by u1" }] }, { "reviews": [{ "body": "by u2" }] }]
            },
            "errors": [{
                "message": "partial",
                "path": ["users", 1, "reviews"],
                "extensions": { "code": "DOWNSTREAM_SERVICE_ERROR", "serviceName": "reviews" }
            }]
        })
    );
    let calls = transport.calls_to("reviews");
    assert_eq!(calls.len(), 1);
    assert_eq!(
        representations_of(&calls[0], "__batch_reps_0"),
        [json!({ "__typename": "User", "id": "u1" }), json!({ "__typename": "User", "id": "u2" })],
        "`me` and `users[0]` are the same entity and are sent once"
    );
    let plan = engine.prepare(&GraphQLRequest::new(query)).await.expect("plans").plan_json();
    assert_eq!(plan["nodes"][1]["kind"], "BatchFetch");
}

/// An entity cache in memory, keyed by representation, with a transport that offers it.
#[derive(Default)]
struct MemoryEntityCache {
    entries: Mutex<HashMap<String, Value>>,
}

impl crate::engine::EntityCache for MemoryEntityCache {
    fn lookup<'a>(
        &'a self,
        _fetch: crate::engine::EntityFetch<'a>,
        representations: Vec<&'a [u8]>,
    ) -> BoxFuture<'a, Option<crate::engine::EntityLookup>> {
        let keys: Vec<String> =
            representations.iter().map(|bytes| String::from_utf8_lossy(bytes).into_owned()).collect();
        let found = keys.iter().map(|key| self.entries.lock().get(key).cloned()).collect();
        async move { Some(crate::engine::EntityLookup { found, keys, max_age: 60 }) }.boxed()
    }

    fn store<'a>(
        &'a self,
        lookup: &'a crate::engine::EntityLookup,
        fetched: Vec<(usize, &'a Value)>,
    ) -> BoxFuture<'a, ()> {
        for (index, entity) in fetched {
            self.entries.lock().insert(lookup.keys[index].clone(), entity.clone());
        }
        async {}.boxed()
    }
}

struct CachingTransport<'a> {
    inner: &'a MockTransport,
    cache: &'a MemoryEntityCache,
}

impl SubgraphTransport for CachingTransport<'_> {
    fn fetch<'a>(&'a self, subgraph: &'a str, body: Bytes) -> BoxFuture<'a, Result<Bytes, TransportError>> {
        self.inner.fetch(subgraph, body)
    }

    fn entity_cache(&self) -> Option<&dyn crate::engine::EntityCache> {
        Some(self.cache)
    }
}

#[tokio::test]
async fn cached_entities_are_not_fetched_again_and_merge_into_their_positions() {
    let engine = engine(&shop_supergraph());
    let products = Arc::new(Mutex::new(json!(["p1", "p2"])));
    let listed = Arc::clone(&products);
    let transport = MockTransport::new()
        .on("products", move |_| {
            let upcs: Vec<Value> = listed.lock().as_array().unwrap().clone();
            let products: Vec<Value> =
                upcs.iter().map(|upc| json!({ "__typename": "Product", "upc": upc, "name": upc })).collect();
            json!({ "data": { "topProducts": products } })
        })
        .on("reviews", |request| {
            let reps = representations(request);
            let entities: Vec<Value> = reps
                .iter()
                .map(|rep| json!({ "reviews": [{ "body": format!("about {}", rep["upc"].as_str().unwrap()) }] }))
                .collect();
            // A failure on the last representation sent, to check error paths.
            let last = reps.len() - 1;
            json!({ "data": { "_entities": entities }, "errors": [
                { "message": "late", "path": ["_entities", last, "reviews"] }
            ] })
        });
    let cache = MemoryEntityCache::default();
    let caching = CachingTransport { inner: &transport, cache: &cache };
    let query = "{ topProducts { upc reviews { body } } }";
    let request = GraphQLRequest::new(query);

    let first = engine.execute(&request, &caching).await;
    assert_eq!(first.body["data"]["topProducts"][1]["reviews"][0]["body"], "about p2");
    assert!(cache.entries.lock().is_empty(), "an answer with errors is not stored");

    let transport = transport.on("reviews", |request| {
        entities(request, |rep| json!({ "reviews": [{ "body": format!("about {}", rep["upc"].as_str().unwrap()) }] }))
    });
    let caching = CachingTransport { inner: &transport, cache: &cache };
    engine.execute(&request, &caching).await;
    assert_eq!(cache.entries.lock().len(), 2, "a clean answer stores every entity");

    *products.lock() = json!(["p3", "p1", "p3"]);
    let response = engine.execute(&request, &caching).await;
    assert_eq!(
        response.body,
        json!({ "data": { "topProducts": [
            { "upc": "p3", "reviews": [{ "body": "about p3" }] },
            { "upc": "p1", "reviews": [{ "body": "about p1" }] },
            { "upc": "p3", "reviews": [{ "body": "about p3" }] }
        ] } })
    );
    let reviews = transport.calls_to("reviews");
    assert_eq!(
        representations(reviews.last().unwrap()),
        [json!({ "__typename": "Product", "upc": "p3" })],
        "only the representation the cache lacks is sent"
    );

    let calls_before = transport.calls_to("reviews").len();
    engine.execute(&request, &caching).await;
    assert_eq!(transport.calls_to("reviews").len(), calls_before, "everything cached: no call at all");
}

#[tokio::test]
async fn errors_of_a_partial_fetch_point_at_the_positions_that_were_sent() {
    let engine = engine(&shop_supergraph());
    let transport = MockTransport::new()
        .on("products", |_| {
            json!({ "data": { "topProducts": [
                { "__typename": "Product", "upc": "p1", "name": "Table" },
                { "__typename": "Product", "upc": "p2", "name": "Chair" }
            ] } })
        })
        .on("reviews", |request| {
            let sent = representations(request).len();
            json!({ "data": { "_entities": vec![json!({ "reviews": [] }); sent] }, "errors": [
                { "message": "late", "path": ["_entities", 0, "reviews"] }
            ] })
        });
    let cache = MemoryEntityCache::default();
    cache
        .entries
        .lock()
        .insert(r#"{"__typename":"Product","upc":"p1"}"#.to_owned(), json!({ "reviews": [{ "body": "cached" }] }));
    let caching = CachingTransport { inner: &transport, cache: &cache };

    let response = engine.execute(&GraphQLRequest::new("{ topProducts { upc reviews { body } } }"), &caching).await;
    assert_eq!(response.body["data"]["topProducts"][0]["reviews"][0]["body"], "cached", "{:#}", response.body);
    assert_eq!(response.body["errors"][0]["path"], json!(["topProducts", 1, "reviews"]), "{:#}", response.body);
}
