//! Configuration loading shared by every binary: an optional TOML file, then environment
//! overrides, then serde with `deny_unknown_fields` in each binary's own `Config` type.
//!
//! An override is `<PREFIX>__<KEY>[__<NESTED>...]=value`, e.g.
//! `ATRIUM_FINANCE__DATABASE_URL=postgres://...`. Values parse as TOML when they can
//! (numbers, booleans, arrays) and as plain strings otherwise.

use std::path::Path;

use serde::{Deserialize, de::DeserializeOwned};

/// `dev` (the default: `make run` and the tests) or `production`, read the same way by the
/// gateway and every service. Production refuses development secrets (the local signing
/// key, the published context key) and settings that would leave row-level security to
/// chance; dev turns on GraphiQL and introspection at the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    #[default]
    Dev,
    Production,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("invalid config: {0}")]
    Invalid(String),
}

pub fn load<T: DeserializeOwned>(file: Option<&Path>, env_prefix: &str) -> Result<T, ConfigError> {
    load_with_defaults(file, env_prefix, &[])
}

/// As [`load`], with top-level defaults that the file and the environment may override
/// (for defaults that depend on which binary is loading, like a service's port).
pub fn load_with_defaults<T: DeserializeOwned>(
    file: Option<&Path>,
    env_prefix: &str,
    defaults: &[(&str, toml::Value)],
) -> Result<T, ConfigError> {
    let mut table = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
            toml::from_str::<toml::Table>(&text).map_err(|error| ConfigError::Invalid(error.to_string()))?
        }
        None => toml::Table::new(),
    };
    for (key, value) in defaults {
        table.entry(*key).or_insert_with(|| value.clone());
    }
    apply_env_overrides(&mut table, env_prefix, std::env::vars());
    toml::Value::Table(table).try_into().map_err(|error: toml::de::Error| ConfigError::Invalid(error.to_string()))
}

fn apply_env_overrides(table: &mut toml::Table, prefix: &str, vars: impl Iterator<Item = (String, String)>) {
    let prefix = format!("{prefix}__");
    for (name, raw) in vars {
        let Some(path) = name.strip_prefix(&prefix) else { continue };
        let keys: Vec<String> = path.split("__").map(|key| key.to_ascii_lowercase()).collect();
        let value = parse_value(&raw);
        let mut cursor = &mut *table;
        for (index, key) in keys.iter().enumerate() {
            if index + 1 == keys.len() {
                cursor.insert(key.clone(), value);
                break;
            }
            let entry = cursor.entry(key.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            let Some(next) = entry.as_table_mut() else { break };
            cursor = next;
        }
    }
}

fn parse_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut table| table.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_nest_and_parse_typed_values() {
        let mut table = toml::Table::new();
        let vars = vec![
            ("ATRIUM_X__LISTEN".to_owned(), "127.0.0.1:9".to_owned()),
            ("ATRIUM_X__DATABASE__MAX_CONNECTIONS".to_owned(), "7".to_owned()),
            ("OTHER__LISTEN".to_owned(), "ignored".to_owned()),
        ];
        apply_env_overrides(&mut table, "ATRIUM_X", vars.into_iter());
        assert_eq!(table["listen"].as_str(), Some("127.0.0.1:9"));
        assert_eq!(table["database"]["max_connections"].as_integer(), Some(7));
        assert!(!table.contains_key("other"));
    }
}
