//! `atrium-bench-subgraphs`: serves the four benchmark subgraphs on consecutive ports
//! (`serve --base-port 4201`: accounts 4201, inventory 4202, products 4203, reviews 4204),
//! prints one subgraph's SDL for composition (`print-schema reviews`), or prints the
//! benchmark's JSON request body (`request-body`).

use atrium_bench::{BenchSubgraph, QUERY, SUBGRAPHS};

fn usage() -> ! {
    eprintln!(
        "usage: atrium-bench-subgraphs serve [--base-port 4201] | print-schema <{}> | request-body",
        SUBGRAPHS.join("|")
    );
    std::process::exit(2)
}

fn main() -> std::io::Result<()> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    match arguments.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["print-schema", name] => {
            let Some(subgraph) = BenchSubgraph::by_name(name) else { usage() };
            print!("{}", subgraph.sdl());
            Ok(())
        }
        ["request-body"] => {
            println!("{}", serde_json::json!({ "operationName": "TestQuery", "query": QUERY }));
            Ok(())
        }
        ["serve"] => serve(4201),
        ["serve", "--base-port", port] => serve(port.parse().unwrap_or_else(|_| usage())),
        _ => usage(),
    }
}

fn serve(base_port: u16) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let mut servers = Vec::new();
        for (offset, name) in (0u16..).zip(SUBGRAPHS) {
            let Some(subgraph) = BenchSubgraph::by_name(name) else { continue };
            let address = std::net::SocketAddr::from(([127, 0, 0, 1], base_port + offset));
            let listener = tokio::net::TcpListener::bind(address).await?;
            eprintln!("{name} listening on http://{address}/graphql");
            servers.push(tokio::spawn(async move { axum::serve(listener, subgraph.router()).await }));
        }
        for server in servers {
            server.await.map_err(std::io::Error::other)??;
        }
        Ok(())
    })
}
