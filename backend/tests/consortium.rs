//! A consortium of four real `certus` nodes on loopback (`certus consortium init`), each
//! with its own SQLite store, agreeing on one chain: blocks are final with the votes of
//! three; a node that joins later syncs the chain from the genesis; one node killed does not stop them, and catches up when restarted; two killed
//! stop finality (no fork, no progress) until one returns; afterwards every node's
//! `certus chain verify` passes, and fails naming the block when one byte of a stored
//! certificate is changed — and a node catching up refuses that block from the peer
//! that holds it. Then the validators change twice, by transactions a quorum of the
//! current ones signed: a fifth member joins and votes, and a founding one leaves. A
//! person one member's node holds data of is held by no other node, and their erasure,
//! final on the chain, is applied again by that node restored from an older backup. And
//! outside any consortium, a stranger's status list is fetched only from an origin the
//! verifier allows, revalidated by its ETag, and believed only with its proof.

mod process;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use process::members::{
    agree, anchored_on, chain_verifies, head, issue, no_quorum, node, node_dir, now_ms, ready,
    receipt, token, token_for, up, wait_until,
};
use process::{count, execute, query_row, run, Server};
use serde_json::json;

const MEMBERS: usize = 4;

/// Where the members' peer ports come from: below Linux's ephemeral range (32768–60999).
/// A port in that range that is free now can be taken, before a node binds it, by any
/// outgoing connection of a test running alongside (a database client, an HTTP request);
/// a node then fails to bind its listener (it happened once in a full run).
const PEER_PORTS: std::ops::Range<u16> = 20_000..32_700;

/// A base port with `MEMBERS + 1` free ports from it, for the members' peer listeners
/// (and one that joins later); each test process starts its search elsewhere.
fn free_ports() -> u16 {
    let width = MEMBERS as u16 + 1;
    let slots = (PEER_PORTS.end - PEER_PORTS.start) / width;
    let first = (std::process::id() % u32::from(slots)) as u16;
    (0..slots)
        .map(|k| PEER_PORTS.start + (first + k) % slots * width)
        .find(|base| (0..width).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok()))
        .expect("free ports")
}

/// `certus consortium init` of `MEMBERS` members under `root`, their peer ports from the
/// base it returns (with whether it succeeded and what it printed).
fn init(root: &std::path::Path) -> (u16, bool, String) {
    let base = free_ports();
    let (ok, out) = run(node(root, 1).args([
        "consortium",
        "init",
        "--members",
        &MEMBERS.to_string(),
        "--out",
        path(root),
        "--p2p-base",
        &base.to_string(),
    ]));
    (base, ok, out)
}

/// `certus receipt verify` of the receipt in `answer` (a receipt endpoint's JSON) against
/// the consortium's genesis under `root`: whether it holds, and what it printed.
fn verify_receipt(root: &std::path::Path, answer: &serde_json::Value) -> (bool, String) {
    let file = root.join("receipt.json");
    std::fs::write(&file, answer.to_string()).expect("write");
    run(node(root, 1)
        .args(["receipt", "verify"])
        .arg(&file)
        .arg("--genesis")
        .arg(root.join("genesis.json")))
}

/// The tests here run one at a time: each runs several nodes on two cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn four_nodes_agree_survive_one_fault_stop_without_a_quorum_and_verify_their_chains() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let (_, ok, out) = init(root);
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
    // Every node resolves it from the chain, as node 1 does: its rotated keys.
    let resolve = |i: usize| {
        let (status, resolved) =
            up(&nodes, i).request("GET", &format!("/1.0/identifiers/{did}"), "", None);
        assert_eq!(status, 200, "node {i}: {resolved}");
        resolved["didDocument"].clone()
    };
    let document = resolve(1);
    assert_eq!(document["id"], json!(did), "{document}");
    for i in 2..=MEMBERS {
        assert_eq!(resolve(i), document, "node {i}");
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
    let (ok, out) = verify_receipt(root, &anchored);
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
    anchored_on(
        first,
        &tokens[0],
        &stuck,
        "final again with a quorum",
        Duration::from_secs(20),
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
    let votes: String = query_row(
        &node_dir(root, 2),
        &format!("SELECT signatures FROM ledger_blocks WHERE height = {height}"),
    )
    .try_get("", "signatures")
    .expect("votes");
    // The first vote's signature starts right after its key.
    let at = votes.find("\"signature\":\"").expect("a vote") + 13;
    let digit = if &votes[at..=at] == "0" { "1" } else { "0" };
    let tampered = format!("{}{digit}{}", &votes[..at], &votes[at + 1..]);
    execute(
        &node_dir(root, 2),
        &format!("UPDATE ledger_blocks SET signatures = '{tampered}' WHERE height = {height}"),
    );
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

#[test]
fn validators_change_by_a_quorum_of_signatures_a_new_member_votes_and_a_founder_leaves() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let (base, ok, out) = init(root);
    assert!(ok, "{out}");
    // Member 5's institution: its own node and validator key, the consortium's genesis.
    let (ok, out) = run(node(root, 5).args(["validator", "init"]));
    assert!(ok, "{out}");
    let key5 = out
        .lines()
        .find_map(|l| l.strip_prefix("validator key: "))
        .expect("a key")
        .to_owned();
    std::fs::copy(
        root.join("genesis.json"),
        node_dir(root, 5).join("genesis.json"),
    )
    .expect("genesis");
    let p2p5 = format!("127.0.0.1:{}", base + MEMBERS as u16);
    let tokens: Vec<String> = (1..=5).map(|i| token(root, i)).collect();
    let start = |i: usize| {
        let mut command = node(root, i);
        if i == 5 {
            command.env("CERTUS_P2P_LISTEN", &p2p5);
        }
        Server::spawn(command)
    };
    let mut nodes: Vec<Option<Server>> = (1..=5).map(|i| Some(start(i))).collect();
    (1..=4).for_each(|i| ready(up(&nodes, i)));
    let before = issue(up(&nodes, 1), &tokens[0]);
    anchored_on(
        up(&nodes, 1),
        &tokens[0],
        &before,
        "anchored",
        Duration::from_secs(15),
    );

    // Node 1 proposes to add member 5; a stranger's signature, too few signatures or a
    // change not signed at all are refused; nodes 2 and 3 sign: three of four.
    let change = root.join("add-5.json");
    let validator = |i: usize, args: &[&str]| run(node(root, i).arg("validator").args(args));
    let add = format!("member-5={key5}@{p2p5}");
    let (ok, out) = validator(1, &["propose", "--add", &add, "--out", path(&change)]);
    assert!(
        ok && out.contains("signed by 1 of the 4 current validators, 3 needed"),
        "{out}"
    );
    let (ok, out) = validator(5, &["sign", path(&change)]);
    assert!(
        !ok && out.contains("not one of the current validators"),
        "{out}"
    );
    let (ok, out) = validator(2, &["sign", path(&change)]);
    assert!(ok && out.contains("signed by 2 of the 4"), "{out}");
    let (ok, out) = validator(2, &["submit", path(&change)]);
    assert!(!ok && out.contains("fewer than two thirds"), "{out}");
    let (ok, out) = validator(3, &["sign", path(&change)]);
    assert!(ok && out.contains("signed by 3 of the 4"), "{out}");
    let mut forged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&change).expect("read")).expect("json");
    forged["members"][0]["address"] = json!("127.0.0.1:1");
    let forged_file = root.join("forged.json");
    std::fs::write(&forged_file, forged.to_string()).expect("write");
    let (ok, out) = validator(4, &["submit", path(&forged_file)]);
    assert!(!ok && out.contains("does not verify"), "{out}");
    let (ok, out) = validator(4, &["submit", path(&change)]);
    assert!(ok, "{out}");

    // Final on every node, member 5 included, which synced the chain as a follower.
    let epoch = |server: &Server| {
        let (_, v) = server.request("GET", "/chain/validators", "", None);
        (
            v["epoch"].as_u64().unwrap_or(0),
            v["validators"].as_array().map_or(0, Vec::len),
        )
    };
    for server in nodes.iter().flatten() {
        wait_until(server, "epoch 1", Duration::from_secs(30), || {
            epoch(server) == (1, 5)
        });
    }
    // With node 4 killed, four of five remain — a quorum only if member 5 votes.
    nodes[3].take().expect("node 4").kill();
    let on_five = issue(up(&nodes, 5), &tokens[4]);
    let fifth = up(&nodes, 5);
    anchored_on(
        fifth,
        &tokens[4],
        &on_five,
        "anchored by the new set",
        Duration::from_secs(30),
    );
    let (_, anchored) = receipt(fifth, &tokens[4], &on_five);
    let votes = &anchored["receipt"]["signatures"];
    assert!(
        votes.as_array().is_some_and(|v| v.len() >= 4),
        "a quorum of five: {anchored}"
    );
    assert_eq!(anchored["receipt"]["finality"]["epoch"], 1, "{anchored}");
    // Its receipt carries the change: the genesis alone proves the set that voted.
    let (ok, out) = verify_receipt(root, &anchored);
    assert!(ok, "{out}");
    let mut stripped = anchored.clone();
    stripped["receipt"]
        .as_object_mut()
        .expect("a receipt")
        .remove("epochs");
    let (ok, out) = verify_receipt(root, &stripped);
    assert!(!ok, "a receipt without the change proves nothing: {out}");

    // Member 1 leaves: four of the five sign (node 4 is down); then node 1 stops, and
    // the remaining three of four go on.
    let change = root.join("remove-1.json");
    let (ok, out) = validator(
        2,
        &["propose", "--remove", "node-1", "--out", path(&change)],
    );
    assert!(ok && out.contains("4 needed"), "{out}");
    for i in [3, 5, 1] {
        let (ok, out) = validator(i, &["sign", path(&change)]);
        assert!(ok, "{out}");
    }
    let (ok, out) = validator(5, &["submit", path(&change)]);
    assert!(ok, "{out}");
    for i in [2, 3, 5] {
        let server = up(&nodes, i);
        wait_until(server, "epoch 2", Duration::from_secs(30), || {
            epoch(server) == (2, 4)
        });
    }
    nodes[0].take().expect("node 1").kill();
    let after = issue(up(&nodes, 3), &tokens[2]);
    let third = up(&nodes, 3);
    anchored_on(
        third,
        &tokens[2],
        &after,
        "anchored without node 1",
        Duration::from_secs(30),
    );
    // Node 4, back, crosses both changes as it catches up.
    nodes[3] = Some(start(4));
    let target = head(up(&nodes, 3));
    let fourth = up(&nodes, 4);
    wait_until(fourth, "node 4 caught up", Duration::from_secs(30), || {
        head(fourth).0 >= target.0
    });
    assert_eq!(epoch(fourth), (2, 4));
    drop(nodes);
    for i in 1..=5 {
        chain_verifies(root, i);
    }
}

#[test]
fn a_credential_issued_on_one_member_is_checked_on_another_with_its_status_from_the_chain() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let (_, ok, out) = init(root);
    assert!(ok, "{out}");
    let issuer = token_for(root, 1, "issue,read,status");
    let verifier = token_for(root, 3, "verify");
    let nodes: Vec<Server> = (1..=MEMBERS)
        .map(|i| Server::spawn(node(root, i)))
        .collect();
    nodes.iter().for_each(ready);
    let (first, third) = (&nodes[0], &nodes[2]);

    // Issued on node 1 in each format, two of each: once their anchors are final, node 3
    // checks them in full — their status read from the lists' newest versions anchored on
    // the chain, fetched from node 1.
    let formats = ["ldp_vc", "vc+jwt", "dc+sd-jwt"];
    let credentials: Vec<[serde_json::Value; 2]> = formats
        .iter()
        .map(|format| {
            [0, 1].map(|_| {
                let mut request = process::certificate();
                request["options"] = json!({ "format": format });
                let (status, body) =
                    first.request("POST", "/credentials/issue", &issuer, Some(&request));
                assert_eq!(status, 201, "{body}");
                body["verifiableCredential"].clone()
            })
        })
        .collect();
    let id = |vc: &serde_json::Value| process::ids::credential_id(vc);
    wait_until(first, "anchored", Duration::from_secs(15), || {
        credentials
            .iter()
            .flatten()
            .all(|vc| receipt(first, &issuer, &id(vc)).0 == 200)
    });
    let verify = |vc: &serde_json::Value| {
        let (status, body) = third.request(
            "POST",
            "/credentials/verify",
            &verifier,
            Some(&json!({ "verifiableCredential": vc })),
        );
        // The VC API's status follows the verdict.
        let expected = match body["verdict"].as_str() {
            Some("valid") => 200,
            Some("invalid") => 400,
            _ => 422,
        };
        assert_eq!(status, expected, "{body}");
        body
    };
    let outcome = |body: &serde_json::Value, check: &str| {
        body["results"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["check"] == check))
            .map(|r| (r["outcome"].clone(), r["code"].clone()))
    };
    // Node 3 learns where node 1's API answers: node 1 tells its peers.
    let announced = || {
        let (_, peers) = third.request("GET", "/chain/peers", "", None);
        peers["peers"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == "node-1"))
            .map(|p| p["publicUrl"].clone())
    };
    wait_until(
        third,
        "node 1's public URL",
        Duration::from_secs(10),
        || announced() == Some(json!(format!("http://{}", first.addr))),
    );
    // … and holds the blocks that anchor them and their lists' first versions.
    let final_on_first = head(first).0;
    wait_until(
        third,
        "node 3 holds those blocks",
        Duration::from_secs(15),
        || head(third).0 >= final_on_first,
    );
    for vc in credentials.iter().flatten() {
        let checked = verify(vc);
        assert_eq!(checked["verdict"], "valid", "{checked}");
        // The lists read are named with the institution whose node serves them.
        assert_eq!(checked["statusLists"][0]["member"], "node-1", "{checked}");
        assert_eq!(
            outcome(&checked, "status").map(|o| o.0),
            Some(json!("passed"))
        );
        assert_eq!(
            outcome(&checked, "anchored").map(|o| o.0),
            Some(json!("passed"))
        );
        // … naming the block, its time and the issuing institution.
        assert!(checked["anchor"]["height"].as_u64() > Some(0), "{checked}");
        assert!(checked["anchor"]["time"].is_string(), "{checked}");
        assert_eq!(checked["anchor"]["member"], "node-1", "{checked}");
    }

    // Revoked, suspended and reinstated on node 1: node 3 sees each once its list's new
    // version is final (the next block), and never before the chain says so.
    let change = |vc: &serde_json::Value, purpose: &str, set: bool| {
        let (status, body) = first.request(
            "POST",
            "/credentials/status",
            &issuer,
            Some(&json!({"credentialId": id(vc), "credentialStatus": {
                "type": "BitstringStatusListEntry", "statusPurpose": purpose}, "status": set})),
        );
        assert_eq!(status, 200, "{body}");
    };
    let becomes = |vc: &serde_json::Value, verdict: &str, code: serde_json::Value| {
        wait_until(third, verdict, Duration::from_secs(10), || {
            let body = verify(vc);
            body["verdict"] == verdict
                && outcome(&body, "status").map(|o| o.1) == Some(code.clone())
        });
    };
    for [revoked, suspended] in &credentials {
        change(revoked, "revocation", true);
        becomes(revoked, "invalid", json!("REVOKED"));
        change(suspended, "suspension", true);
        becomes(suspended, "invalid", json!("SUSPENDED"));
        change(suspended, "suspension", false);
        becomes(suspended, "valid", serde_json::Value::Null);
    }
    let credentials = &credentials[0];

    // Node 1, the root authority, registers the type's schema and accredits its issuer;
    // node 3 reads both from the chain: what node 1 issues afterwards passes node 3's
    // accreditation check.
    let root_authority = token_for(root, 1, "trust");
    let (status, body) = first.request(
        "POST",
        "/trust/schemas",
        &root_authority,
        Some(&json!({"type": "FoodIngredientCertificate"})),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = first.request(
        "POST",
        "/trust/accreditations",
        &root_authority,
        Some(&json!({"subject": credentials[0]["issuer"],
                     "credentialTypes": ["FoodIngredientCertificate"]})),
    );
    assert_eq!(status, 201, "{body}");
    let (_, later) = first.request(
        "POST",
        "/credentials/issue",
        &issuer,
        Some(&process::certificate()),
    );
    let later = later["verifiableCredential"].clone();
    wait_until(
        third,
        "accredited on node 3",
        Duration::from_secs(15),
        || {
            let body = verify(&later);
            outcome(&body, "accreditation").map(|o| o.0) == Some(json!("passed"))
                && body["verdict"] == "valid"
        },
    );

    // Node 1's store altered: the newest suspension list version it serves is not the one
    // the chain anchors (re-hashed in its store, so node 1 itself serves it). Node 3
    // refuses it and cannot tell the status: indeterminate, never valid.
    change(&credentials[1], "suspension", true);
    let url = credentials[1]["credentialStatus"][1]["statusListCredential"]
        .as_str()
        .expect("a suspension list")
        .to_owned();
    let list = url.rsplit('/').next().expect("a list id").to_owned();
    let db = node_dir(root, 1);
    let row = query_row(
        &db,
        &format!("SELECT version, credential FROM status_list_versions WHERE list_id = '{list}' ORDER BY version DESC"),
    );
    let version: i64 = row.try_get("", "version").expect("version");
    let credential: String = row.try_get("", "credential").expect("credential");
    let forged = credential.replacen("\"suspension\"", "\"suspension\" ", 1);
    let hash = certus_server::ledger::transaction::status_list_hash(forged.as_bytes());
    execute(
        &db,
        &format!(
            "UPDATE status_list_versions SET credential = '{}', hash = '{}' WHERE list_id = '{list}' AND version = {version}",
            forged.replace('\'', "''"),
            hash.to_hex()
        ),
    );
    wait_until(
        third,
        "the altered list refused",
        Duration::from_secs(10),
        || {
            let body = verify(&credentials[1]);
            body["verdict"] == "indeterminate"
                && outcome(&body, "status").map(|o| o.1) == Some(json!("STATUS_LIST_NOT_ANCHORED"))
        },
    );
}

/// Whether any file of member `i`'s data folder (its store, its journals) holds `needle`
/// in clear.
fn store_holds(root: &std::path::Path, i: usize, needle: &str) -> bool {
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                files(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut all = Vec::new();
    files(&node_dir(root, i), &mut all);
    all.iter().any(|file| {
        std::fs::read(file).is_ok_and(|bytes| {
            bytes
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
        })
    })
}

#[test]
fn a_person_of_one_member_is_held_by_no_other_and_their_erasure_reaches_a_restored_node() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let (_, ok, out) = init(root);
    assert!(ok, "{out}");
    let issuer = token_for(root, 1, "issue,read,privacy");
    let verifiers: Vec<String> = (2..=MEMBERS)
        .map(|i| token_for(root, i, "verify"))
        .collect();
    let mut nodes: Vec<Option<Server>> = (1..=MEMBERS)
        .map(|i| Some(Server::spawn(node(root, i))))
        .collect();
    nodes.iter().flatten().for_each(ready);

    // Node 1 issues a certificate about a person, with their reference and contact data;
    // every other node verifies it (its status read from node 1, its anchor from the chain).
    const PERSONAL: [&str; 3] = [
        "Zofia Erasmus",
        "zofia.erasmus@example.org",
        "CUST-ERASE-4711",
    ];
    let mut request = process::certificate();
    request["credential"]["credentialSubject"]["auditorName"] = json!(PERSONAL[0]);
    // Data Integrity: the credential is JSON, so a copy anywhere would show the name.
    request["options"] = json!({"format": "ldp_vc", "dataSubject": {
        "reference": PERSONAL[2], "contact": {"email": PERSONAL[1]}}});
    let (status, issued) =
        up(&nodes, 1).request("POST", "/credentials/issue", &issuer, Some(&request));
    assert_eq!(status, 201, "{issued}");
    let vc = issued["verifiableCredential"].clone();
    let id = process::ids::credential_id(&vc);
    anchored_on(
        up(&nodes, 1),
        &issuer,
        &id,
        "anchored",
        Duration::from_secs(15),
    );
    for (i, verifier) in (2..=MEMBERS).zip(&verifiers) {
        let server = up(&nodes, i);
        wait_until(server, "verified", Duration::from_secs(15), || {
            let (_, body) = server.request(
                "POST",
                "/credentials/verify",
                verifier,
                Some(&json!({ "verifiableCredential": vc })),
            );
            body["verdict"] == "valid"
        });
    }
    // What the other members hold of the person: nothing — the chain carries hashes, and
    // a verification keeps nothing of what it read. Node 1 holds them sealed in its
    // vault, never in clear.
    for i in 1..=MEMBERS {
        for needle in PERSONAL {
            assert!(!store_holds(root, i, needle), "node {i} holds {needle}");
        }
    }
    let (status, found) = up(&nodes, 1).request(
        "POST",
        "/data-subjects/search",
        &issuer,
        Some(&json!({"reference": PERSONAL[2]})),
    );
    assert_eq!(status, 200, "{found}");
    let subject = found["subjects"][0]["id"]
        .as_str()
        .expect("a subject")
        .to_owned();

    // Node 1's store backed up while it runs; then node 1 erases the person, and the
    // erasure's receipt is final on every node.
    let backup = root.join("node-1-backup.db");
    execute(
        &node_dir(root, 1),
        &format!("VACUUM INTO '{}'", path(&backup)),
    );
    let (status, erased) = up(&nodes, 1).request(
        "POST",
        &format!("/data-subjects/{subject}/erasure"),
        &issuer,
        None,
    );
    assert_eq!(status, 201, "{erased}");
    let commitment = erased["commitment"]
        .as_str()
        .expect("a commitment")
        .to_owned();
    for i in 1..=MEMBERS {
        let server = up(&nodes, i);
        wait_until(server, "the erasure final", Duration::from_secs(15), || {
            let (status, _) =
                server.request("GET", &format!("/anchors/{commitment}/receipt"), "", None);
            status == 200
        });
    }

    // Node 1 restored from the backup: its store holds the person again, and a chain
    // without the erasure. It catches up from its peers and erases them again as the
    // erasure's block arrives — the start-up pass over its own (old) chain found nothing.
    nodes[0] = None;
    let store = node_dir(root, 1).join("certus.db");
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{side}", path(&store)));
    }
    std::fs::copy(&backup, &store).expect("restored");
    nodes[0] = Some(Server::spawn(node(root, 1)));
    let first = up(&nodes, 1);
    ready(first);
    let held = || {
        let (status, body) =
            first.request("GET", &format!("/data-subjects/{subject}"), &issuer, None);
        assert_eq!(status, 200, "{body}");
        body
    };
    wait_until(
        first,
        "the erasure applied again on the restored node",
        Duration::from_secs(30),
        || held()["erasedAt"].is_string(),
    );
    let after = held();
    assert!(
        after["records"].as_array().is_some_and(
            |records| !records.is_empty() && records.iter().all(|r| r["erasedAt"].is_string())
        ),
        "{after}"
    );
    agree(&nodes);
}

/// Where a stranger's status lists are served in the test below: a minimal HTTP server on
/// loopback that answers each path with the bytes and `ETag` it is given
/// (`Cache-Control: max-age=0`, so each use asks again), a 304 to a matching
/// `If-None-Match`, and counts what it answered.
#[derive(Default)]
struct ListServer {
    lists: HashMap<String, (String, String)>,
    answered: usize,
    not_modified: usize,
}

fn serve_lists(lists: Arc<Mutex<ListServer>>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let mut reader = BufReader::new(&stream);
            let mut head = Vec::new();
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                head.push(std::mem::take(&mut line));
            }
            let path = head
                .first()
                .and_then(|l| l.split_whitespace().nth(1))
                .unwrap_or("")
                .to_owned();
            let asked = head.iter().find_map(|l| {
                l.to_ascii_lowercase()
                    .starts_with("if-none-match:")
                    .then(|| l[14..].trim().to_owned())
            });
            let mut state = lists.lock().unwrap_or_else(|p| p.into_inner());
            state.answered += 1;
            let (status, etag, body) = match state.lists.get(&path).cloned() {
                None => ("404 Not Found", String::new(), String::new()),
                Some((_, etag)) if asked.as_deref() == Some(etag.as_str()) => {
                    state.not_modified += 1;
                    ("304 Not Modified", etag, String::new())
                }
                Some((body, etag)) => ("200 OK", etag, body),
            };
            drop(state);
            let answer = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nETag: {etag}\r\n\
                 Cache-Control: max-age=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = (&stream).write_all(answer.as_bytes());
        }
    });
    addr
}

#[test]
fn a_strangers_status_list_is_fetched_only_from_an_allowed_origin_revalidated_and_verified() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().expect("tempdir");
    let lists = Arc::new(Mutex::new(ListServer::default()));
    let origin = format!("http://{}", serve_lists(lists.clone()));
    let with = |dir: &std::path::Path, name: &str, value: &str| {
        let mut command = process::certus(dir);
        command.env(name, value);
        Server::spawn(command)
    };

    // An issuer outside any consortium whose lists are published at `origin`.
    let issuer_dir = dir.path().join("issuer");
    let issuer = with(&issuer_dir, "CERTUS_PUBLIC_URL", &origin);
    let (ok, key) =
        run(process::certus(&issuer_dir).args(["api-key", "create", "--scopes", "issue,status"]));
    assert!(ok, "{key}");
    let key = key.trim();
    let mut request = process::certificate();
    request["options"] = json!({"format": "ldp_vc"});
    let (status, issued) = issuer.request("POST", "/credentials/issue", key, Some(&request));
    assert_eq!(status, 201, "{issued}");
    let vc = issued["verifiableCredential"].clone();
    // Each list as its issuer serves it now, `alter`ed, under a new ETag; as served.
    let publish = |etag: &str, alter: &dyn Fn(&str, String) -> String| {
        let mut served = HashMap::new();
        for entry in vc["credentialStatus"].as_array().expect("entries") {
            let url = entry["statusListCredential"].as_str().expect("a list");
            let path = url
                .strip_prefix(&origin)
                .expect("under the origin")
                .to_owned();
            let (status, body) = issuer.request_text("GET", &path, "", None);
            assert_eq!(status, 200, "{body}");
            let altered = alter(&path, body.clone());
            served.insert(path.clone(), body);
            let mut state = lists.lock().unwrap_or_else(|p| p.into_inner());
            state.lists.insert(path, (altered, format!("\"{etag}\"")));
        }
        served
    };
    let unrevoked = publish("v1", &|_, body| body);

    // A verifier allowed to fetch from that origin, and one that is not.
    let allowed = with(
        &dir.path().join("allowed"),
        "CERTUS_STATUS_LIST_ORIGINS",
        &origin,
    );
    let other = Server::start(&dir.path().join("other"));
    let status_of = |server: &Server| {
        let (_, body) = server.request(
            "POST",
            "/credentials/verify",
            "",
            Some(&json!({ "verifiableCredential": vc })),
        );
        let status = body["results"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["check"] == "status"))
            .map(|r| (r["outcome"].clone(), r["code"].clone()))
            .unwrap_or_default();
        (body["verdict"].clone(), status.0, status.1)
    };
    let served = || lists.lock().unwrap_or_else(|p| p.into_inner()).answered;

    let before = served();
    assert_eq!(
        status_of(&other),
        (
            json!("indeterminate"),
            json!("error"),
            json!("STATUS_LIST_UNAVAILABLE")
        )
    );
    assert_eq!(served(), before, "a stranger's list fetched without leave");

    // Fetched, its proof verified, and asked for again with its ETag each time.
    assert_eq!(status_of(&allowed).1, json!("passed"));
    assert_eq!(status_of(&allowed).1, json!("passed"));
    assert!(
        lists.lock().unwrap_or_else(|p| p.into_inner()).not_modified >= 2,
        "revalidated with If-None-Match"
    );

    // Revoked by its issuer: the new list is read.
    let (status, body) = issuer.request(
        "POST",
        "/credentials/status",
        key,
        Some(&json!({"credentialId": vc["id"], "credentialStatus": {
            "type": "BitstringStatusListEntry", "statusPurpose": "revocation"}})),
    );
    assert_eq!(status, 200, "{body}");
    publish("v2", &|_, body| body);
    assert_eq!(
        status_of(&allowed),
        (json!("invalid"), json!("failed"), json!("REVOKED"))
    );

    // Served altered — the revocation undone: the earlier bits under the new proof — its
    // proof fails, and nothing is believed.
    publish("v3", &|path, body| {
        let before: serde_json::Value = serde_json::from_str(&unrevoked[path]).expect("json");
        let mut list: serde_json::Value = serde_json::from_str(&body).expect("json");
        list["credentialSubject"]["encodedList"] =
            before["credentialSubject"]["encodedList"].clone();
        list.to_string()
    });
    assert_eq!(
        status_of(&allowed),
        (
            json!("indeterminate"),
            json!("error"),
            json!("STATUS_LIST_UNVERIFIED")
        )
    );
}

fn path(file: &std::path::Path) -> &str {
    file.to_str().expect("utf-8")
}
