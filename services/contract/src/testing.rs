//! Test support shared by the gateway's and the services' tests (feature `testing`):
//! whether the run is CI, where a missing PostgreSQL, Redis or tool is a failure rather
//! than a reason to skip, and the Redis server for tests.

/// Whether the tests run in CI, where a missing PostgreSQL, Redis or tool is a failure
/// rather than a reason to skip. CI systems spell the flag differently (`true`, `TRUE`,
/// `1`), and a spelling we failed to recognise would silently turn failures into skips.
pub fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| ci_flag_is_set(&value))
}

fn ci_flag_is_set(value: &str) -> bool {
    let value = value.trim();
    value.eq_ignore_ascii_case("true") || value == "1"
}

/// The Redis for tests (`ATRIUM_TEST_REDIS_URL`, default `redis://127.0.0.1:6379/`) after a
/// PING. `None` (skip) when unreachable, except in CI ([`running_in_ci`]), where that
/// fails the test.
pub async fn redis_url() -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let url = std::env::var("ATRIUM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let address = url.trim_start_matches("redis://").trim_end_matches('/').to_owned();
    let ping = async {
        let mut stream = tokio::net::TcpStream::connect(&address).await.ok()?;
        stream.write_all(b"PING\r\n").await.ok()?;
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply).await.ok()?;
        (&reply == b"+PONG\r\n").then_some(())
    };
    let reachable = tokio::time::timeout(std::time::Duration::from_secs(2), ping).await.ok().flatten().is_some();
    if reachable {
        return Some(url);
    }
    if running_in_ci() {
        panic!("running in CI but Redis at {url} is unreachable");
    }
    eprintln!("skipping: Redis at {url} is unreachable");
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_is_recognised_as_true_or_1_in_any_case() {
        for set in ["true", "TRUE", "True", "1", " true "] {
            assert!(ci_flag_is_set(set), "{set:?}");
        }
        for unset in ["", "0", "false", "FALSE", "no", "yes-ish"] {
            assert!(!ci_flag_is_set(unset), "{unset:?}");
        }
    }
}
