//! `[response_cache]` of the gateway configuration.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseCacheConfig {
    /// Reuse query answers within their `@cacheControl` lifetime. Default true; with no
    /// hints in the supergraph nothing is cached either way. `Cache-Control` headers
    /// follow the hints whether or not this is on.
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    /// Also reuse subgraph `_entities` answers across operations, per representation,
    /// when hints bound the fetch. Default true (only with `enabled`).
    #[serde(default = "default_enabled")]
    pub entities: bool,
    /// Answers larger than this (serialised JSON bytes) are not stored. Default 1 MiB.
    #[serde(default = "default_max_entry_bytes")]
    pub max_entry_bytes: usize,
    /// Memory for answers when no Redis is configured, in bytes. Default 64 MiB.
    #[serde(default = "default_local_capacity_bytes")]
    pub local_capacity_bytes: u64,
}

fn default_enabled() -> bool {
    true
}

fn default_max_entry_bytes() -> usize {
    1 << 20
}

fn default_local_capacity_bytes() -> u64 {
    64 << 20
}

impl Default for ResponseCacheConfig {
    fn default() -> Self {
        ResponseCacheConfig {
            enabled: default_enabled(),
            entities: default_enabled(),
            max_entry_bytes: default_max_entry_bytes(),
            local_capacity_bytes: default_local_capacity_bytes(),
        }
    }
}
