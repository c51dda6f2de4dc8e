//! The demo seed is idempotent: starting again on a seeded database adds nothing.

use atrium_kit::testing;
use serde_json::json;

use crate::helpers::spawn;

#[tokio::test]
async fn restarting_on_a_seeded_database_keeps_the_same_rows() {
    let database_url = testing::sqlite_url("support");
    let query = "{ tickets(first: 100) { nodes { id number status } } }";
    let first = spawn(database_url.clone(), None).await.data("ridgeline", query, json!({})).await;
    let second = spawn(database_url, None).await.data("ridgeline", query, json!({})).await;
    assert_eq!(first, second);
}
