#[test]
fn zz_timing_probe() {
    let sdl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/supergraph.graphql")).unwrap();
    let supergraph = crate::engine::Supergraph::from_sdl(&sdl).unwrap();
    let policy = super::OperationPolicy::new(super::PolicyConfig::default(), &supergraph.api_schema_sdl()).unwrap();
    let portal = "{ customerAccounts(first: 3) { nodes { name engagements { nodes { status milestones { name status } } } invoices { nodes { number status balanceDue daysPastDue } } tickets { nodes { priority status } } health { score band } } } tenant { name branding { productName primaryColor } } }";
    let big = format!("{{ tenant {{ {} }} }}", "name ".repeat(14_990));
    for (label, query) in [("portal", portal.to_owned()), ("15k tokens", big)] {
        let request = crate::engine::GraphQLRequest::new(query);
        let admission = policy.admit(atrium_kit::ClientKind::Dashboard, &request).unwrap();
        let runs = 2000;
        let start = std::time::Instant::now();
        for _ in 0..runs { std::hint::black_box(policy.admit(atrium_kit::ClientKind::Dashboard, &request).unwrap()); }
        let each = start.elapsed() / runs;
        eprintln!("PROBE {label}: {each:?} per admit, cost {:?}", admission.measure);
    }
}
