//! `atrium-gateway` binary entry point.
fn main() {}
