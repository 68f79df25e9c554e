//! A consortium's members as processes: `certus` on member I's data folder (`node-I`
//! under one root, as `certus consortium init` lays them out), and what the tests ask of
//! a running member — its head, an API key, an issuance, a receipt — waiting on the
//! events it logs rather than on time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{certificate, run, Server};

pub fn node_dir(root: &Path, i: usize) -> PathBuf {
    root.join(format!("node-{i}"))
}

/// `certus` on member `i`'s data folder.
pub fn node(root: &Path, i: usize) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_certus"));
    command
        .env_remove("DATABASE_URL")
        .env_remove("CERTUS_CHAIN_ID")
        .env_remove("CERTUS_GENESIS")
        .env("CERTUS_DATA_DIR", node_dir(root, i))
        .env("RUST_LOG", "warn");
    command
}

/// Waits until `done` holds, checking it after each event `server` logs (a final block,
/// a change of its quorum); fails naming `what` if `within` passes with none that does.
pub fn wait_until(server: &Server, what: &str, within: Duration, done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    assert!(
        server.until_sealed(deadline, done),
        "{what}: not within {within:?}"
    );
}

/// Waits until every running node's head is node 1's (each checked as its blocks become
/// final).
pub fn agree(nodes: &[Option<Server>]) {
    let target = || head(nodes[0].as_ref().expect("node 1"));
    for server in nodes.iter().flatten() {
        wait_until(server, "the heads agree", Duration::from_secs(30), || {
            head(server) == target()
        });
    }
}

/// A node's head: height and hash.
pub fn head(server: &Server) -> (u64, String) {
    let (_, head) = server.request("GET", "/chain/head", "", None);
    (
        head["height"].as_u64().unwrap_or(0),
        head["hash"].as_str().unwrap_or_default().to_owned(),
    )
}

/// A new API key of member `i` that may issue and read.
pub fn token(root: &Path, i: usize) -> String {
    token_for(root, i, "issue,read")
}

/// A new API key of member `i` with `scopes` (comma-separated).
pub fn token_for(root: &Path, i: usize, scopes: &str) -> String {
    let (ok, out) = run(node(root, i).args(["api-key", "create", "--scopes", scopes]));
    assert!(ok, "{out}");
    out.trim().to_owned()
}

/// Issues a certificate on `server`; its credential id.
pub fn issue(server: &Server, token: &str) -> String {
    let (status, body) = server.request("POST", "/credentials/issue", token, Some(&certificate()));
    assert_eq!(status, 201, "{body}");
    body["verifiableCredential"]["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// Member `i`, which must be running.
pub fn up(nodes: &[Option<Server>], i: usize) -> &Server {
    nodes[i - 1].as_ref().expect("running")
}

/// The anchor receipt of credential `id` as `server` answers it.
pub fn receipt(server: &Server, token: &str, id: &str) -> (u16, Value) {
    server.request("GET", &format!("/credentials/{id}/receipt"), token, None)
}

/// Waits until `server` answers the receipt of credential `id` (anchored in a final
/// block), within `within`; fails naming `what`.
pub fn anchored_on(server: &Server, token: &str, id: &str, what: &str, within: Duration) {
    wait_until(server, what, within, || receipt(server, token, id).0 == 200);
}

/// Waits until `server` sees itself connected to a quorum (ready).
pub fn ready(server: &Server) {
    wait_until(
        server,
        "connected to a quorum",
        Duration::from_secs(30),
        || server.request("GET", "/ready", "", None).0 == 200,
    );
}

/// Waits until `server` sees it has no quorum (not ready, `NO_QUORUM`).
pub fn no_quorum(server: &Server) {
    wait_until(
        server,
        "sees it has no quorum",
        Duration::from_secs(30),
        || {
            let (status, body) = server.request("GET", "/ready", "", None);
            status == 503 && body["code"] == "NO_QUORUM"
        },
    );
}

/// `certus chain verify` passes on member `i`'s store.
pub fn chain_verifies(root: &Path, i: usize) {
    let (ok, out) = run(node(root, i).args(["chain", "verify"]));
    assert!(
        ok && out.contains("every link, root and signature checked"),
        "node {i}: {out}"
    );
}

/// Now, in milliseconds since the epoch: to compare with a block's time.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}
