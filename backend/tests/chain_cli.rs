//! The real `certus` binary: a kill test of anchoring, and the chain and receipt commands
//! (`chain verify`, `chain export` / `import`, `receipt verify`). Servers bind 127.0.0.1
//! on a free port and are killed when the test ends.

mod process;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use process::{anchored, certificate, certus, count, run, Server, BLOCK_INTERVAL_MS};

#[test]
fn acknowledged_issuances_survive_sigkill_and_are_anchored_within_two_intervals_of_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ok, token) = run(certus(dir.path()).args(["api-key", "create", "--scopes", "issue"]));
    assert!(ok, "{token}");
    let token = token.trim().to_owned();

    // Issue from four clients until the server is killed mid-load.
    let server = Server::start(dir.path());
    let acknowledged = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let deadline = Instant::now() + Duration::from_millis(3 * BLOCK_INTERVAL_MS);
                while Instant::now() < deadline {
                    let (status, body) =
                        server.request("POST", "/credentials/issue", &token, Some(&certificate()));
                    if status == 201 {
                        let id = body["verifiableCredential"]["id"]
                            .as_str()
                            .expect("id")
                            .to_owned();
                        acknowledged.lock().expect("lock").push(id);
                    }
                }
            });
        }
    });
    // Killed right after the load: the last acknowledged anchors are still in the outbox.
    server.kill();
    let acknowledged = acknowledged.into_inner().expect("lock");
    assert!(
        acknowledged.len() > 20,
        "only {} issuances",
        acknowledged.len()
    );

    let server = Server::start(dir.path());
    let deadline = server.listening_at + Duration::from_millis(2 * BLOCK_INTERVAL_MS);
    let mut waiting = acknowledged.clone();
    let all_anchored = server.until_sealed(deadline, || {
        waiting.retain(|id| {
            server
                .request("GET", &format!("/credentials/{id}/receipt"), &token, None)
                .0
                != 200
        });
        waiting.is_empty()
    });
    assert!(
        all_anchored,
        "{} of {} acknowledged credentials not anchored two intervals after restart",
        waiting.len(),
        acknowledged.len()
    );

    // A receipt checks offline against the genesis; a tampered one does not.
    let (_, response) = server.request(
        "GET",
        &format!("/credentials/{}/receipt", acknowledged[0]),
        &token,
        None,
    );
    let (_, genesis) = server.request("GET", "/chain/genesis", &token, None);
    drop(server);
    let receipt_file = dir.path().join("receipt.json");
    let genesis_file = dir.path().join("genesis.json");
    std::fs::write(&receipt_file, response.to_string()).expect("write");
    std::fs::write(&genesis_file, genesis.to_string()).expect("write");
    let verify_receipt = |file: &Path| {
        run(certus(dir.path())
            .args(["receipt", "verify"])
            .arg(file)
            .arg("--genesis")
            .arg(&genesis_file))
    };
    let (ok, out) = verify_receipt(&receipt_file);
    assert!(ok && out.starts_with("valid: anchored in block"), "{out}");
    let mut tampered = response.clone();
    tampered["receipt"]["leafIndex"] =
        json!(tampered["receipt"]["leafIndex"].as_u64().expect("index") ^ 1);
    tampered["receipt"]["transaction"]["commitment"] = json!("00".repeat(32));
    std::fs::write(&receipt_file, tampered.to_string()).expect("write");
    let (ok, out) = verify_receipt(&receipt_file);
    assert!(!ok && out.starts_with("invalid:"), "{out}");

    // The whole chain re-checks, exports, and imports into an empty store.
    let (ok, out) = run(certus(dir.path()).args(["chain", "verify"]));
    assert!(ok && out.contains("the chain holds"), "{out}");
    for store in [
        "the status lists hold",
        "the DID operations hold",
        "the trust statements and schema registrations hold",
        "the reliance records hold",
        "the erasure receipts hold",
        "the issued credentials' records hold",
        "the audit log holds",
    ] {
        assert!(out.contains(store), "{store}: {out}");
    }
    let export = dir.path().join("chain.jsonl");
    let (ok, out) = run(certus(dir.path()).args(["chain", "export"]).arg(&export));
    assert!(ok, "{out}");
    let other = tempfile::tempdir().expect("tempdir");
    let (ok, out) = run(certus(other.path()).args(["chain", "import"]).arg(&export));
    assert!(ok && out.contains("imported chain `kill-test`"), "{out}");
    let (ok, out) = run(certus(other.path()).args(["chain", "verify"]));
    assert!(ok, "{out}");

    // One byte of a stored header changed in the SQLite file: `chain verify` names its block.
    process::execute(
        other.path(),
        "UPDATE ledger_blocks SET header = replace(header, '\"timeMs\":', '\"timeMs\":9') \
         WHERE height = 2",
    );
    let (ok, out) = run(certus(other.path()).args(["chain", "verify"]));
    assert!(!ok && out.contains("block 2 does not hold"), "{out}");

    // An export altered in one block is refused at that block.
    let text = std::fs::read_to_string(&export).expect("read");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[1] = lines[1].replacen("\"txCount\":", "\"txCount\":1", 1);
    let altered = lines.join("\n");
    std::fs::write(&export, altered).expect("write");
    let third = tempfile::tempdir().expect("tempdir");
    let (ok, out) = run(certus(third.path()).args(["chain", "import"]).arg(&export));
    assert!(
        !ok && out.contains("block 1 (line 2) does not hold"),
        "{out}"
    );
}

#[test]
fn a_backup_restored_from_before_an_erasure_is_caught_up_with_the_chain_and_erases_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ok, token) =
        run(certus(dir.path()).args(["api-key", "create", "--scopes", "issue,privacy"]));
    assert!(ok, "{token}");
    let token = token.trim().to_owned();
    let server = Server::start(dir.path());
    let mut body = certificate();
    body["options"] =
        json!({"dataSubject": {"reference": "AUD-7", "contact": {"email": "luca@example.org"}}});
    let (status, issued) = server.request("POST", "/credentials/issue", &token, Some(&body));
    assert_eq!(status, 201, "{issued}");
    let (_, found) = server.request(
        "POST",
        "/data-subjects/search",
        &token,
        Some(&json!({"reference": "AUD-7"})),
    );
    let subject = found["subjects"][0]["id"]
        .as_str()
        .expect("a subject")
        .to_owned();

    // The backup: taken while the server runs, before the erasure.
    let backup = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        dir.path().join("master.key"),
        backup.path().join("master.key"),
    )
    .expect("key");
    process::execute(
        dir.path(),
        &format!(
            "VACUUM INTO '{}'",
            backup.path().join("certus.db").display()
        ),
    );

    let (status, erasure) = server.request(
        "POST",
        &format!("/data-subjects/{subject}/erasure"),
        &token,
        None,
    );
    assert_eq!(status, 201, "{erasure}");
    anchored(
        &server,
        &token,
        erasure["commitment"].as_str().expect("hex"),
    );
    drop(server);
    let export = dir.path().join("chain.jsonl");
    let (ok, out) = run(certus(dir.path()).args(["chain", "export"]).arg(&export));
    assert!(ok, "{out}");

    // Restored, the backup still holds the person's key and data…
    let live = "wrapped_key IS NOT NULL";
    assert_eq!(count(backup.path(), "data_subjects", live), 1);
    assert!(count(backup.path(), "personal_records", "jwe IS NOT NULL") >= 2);
    // …until it is caught up with the chain, which erases them again.
    let (ok, out) = run(certus(backup.path()).args(["chain", "import"]).arg(&export));
    assert!(ok, "{out}");
    assert!(out.contains("caught up chain `kill-test`"), "{out}");
    assert!(!out.contains(" 0 erased subjects"), "{out}");
    assert_eq!(count(backup.path(), "data_subjects", live), 0);
    assert_eq!(
        count(backup.path(), "personal_records", "jwe IS NOT NULL"),
        0
    );
    assert_eq!(count(backup.path(), "ledger_outbox", "1 = 1"), 0);
    // The caught-up store serves: the person is not found, and the chain verifies.
    let (ok, out) = run(certus(backup.path()).args(["chain", "verify"]));
    assert!(ok, "{out}");
    let server = Server::start(backup.path());
    let (_, found) = server.request(
        "POST",
        "/data-subjects/search",
        &token,
        Some(&json!({"reference": "AUD-7"})),
    );
    assert_eq!(found["subjects"], json!([]), "{found}");
    drop(server);
}

#[test]
fn validator_init_makes_the_key_once_and_the_node_signs_its_blocks_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let init = || {
        let (ok, out) = run(certus(dir.path()).args(["validator", "init"]));
        assert!(ok, "{out}");
        let lines: Vec<&str> = out.lines().collect();
        // The same key is the node's identity to its peers in a consortium.
        assert_eq!(lines.len(), 2, "{out}");
        assert_eq!(
            lines[1].strip_prefix("node id: "),
            lines[0].strip_prefix("validator key: ")
        );
        lines[0]
            .strip_prefix("validator key: ")
            .unwrap_or_else(|| panic!("no key in {out:?}"))
            .to_owned()
    };
    let key = init();
    assert_eq!(key.len(), 64, "hex of an Ed25519 public key: {key}");
    assert_eq!(init(), key, "run again, it shows the same key");

    // The node's chain is then created with that key as its validator.
    let server = Server::start(dir.path());
    let (status, validators) = server.request("GET", "/chain/validators", "", None);
    assert_eq!(status, 200, "{validators}");
    assert_eq!(validators["validators"][0]["key"], json!(key));
    assert_eq!(validators["validators"][0]["thisNode"], json!(true));
    server.kill();

    // A single node's validator is the node itself: no validator change is made there.
    let change = dir.path().join("change.json");
    let add = format!("other={key}@127.0.0.1:7100");
    let (ok, out) = run(certus(dir.path())
        .args(["validator", "propose", "--add", &add, "--out"])
        .arg(&change));
    assert!(!ok && out.contains("a single node's"), "{out}");
    assert!(!change.exists());
}
