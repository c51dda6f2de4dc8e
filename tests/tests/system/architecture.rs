//! The layering ARCHITECTURE.md promises, checked on the workspace itself: the gateway
//! shares only `atrium-contract` with the services and links no database crate, so a
//! change to the service runtime can neither slow the gateway's build nor reach its
//! request path.

use std::collections::BTreeSet;

/// Names of every package `root` links in a normal build for this machine (not dev, not
/// build-only), from `cargo tree`, resolved offline: the build fetched everything.
fn linked_packages(root: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args(["tree", "--offline", "--edges", "normal", "--prefix", "none", "--format", "{p}", "--package", root])
        .arg("--manifest-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"))
        .output()
        .expect("run cargo tree");
    assert!(output.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .expect("cargo tree output")
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_gateway_links_no_database_crate_and_no_service_runtime() {
    let linked = linked_packages("atrium-gateway");
    assert!(linked.contains("atrium-contract"), "the gateway shares the contract crate: {linked:?}");
    let forbidden: Vec<&String> = linked
        .iter()
        .filter(|name| {
            name.starts_with("sea-orm")
                || name.starts_with("sqlx")
                || name.starts_with("sea-query")
                || *name == "atrium-kit"
        })
        .collect();
    assert!(forbidden.is_empty(), "the gateway links {forbidden:?}");
}

#[test]
fn the_service_runtime_builds_on_the_contract() {
    let linked = linked_packages("atrium-kit");
    assert!(linked.contains("atrium-contract") && linked.contains("sea-orm"), "{linked:?}");
}
