#[test]
fn zz_timing_probe() {
    let sdl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/supergraph.graphql")).unwrap();
    let supergraph = crate::engine::Supergraph::from_sdl(&sdl).unwrap();
    let config = super::PolicyConfig::default();
    let portal = "{ customerAccounts(first: 3) { nodes { name engagements { nodes { status milestones { name status } } } invoices { nodes { number status balanceDue daysPastDue } } tickets { nodes { priority status } } health { score band } } } tenant { name branding { productName primaryColor } } }";
    let big = format!("{{ tenant {{ {} }} }}", "name ".repeat(14_990));
    for (label, query) in [("portal", portal.to_owned()), ("15k tokens", big)] {
        let request = crate::engine::GraphQLRequest::new(query);
        let runs = 500;
        let start = std::time::Instant::now();
        for _ in 0..runs {
            let cold = super::OperationPolicy::new(config.clone(), &supergraph.api_schema_sdl()).unwrap();
            let t = std::time::Instant::now();
            std::hint::black_box(cold.admit(atrium_kit::ClientKind::Dashboard, &request).unwrap());
            std::hint::black_box(t);
        }
        let _ = start;
        let policy = super::OperationPolicy::new(config.clone(), &supergraph.api_schema_sdl()).unwrap();
        let mut cold_total = std::time::Duration::ZERO;
        for _ in 0..runs {
            policy.measured.invalidate_all();
            let t = std::time::Instant::now();
            std::hint::black_box(policy.admit(atrium_kit::ClientKind::Dashboard, &request).unwrap());
            cold_total += t.elapsed();
        }
        let t = std::time::Instant::now();
        for _ in 0..runs { std::hint::black_box(policy.admit(atrium_kit::ClientKind::Dashboard, &request).unwrap()); }
        eprintln!("PROBE {label}: first sight {:?}, cached {:?}", cold_total / runs, t.elapsed() / runs);
    }
}
