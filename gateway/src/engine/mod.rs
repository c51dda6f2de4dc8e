//! The federation engine: supergraph loading, query planning behind Atrium's own
//! planner trait, and Atrium's own plan executor (fetch, sequence, parallel, flatten,
//! entity batching, response projection with GraphQL null propagation).
