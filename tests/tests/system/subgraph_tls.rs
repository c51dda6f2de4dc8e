//! TLS to subgraphs (`[subgraph_tls]`): catalog is put behind an https front (axum on
//! rustls, in the test) with certificates the test makes with the `openssl` CLI. The
//! gateway reaches it through a CA it is told to trust; a subgraph that requires client
//! certificates answers only a gateway presenting one its CA signed; a certificate from
//! an authority the gateway does not trust is refused, as is the test CA when the gateway
//! only trusts the platform's roots.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use atrium_system_tests::{Backend, Stack};
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use rustls::{
    RootCertStore, ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    server::WebPkiClientVerifier,
};
use serde_json::{Value, json};

const TENANT: &str = "{ tenant { name } }";

/// A certificate and its private key, as PEM files.
struct Identity {
    certificate: PathBuf,
    key: PathBuf,
}

/// Throwaway certificates (ECDSA P-256, valid one day) in a fresh temporary directory.
struct Certificates {
    directory: PathBuf,
}

impl Certificates {
    fn new() -> Self {
        let directory = std::env::temp_dir().join(format!("atrium-tls-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&directory).expect("a temporary directory");
        Certificates { directory }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.directory.join(name)
    }

    /// A self-signed certificate authority.
    fn authority(&self, name: &str) -> Identity {
        let identity = self.identity(name);
        openssl(
            "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
             -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
            &[
                "-subj",
                &format!("/CN={name}"),
                "-keyout",
                path_str(&identity.key),
                "-out",
                path_str(&identity.certificate),
            ],
        );
        identity
    }

    /// A leaf certificate for 127.0.0.1 signed by `authority`; `usage` is `serverAuth` or
    /// `clientAuth`.
    fn issue(&self, authority: &Identity, name: &str, usage: &str) -> Identity {
        let identity = self.identity(name);
        let request = self.path(&format!("{name}.csr"));
        let extensions = self.path(&format!("{name}.ext"));
        let extension_lines = format!(
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage={usage}\n\
             subjectAltName=IP:127.0.0.1,DNS:{name}\n"
        );
        std::fs::write(&extensions, extension_lines).expect("extensions file");
        openssl(
            "req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes",
            &["-subj", &format!("/CN={name}"), "-keyout", path_str(&identity.key), "-out", path_str(&request)],
        );
        openssl(
            "x509 -req -days 1",
            &[
                "-in",
                path_str(&request),
                "-set_serial",
                &format!("0x{}", uuid::Uuid::new_v4().simple()),
                "-CA",
                path_str(&authority.certificate),
                "-CAkey",
                path_str(&authority.key),
                "-extfile",
                path_str(&extensions),
                "-out",
                path_str(&identity.certificate),
            ],
        );
        identity
    }

    fn identity(&self, name: &str) -> Identity {
        Identity { certificate: self.path(&format!("{name}.pem")), key: self.path(&format!("{name}.key")) }
    }
}

impl Drop for Certificates {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

/// Runs `openssl` with `fixed` (split at whitespace) and then `variable` arguments.
fn openssl(fixed: &str, variable: &[&str]) {
    let output = Command::new("openssl")
        .args(fixed.split_whitespace())
        .args(variable)
        .output()
        .expect("the openssl CLI makes the test certificates");
    assert!(output.status.success(), "openssl {fixed} {variable:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// A TLS listener for `axum::serve`. Handshakes a client fails (an untrusted server
/// certificate, a missing client certificate) are dropped, as a real server would.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, address)) = self.tcp.accept().await else { continue };
            if let Ok(stream) = self.acceptor.accept(stream).await {
                return (stream, address);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

struct Forward {
    target: String,
    client: reqwest::Client,
    /// Requests that got through the TLS handshake and were forwarded.
    forwarded: AtomicUsize,
}

/// An https front of a subgraph.
struct HttpsFront {
    url: String,
    forward: Arc<Forward>,
}

impl HttpsFront {
    fn forwarded(&self) -> usize {
        self.forward.forwarded.swap(0, Ordering::SeqCst)
    }
}

/// Serves `target` (a subgraph's GraphQL URL) over https as `server`; with `client_authority`,
/// only to clients presenting a certificate it signed.
async fn https_front(target: &str, server: &Identity, client_authority: Option<&Identity>) -> HttpsFront {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("TLS versions");
    let builder = match client_authority {
        Some(authority) => {
            let mut roots = RootCertStore::empty();
            roots.add(CertificateDer::from_pem_file(&authority.certificate).expect("client CA")).expect("a root");
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .expect("client verifier");
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let chain = CertificateDer::pem_file_iter(&server.certificate)
        .expect("server certificate")
        .collect::<Result<Vec<_>, _>>()
        .expect("server certificate");
    let key = PrivateKeyDer::from_pem_file(&server.key).expect("server key");
    let config = builder.with_single_cert(chain, key).expect("server identity");

    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = tcp.local_addr().expect("address").port();
    let listener = TlsListener { tcp, acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)) };
    let forward =
        Arc::new(Forward { target: target.to_owned(), client: reqwest::Client::new(), forwarded: AtomicUsize::new(0) });
    let router = Router::new().fallback(forward_request).with_state(Arc::clone(&forward));
    tokio::spawn(async move { axum::serve(listener, router).await });
    HttpsFront { url: format!("https://127.0.0.1:{port}/graphql"), forward }
}

async fn forward_request(State(forward): State<Arc<Forward>>, headers: HeaderMap, body: Bytes) -> Response {
    forward.forwarded.fetch_add(1, Ordering::SeqCst);
    let mut request = forward.client.post(&forward.target).body(body);
    for name in [header::CONTENT_TYPE.as_str(), header::ACCEPT.as_str(), atrium_kit::CONTEXT_HEADER] {
        if let Some(value) = headers.get(name) {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            let body = response.bytes().await.unwrap_or_default();
            (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

fn catalog_url(stack: &Stack) -> String {
    stack.subgraph_urls.iter().find(|(name, _)| *name == "catalog").expect("catalog").1.clone()
}

/// Starts a gateway whose catalog is `catalog_https` with `tls` as `[subgraph_tls]`, and
/// asks it for the tenant's name (catalog's field).
async fn tenant_through(stack: &Stack, catalog: &HttpsFront, tls: Value) -> Value {
    let tls: atrium_gateway::subgraph_tls::SubgraphTlsConfig = serde_json::from_value(tls).expect("TLS config");
    let gateway = stack
        .start_gateway(|config| {
            config.subgraph_urls.insert("catalog".to_owned(), catalog.url.clone());
            config.subgraph_tls = tls;
        })
        .await;
    let (status, _, body) = stack.post_to(&gateway, &stack.token("ridgeline", &["csm"]), TENANT).await;
    assert_eq!(status, 200, "{body:#}");
    body
}

fn assert_answered(body: &Value, catalog: &HttpsFront) {
    assert_eq!(body["data"]["tenant"]["name"], "Ridgeline Business Systems", "{body:#}");
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(catalog.forwarded(), 1, "the answer came through the https front");
}

/// The fetch failed in the TLS handshake: nothing reached the subgraph behind the front.
fn assert_refused(body: &Value, catalog: &HttpsFront) {
    assert_eq!(body["data"]["tenant"], Value::Null, "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "SUBGRAPH_REQUEST_FAILED", "{body:#}");
    assert_eq!(catalog.forwarded(), 0, "no request got through the handshake");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_subgraph_answers_through_the_gateway() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let certificates = Certificates::new();
    let authority = certificates.authority("subgraph-ca");
    let server = certificates.issue(&authority, "catalog", "serverAuth");
    let catalog = https_front(&catalog_url(&stack), &server, None).await;

    let body = tenant_through(&stack, &catalog, json!({ "ca_file": authority.certificate })).await;
    assert_answered(&body, &catalog);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subgraph_requiring_client_certificates_answers_only_a_gateway_presenting_one() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let certificates = Certificates::new();
    let authority = certificates.authority("platform-ca");
    let server = certificates.issue(&authority, "catalog", "serverAuth");
    let gateway_identity = certificates.issue(&authority, "atrium-gateway", "clientAuth");
    let stranger_authority = certificates.authority("stranger-ca");
    let stranger = certificates.issue(&stranger_authority, "stranger", "clientAuth");
    let catalog = https_front(&catalog_url(&stack), &server, Some(&authority)).await;

    let without_certificate = tenant_through(&stack, &catalog, json!({ "ca_file": authority.certificate })).await;
    assert_refused(&without_certificate, &catalog);

    let with_a_strangers_certificate = tenant_through(
        &stack,
        &catalog,
        json!({
            "ca_file": authority.certificate,
            "client_certificate_file": stranger.certificate,
            "client_key_file": stranger.key,
        }),
    )
    .await;
    assert_refused(&with_a_strangers_certificate, &catalog);

    // Per subgraph: only catalog is given the client certificate.
    let with_certificate = tenant_through(
        &stack,
        &catalog,
        json!({ "per_subgraph": { "catalog": {
            "ca_file": authority.certificate,
            "client_certificate_file": gateway_identity.certificate,
            "client_key_file": gateway_identity.key,
        } } }),
    )
    .await;
    assert_answered(&with_certificate, &catalog);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_subgraph_certificate_is_refused() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let certificates = Certificates::new();
    let trusted = certificates.authority("trusted-ca");
    let untrusted = certificates.authority("untrusted-ca");
    let impostor = certificates.issue(&untrusted, "catalog", "serverAuth");
    let catalog = https_front(&catalog_url(&stack), &impostor, None).await;

    let body = tenant_through(&stack, &catalog, json!({ "ca_file": trusted.certificate })).await;
    assert_refused(&body, &catalog);
    // The platform's roots do not know a CA made in a test either.
    let body = tenant_through(&stack, &catalog, json!({})).await;
    assert_refused(&body, &catalog);
}
