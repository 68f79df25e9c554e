//! A consortium of four real `certus` nodes on loopback (`certus consortium init`), each
//! with its own SQLite store, agreeing on one chain: blocks are final with the votes of
//! three; a node that joins later syncs the chain from the genesis; one node killed does not stop them, and catches up when restarted; two killed
//! stop finality (no fork, no progress) until one returns; afterwards every node's
//! `certus chain verify` passes, and fails naming the block when one byte of a stored
//! certificate is changed — and a node catching up refuses that block from the peer
//! that holds it.

mod process;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use process::members::{
    agree, chain_verifies, head, issue, no_quorum, node, node_dir, now_ms, ready, receipt, token,
    up, wait_until,
};
use process::{count, run, Server};
use serde_json::json;

const MEMBERS: usize = 4;

/// A base port with `MEMBERS` free ports from it, for the members' peer listeners.
fn free_ports() -> u16 {
    let start = 20_000 + (std::process::id() % 20_000) as u16;
    (start..60_000)
        .step_by(MEMBERS)
        .find(|base| {
            (0..MEMBERS as u16).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok())
        })
        .expect("free ports")
}

#[test]
fn four_nodes_agree_survive_one_fault_stop_without_a_quorum_and_verify_their_chains() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let base = free_ports();
    let (ok, out) = run(node(root, 1).args([
        "consortium",
        "init",
        "--members",
        "4",
        "--out",
        root.to_str().expect("utf-8"),
        "--p2p-base",
        &base.to_string(),
    ]));
    assert!(ok && out.contains("quorum 3"), "{out}");
    let tokens: Vec<String> = (1..=MEMBERS).map(|i| token(root, i)).collect();
    let start = |i: usize| Server::spawn(node(root, i));
    // Node 4 joins later, from the genesis alone.
    let mut nodes: Vec<Option<Server>> = (1..MEMBERS).map(|i| Some(start(i))).collect();
    nodes.push(None);
    nodes.iter().flatten().for_each(ready);
    let (_, peers) = up(&nodes, 2).request("GET", "/chain/peers", "", None);
    assert_eq!(peers["consortium"], true, "{peers}");
    assert_eq!(peers["quorum"], 3, "{peers}");
    assert_eq!(
        peers["peers"].as_array().map(Vec::len),
        Some(MEMBERS),
        "{peers}"
    );

    // Issued on two nodes: every credential is anchored in a final block all four hold.
    let mut issued: Vec<(usize, String)> = Vec::new();
    for _ in 0..4 {
        for i in [1, 3] {
            issued.push((i, issue(up(&nodes, i), &tokens[i - 1])));
        }
    }
    for i in [1, 3] {
        let server = up(&nodes, i);
        wait_until(
            server,
            "every issuance anchored",
            Duration::from_secs(15),
            || {
                issued
                    .iter()
                    .filter(|(on, _)| *on == i)
                    .all(|(_, id)| receipt(server, &tokens[i - 1], id).0 == 200)
            },
        );
    }
    // Node 4 starts now, with only the genesis: it syncs the whole chain and checks it.
    assert!(head(up(&nodes, 1)).0 > 0, "blocks before node 4 joins");
    nodes[3] = Some(start(4));
    ready(up(&nodes, 4));
    agree(&nodes);

    // A DID's operations made on node 1 — its create, then a rotation (a key added, the
    // old one removed) — are checked in order and final on every node.
    let (status, created) = up(&nodes, 1).request("POST", "/dids", &tokens[0], Some(&json!({})));
    assert_eq!(status, 201, "{created}");
    let did = created["did"].as_str().expect("a DID");
    let (status, rotated) = up(&nodes, 1).request(
        "POST",
        &format!("/dids/{did}/keys"),
        &tokens[0],
        Some(&json!({})),
    );
    assert_eq!(status, 200, "{rotated}");
    for (i, server) in nodes.iter().flatten().enumerate() {
        wait_until(
            server,
            "the DID's operations final",
            Duration::from_secs(15),
            || count(&node_dir(root, i + 1), "ledger_transactions", "kind = 4") == 3,
        );
    }
    let (_, validators) = up(&nodes, 4).request("GET", "/chain/validators", "", None);
    let signed = validators["validators"]
        .as_array()
        .expect("validators")
        .iter()
        .filter(|v| v["lastSignedHeight"].is_u64())
        .count();
    assert!(signed >= 3, "a quorum voted: {validators}");

    // A receipt from a node carries the block's certificate and checks against the
    // genesis alone.
    let (_, anchored) = receipt(up(&nodes, 3), &tokens[2], &issued[1].1);
    assert!(anchored["receipt"]["finality"].is_object(), "{anchored}");
    let file = root.join("receipt.json");
    std::fs::write(&file, anchored.to_string()).expect("write");
    let genesis = root.join("genesis.json");
    let (ok, out) = run(node(root, 1)
        .args(["receipt", "verify"])
        .arg(&file)
        .arg("--genesis")
        .arg(&genesis));
    assert!(ok, "{out}");

    // One node killed: the other three still finalise; restarted, it catches up.
    nodes[3].take().expect("node 4").kill();
    let during: Vec<String> = (0..3).map(|_| issue(up(&nodes, 2), &tokens[1])).collect();
    let second = up(&nodes, 2);
    wait_until(
        second,
        "anchored with a node down",
        Duration::from_secs(15),
        || {
            during
                .iter()
                .all(|id| receipt(second, &tokens[1], id).0 == 200)
        },
    );
    nodes[3] = Some(start(4));
    let target = head(up(&nodes, 1));
    let fourth = up(&nodes, 4);
    wait_until(
        fourth,
        "the restarted node caught up",
        Duration::from_secs(20),
        || head(fourth).0 >= target.0,
    );
    agree(&nodes);

    // Two killed: no node pretends to be ready and nothing is final; one back, and the
    // waiting anchor is final in the block right after the head, proposed after the
    // restart — so nothing was final in between.
    nodes[2].take().expect("node 3").kill();
    nodes[3].take().expect("node 4").kill();
    let before = head(up(&nodes, 1));
    let stuck = issue(up(&nodes, 1), &tokens[0]);
    let first = up(&nodes, 1);
    no_quorum(first);
    assert_ne!(receipt(first, &tokens[0], &stuck).0, 200);
    assert_eq!(head(up(&nodes, 2)), before);
    let restarted_ms = now_ms();
    nodes[2] = Some(start(3));
    let first = up(&nodes, 1);
    wait_until(
        first,
        "final again with a quorum",
        Duration::from_secs(20),
        || receipt(first, &tokens[0], &stuck).0 == 200,
    );
    let (_, anchored) = receipt(first, &tokens[0], &stuck);
    let header = &anchored["receipt"]["header"];
    assert_eq!(header["height"].as_u64(), Some(before.0 + 1), "{anchored}");
    assert!(
        header["timeMs"].as_u64() >= Some(restarted_ms),
        "proposed before the quorum returned: {anchored}"
    );
    agree(&nodes);
    let height = head(up(&nodes, 1)).0;
    drop(nodes);

    // Every node's store checks out — node 4 missed the last blocks and holds fewer.
    for i in 1..=MEMBERS {
        chain_verifies(root, i);
    }
    // One byte of one stored vote changed: `chain verify` names the block.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        use sea_orm::ConnectionTrait;
        let url = format!("sqlite://{}", node_dir(root, 2).join("certus.db").display());
        let db = sea_orm::Database::connect(url).await.expect("sqlite");
        let read = format!("SELECT signatures FROM ledger_blocks WHERE height = {height}");
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                read,
            ))
            .await
            .expect("query")
            .expect("the block");
        let votes: String = row.try_get("", "signatures").expect("votes");
        // The first vote's signature starts right after its key.
        let at = votes.find("\"signature\":\"").expect("a vote") + 13;
        let digit = if &votes[at..=at] == "0" { "1" } else { "0" };
        let tampered = format!("{}{digit}{}", &votes[..at], &votes[at + 1..]);
        db.execute_unprepared(&format!(
            "UPDATE ledger_blocks SET signatures = '{tampered}' WHERE height = {height}"
        ))
        .await
        .expect("tamper");
    });
    let (ok, out) = run(node(root, 2).args(["chain", "verify"]));
    assert!(
        !ok && out.contains(&format!("block {height} does not hold")),
        "{out}"
    );

    // Node 2, so tampered with, is the only peer ahead of node 4: node 4 refuses the
    // blocks it sends, logs why naming the block, and stores none of them.
    let pair = [2, 4].map(|i| Server::spawn(node(root, i)));
    let deadline = Instant::now() + Duration::from_secs(20);
    let refused = pair[1]
        .until_logged(deadline, "refused blocks from a peer")
        .expect("node 4 refuses node 2's blocks");
    assert!(
        refused.contains(&format!("block {height} does not hold")),
        "{refused}"
    );
    assert!(head(&pair[1]).0 < height, "node 4 stored a refused block");
}
