//! Atrium gateway library: configuration, startup, HTTP handling, authentication,
//! the federation engine and supergraph composition.

pub mod composition;
pub mod engine;
