//! What the benchmarks share: a node in a fresh data folder (SQLite, or the PostgreSQL
//! database `CERTUS_BENCH_DATABASE_URL` names) and, where asked, its application state.

use certus_server::config::{ServerConfig, StoreConfig};
use certus_server::state::AppState;
use certus_server::Node;
use tokio::runtime::Runtime;

/// The runtime the benchmarks drive the node with: one worker thread.
#[allow(dead_code)] // The engine benchmark runs on a current-thread runtime.
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A node for benchmark `chain`, in `dir`.
pub fn node(rt: &Runtime, dir: &tempfile::TempDir) -> Node {
    let store = StoreConfig {
        data_dir: dir.path().to_owned(),
        database_url: std::env::var("CERTUS_BENCH_DATABASE_URL").ok(),
        read_database_url: None,
        chain_id: Some("bench".parse().expect("chain id")),
        genesis: None,
        pkcs11: Default::default(),
    };
    rt.block_on(certus_server::open(&store, None))
        .expect("open")
}

/// The application state over a fresh node, as the server builds it.
#[allow(dead_code)] // Not every benchmark needs the whole application.
pub fn state(rt: &Runtime, dir: &tempfile::TempDir, block_interval_ms: u64) -> AppState {
    let server = ServerConfig {
        addr: "127.0.0.1:0".parse().expect("addr"),
        max_body_bytes: 1 << 20,
        verify_rate: 1,
        allow_did_web: false,
        status_list_origins: Vec::new(),
        web_dir: dir.path().to_owned(),
        block_interval_ms: Some(block_interval_ms),
        p2p_listen: None,
        public_url: Some("https://certus.bench".into()),
        retention_interval_secs: 3600,
        status_lease_secs: 30,
        max_connections: 512,
        profile: Default::default(),
    };
    let node = node(rt, dir);
    let _runtime = rt.enter();
    let state = certus_server::build_state(node, &server);
    // The default institution is a KYC desk: accredited for the KYC credentials issued here.
    rt.block_on(
        state
            .trust
            .accredit_tenant("default", "KycCredential", chrono::Utc::now()),
    )
    .expect("accrediting for KYC");
    state
}
