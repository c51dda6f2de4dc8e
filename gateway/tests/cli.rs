//! The `atrium-gateway` command line: publishing persisted-document manifests validates
//! every operation against the supergraph first and names the failures.

use std::process::Command;

fn gateway_command(directory: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_atrium-gateway"));
    let supergraph = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/supergraph.graphql");
    command
        .env("ATRIUM_GATEWAY__SUPERGRAPH_PATH", supergraph)
        .env("ATRIUM_GATEWAY__PERSISTED_DOCUMENTS__DIRECTORY", directory)
        .env_remove("ATRIUM_GATEWAY__REDIS__URL");
    command
}

fn write_manifest(directory: &std::path::Path, operations: serde_json::Value) -> std::path::PathBuf {
    let path = directory.join(format!("manifest-{}.json", uuid::Uuid::new_v4().simple()));
    let manifest = serde_json::json!({
        "format": "apollo-persisted-query-manifest", "version": 1, "operations": operations
    });
    std::fs::create_dir_all(directory).unwrap();
    std::fs::write(&path, manifest.to_string()).unwrap();
    path
}

#[test]
fn publishing_refuses_a_manifest_with_an_invalid_operation_and_names_it() {
    let directory = std::env::temp_dir().join(format!("atrium-cli-{}", uuid::Uuid::new_v4().simple()));
    let manifest = write_manifest(
        &directory,
        serde_json::json!([
            { "id": "ok", "name": "Tenant", "type": "query", "body": "query Tenant { tenant { name } }" },
            { "id": "bad", "name": "Broken", "type": "query", "body": "query Broken { tenant { noSuchField } }" }
        ]),
    );
    let output = gateway_command(&directory).args(["pq", "publish", "--client", "bi"]).arg(&manifest).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("operation `Broken` (id bad)"), "{stderr}");
    assert!(stderr.contains("noSuchField"), "the reason names the field: {stderr}");
    assert!(stderr.contains("nothing was published"), "{stderr}");
    let list = gateway_command(&directory).args(["pq", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).trim().is_empty());
}

#[test]
fn publishing_a_valid_manifest_creates_the_next_version_and_check_passes() {
    let directory = std::env::temp_dir().join(format!("atrium-cli-{}", uuid::Uuid::new_v4().simple()));
    let manifest = write_manifest(
        &directory,
        serde_json::json!([{ "id": "t", "name": "Tenant", "type": "query", "body": "query Tenant { tenant { name } }" }]),
    );
    for expected in ["version 1", "version 2"] {
        let output = gateway_command(&directory)
            .args(["pq", "publish", "--client", "bi", "--tenant", "ridgeline"])
            .arg(&manifest)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert!(stdout.contains(expected), "{stdout}");
    }
    let check = gateway_command(&directory).args(["pq", "check"]).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
}
