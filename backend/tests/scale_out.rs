//! Several `certus serve` processes over one PostgreSQL database, all issuing (issue 23):
//! every acknowledged credential recorded once, anchored, with status entries no other
//! credential holds, its status changed through any process; a mandate's `maxCount` held
//! across processes; a process killed while holding a lease on a pair of status lists loses
//! nothing acknowledged and its pair is taken over; a key rotated through one process signs
//! in the others within the coherence bound; a node given a read replica verifies and serves
//! status lists from it, and asks the primary for what the replica lacks. Servers bind 127.0.0.1 on free ports and are
//! killed when the test ends.

mod process;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use process::{
    certificate, certus, count_at, execute_at, outcome, query_row_at, run, verified_anchored,
    Postgres, Replicated, Server,
};

/// Seconds a lease on a pair of status lists lasts here (the shortest allowed).
const LEASE_SECS: u64 = 3;

/// A `certus` command over the database at `url`, as one of the API nodes behind a load
/// balancer at one public URL (the data folder holds only the master key, which every
/// process shares).
fn over(dir: &Path, url: &str) -> std::process::Command {
    let mut command = certus(dir);
    command
        .env("DATABASE_URL", url)
        .env("CERTUS_PUBLIC_URL", "https://certus.test")
        .env("CERTUS_STATUS_LEASE_SECS", LEASE_SECS.to_string());
    command
}

/// The log line of a reload of cache `name` (the field's value, as logged in colour too).
fn reloaded(name: &str) -> String {
    format!("\"{name}\"")
}

/// An API key of the default institution with `scopes`.
fn api_key(dir: &Path, url: &str, scopes: &str) -> String {
    let (ok, token) = run(over(dir, url).args(["api-key", "create", "--scopes", scopes]));
    assert!(ok, "{token}");
    token.trim().to_owned()
}

/// `n` servers over the database at `url`.
fn servers(dir: &Path, url: &str, n: usize) -> Vec<Server> {
    (0..n).map(|_| Server::spawn(over(dir, url))).collect()
}

/// The revocation entry of a Data Integrity credential: (list URL, index).
fn entry(vc: &Value) -> (String, String) {
    let revocation = vc["credentialStatus"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["statusPurpose"] == "revocation"))
        .expect("a revocation entry");
    (
        revocation["statusListCredential"]
            .as_str()
            .expect("list")
            .to_owned(),
        revocation["statusListIndex"]
            .as_str()
            .expect("index")
            .to_owned(),
    )
}

/// What each client thread got: (server, credential id, revocation entry) per 201, and
/// every other answer.
#[derive(Default)]
struct Outcome {
    issued: Vec<(usize, String, (String, String))>,
    refused: Vec<(u16, Value)>,
}

/// Two clients per server issue `body` until `stop` says so.
fn issue_from_all(
    servers: &[Server],
    token: &str,
    body: &Value,
    stop: impl Fn(&Outcome) -> bool + Sync,
) -> Outcome {
    let outcome = Mutex::new(Outcome::default());
    std::thread::scope(|scope| {
        for (n, server) in servers.iter().enumerate() {
            for _ in 0..2 {
                let (outcome, stop) = (&outcome, &stop);
                scope.spawn(move || loop {
                    if stop(&outcome.lock().expect("lock")) {
                        return;
                    }
                    let (status, answer) =
                        server.request("POST", "/credentials/issue", token, Some(body));
                    let mut outcome = outcome.lock().expect("lock");
                    if status == 201 {
                        let vc = &answer["verifiableCredential"];
                        let id = vc["id"].as_str().expect("id").to_owned();
                        outcome.issued.push((n, id, entry(vc)));
                    } else {
                        outcome.refused.push((status, answer));
                    }
                });
            }
        }
    });
    outcome.into_inner().expect("lock")
}

#[test]
fn two_and_four_processes_issue_at_once_and_every_credential_is_recorded_once_with_its_own_entries()
{
    for n in [2, 4] {
        let db = Postgres::create();
        let dir = tempfile::tempdir().expect("tempdir");
        let token = api_key(dir.path(), &db.url, "issue,status,read");
        let servers = servers(dir.path(), &db.url, n);

        let until = Instant::now() + Duration::from_secs(3);
        let outcome = issue_from_all(&servers, &token, &certificate(), |_| {
            Instant::now() >= until
        });
        assert!(
            outcome.refused.is_empty(),
            "{n} processes: refused {:?}",
            outcome.refused.first()
        );
        let issued = &outcome.issued;
        assert!(issued.len() >= 20 * n, "{n} processes: {}", issued.len());
        for server in 0..n {
            assert!(issued.iter().any(|(s, _, _)| *s == server));
        }
        // No two credentials share a status entry, and each is recorded once.
        let entries: HashSet<_> = issued.iter().map(|(_, _, e)| e).collect();
        assert_eq!(entries.len(), issued.len(), "{n} processes share an entry");
        let lists: HashSet<_> = issued.iter().map(|(_, _, (list, _))| list).collect();
        assert!(lists.len() >= n, "each process issues in a pair of its own");
        assert_eq!(
            count_at(&db.url, "issued_credentials", "TRUE"),
            issued.len() as i64
        );
        let distinct = query_row_at(
            &db.url,
            "SELECT COUNT(DISTINCT credential_id) AS n FROM issued_credentials",
        )
        .try_get::<i64>("", "n")
        .expect("n");
        assert_eq!(distinct, issued.len() as i64);

        // A credential issued through one process is revoked through another, and each
        // process reads the change.
        let (first, last) = (&servers[0], &servers[n - 1]);
        let through_first = issued.iter().find(|(s, _, _)| *s == 0).expect("one");
        let through_last = issued.iter().find(|(s, _, _)| *s == n - 1).expect("one");
        for ((_, id, _), by) in [(through_first, last), (through_last, first)] {
            let change = json!({"credentialId": id, "status": true,
                "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}});
            let (status, body) = by.request("POST", "/credentials/status", &token, Some(&change));
            assert_eq!(status, 200, "{body}");
            for server in &servers {
                let (status, body) =
                    server.request("GET", &format!("/credentials/{id}/status"), &token, None);
                assert_eq!((status, &body["revoked"]), (200, &json!(true)), "{body}");
            }
        }

        // Every acknowledged credential is anchored: the others stop (each seals what it
        // acknowledged), the first seals the rest.
        let mut servers = servers;
        let first = servers.remove(0);
        servers.into_iter().for_each(Server::stop);
        let unanchored = || {
            count_at(
                &db.url,
                "issued_credentials ic",
                "NOT EXISTS (SELECT 1 FROM ledger_transactions t \
                 WHERE t.commitment = ic.commitment)",
            )
        };
        assert!(
            first.until_sealed(Instant::now() + Duration::from_secs(10), || unanchored()
                == 0),
            "{n} processes: {} credentials never anchored",
            unanchored()
        );
        first.stop();
        let (ok, verified) = run(over(dir.path(), &db.url).args(["chain", "verify"]));
        assert!(ok, "{verified}");
    }
}

#[test]
fn a_mandate_of_fifty_issued_against_from_two_processes_stops_at_exactly_fifty() {
    let db = Postgres::create();
    let dir = tempfile::tempdir().expect("tempdir");
    let root = api_key(dir.path(), &db.url, "trust");
    let token = api_key(dir.path(), &db.url, "issue,read");
    let servers = servers(dir.path(), &db.url, 2);
    let (a, b) = (&servers[0], &servers[1]);

    let (status, body) = a.request(
        "POST",
        "/trust/schemas",
        &root,
        Some(&json!({"type": "KycCredential"})),
    );
    assert!(status == 201 || status == 409, "{status} {body}");
    let new_did = || {
        let (status, body) = a.request("POST", "/dids", &token, Some(&json!({})));
        assert_eq!(status, 201, "{body}");
        body["did"].as_str().expect("did").to_owned()
    };
    let (bank, branch) = (new_did(), new_did());
    let (status, body) = a.request(
        "POST",
        "/trust/accreditations",
        &root,
        Some(&json!({"subject": bank, "credentialTypes": ["KycCredential"]})),
    );
    assert_eq!(status, 201, "{body}");
    let until = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let (status, body) = a.request(
        "POST",
        "/trust/delegations",
        &token,
        Some(
            &json!({"grantor": bank, "subject": branch, "credentialTypes": ["KycCredential"],
                     "validUntil": until, "maxCount": 50}),
        ),
    );
    assert_eq!(status, 201, "{body}");
    // The other process takes in the new DIDs' keys and the mandate (coherence::POLL).
    let deadline = Instant::now() + Duration::from_secs(10);
    for cache in ["keys", "trust"] {
        assert!(
            b.until_logged(deadline, &reloaded(cache)).is_some(),
            "the second process never reloaded its {cache}"
        );
    }

    let body = json!({"credential": {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/certus/contexts/kyc/v1"],
        "type": ["VerifiableCredential", "KycCredential"],
        "issuer": branch,
        "credentialSubject": {"givenName": "Maria", "familyName": "Rossi", "birthDate": "1988-04-12",
            "nationality": "IT", "documentNumber": "YA1234567", "assuranceLevel": "substantial",
            "checkDate": "2026-10-01", "checkMethod": "video"}
    }});
    // Each client stops at its first refusal.
    let outcome = issue_from_all(&servers, &token, &body, |o| o.refused.len() >= 4);
    assert_eq!(outcome.issued.len(), 50);
    assert!(outcome.issued.iter().any(|(s, _, _)| *s == 0));
    assert!(outcome.issued.iter().any(|(s, _, _)| *s == 1));
    for (status, refusal) in &outcome.refused {
        assert_eq!(
            (*status, refusal["code"].as_str()),
            (403, Some("MANDATE_EXHAUSTED")),
            "{refusal}"
        );
    }
    assert_eq!(
        count_at(
            &db.url,
            "issued_credentials",
            &format!("issuer = '{branch}'")
        ),
        50
    );
    assert_eq!(count_at(&db.url, "mandate_uses", "used = 50"), 1);
}

#[test]
fn a_process_killed_while_holding_a_lease_loses_nothing_acknowledged_and_its_pair_is_taken_over() {
    let db = Postgres::create();
    let dir = tempfile::tempdir().expect("tempdir");
    let token = api_key(dir.path(), &db.url, "issue");
    let first = Server::spawn(over(dir.path(), &db.url));
    let before = issue_from_all(std::slice::from_ref(&first), &token, &certificate(), |o| {
        o.issued.len() >= 20
    });
    assert!(before.refused.is_empty(), "{:?}", before.refused.first());
    first.kill();

    // Nothing acknowledged is lost.
    for (_, id, _) in &before.issued {
        assert_eq!(
            count_at(
                &db.url,
                "issued_credentials",
                &format!("credential_id = '{id}'")
            ),
            1
        );
    }
    let (list, _) = before.issued[0].2.clone();
    let list_id = list.rsplit('/').next().expect("id").to_owned();
    // The killed process still holds its pair, for at most one lease.
    let lease_until = query_row_at(
        &db.url,
        &format!("SELECT lease_until_ms FROM status_lists WHERE id = '{list_id}'"),
    )
    .try_get::<i64>("", "lease_until_ms")
    .expect("a lease");
    let left = lease_until - chrono::Utc::now().timestamp_millis();
    assert!(
        left > 0 && left <= (LEASE_SECS * 1000) as i64,
        "{left} ms left"
    );
    // Its lease runs out: the test moves the lease's end into the past rather than wait
    // (the expiry against a moved clock is `status::processes_lease_their_own_pairs…`).
    execute_at(
        &db.url,
        &format!(
            "UPDATE status_lists SET lease_until_ms = {} WHERE id = '{list_id}'",
            chrono::Utc::now().timestamp_millis() - 1
        ),
    );

    let next = Server::spawn(over(dir.path(), &db.url));
    let after = issue_from_all(std::slice::from_ref(&next), &token, &certificate(), |o| {
        o.issued.len() >= 20
    });
    assert!(after.refused.is_empty(), "{:?}", after.refused.first());
    let held: HashSet<_> = before.issued.iter().map(|(_, _, e)| e.clone()).collect();
    for (_, _, entry) in &after.issued {
        assert_eq!(
            entry.0, list,
            "the pair of the killed process is taken over"
        );
        assert!(!held.contains(entry), "{entry:?} was handed out twice");
    }
    let holders = query_row_at(
        &db.url,
        &format!("SELECT COUNT(*) AS n FROM status_lists WHERE id = '{list_id}' AND leased_by IS NOT NULL"),
    )
    .try_get::<i64>("", "n")
    .expect("n");
    assert_eq!(holders, 1);
    // On a clean stop the process gives its lease back.
    next.stop();
    assert_eq!(
        count_at(&db.url, "status_lists", "leased_by IS NOT NULL"),
        0
    );
}

#[test]
fn a_key_rotated_through_one_process_signs_in_the_other_within_the_coherence_bound() {
    let db = Postgres::create();
    let dir = tempfile::tempdir().expect("tempdir");
    let token = api_key(dir.path(), &db.url, "issue");
    let servers = servers(dir.path(), &db.url, 2);
    let (a, b) = (&servers[0], &servers[1]);
    let (status, body) = a.request("POST", "/dids", &token, Some(&json!({})));
    assert_eq!(status, 201, "{body}");
    let did = body["did"].as_str().expect("did").to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    assert!(b.until_logged(deadline, &reloaded("keys")).is_some());
    let mut credential = certificate();
    credential["credential"]["issuer"] = json!(did);
    let signer = |server: &Server| {
        let (status, body) =
            server.request("POST", "/credentials/issue", &token, Some(&credential));
        assert_eq!(status, 201, "{body}");
        body["verifiableCredential"]["proof"]["verificationMethod"]
            .as_str()
            .expect("verificationMethod")
            .to_owned()
    };
    assert_eq!(signer(b), format!("{did}#key-1"));

    let (status, rotated) = a.request(
        "POST",
        &format!("/dids/{did}/keys"),
        &token,
        Some(&json!({})),
    );
    assert_eq!(status, 200, "{rotated}");
    // Within the bound docs/operations.md states (coherence::POLL, one second, plus the
    // reload: milliseconds) — given slack for a loaded machine — the other process has
    // taken the rotation in and signs with the new key.
    assert!(
        b.until_logged(Instant::now() + Duration::from_secs(4), &reloaded("keys"))
            .is_some(),
        "the rotation was not taken in within the bound"
    );
    assert_eq!(signer(b), format!("{did}#key-2"));
}

#[test]
fn a_node_given_a_read_replica_verifies_and_serves_status_lists_from_it_and_asks_the_primary_for_what_it_lacks(
) {
    let pg = Replicated::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let token = api_key(dir.path(), &pg.primary, "issue,status,verify,read");
    // A issues over the primary; B verifies, reading what may lag from the replica.
    let a = Server::spawn(over(dir.path(), &pg.primary));
    pg.caught_up();
    let mut reads_replica = over(dir.path(), &pg.primary);
    // B seals no block while the test runs (A's log announces every one).
    reads_replica
        .env("CERTUS_READ_DATABASE_URL", &pg.replica)
        .env("CERTUS_BLOCK_INTERVAL_MS", "3600000");
    let b = Server::spawn(reads_replica);
    let issue = || {
        let (status, body) = a.request("POST", "/credentials/issue", &token, Some(&certificate()));
        assert_eq!(status, 201, "{body}");
        body["verifiableCredential"].clone()
    };
    let verify = |server: &Server, vc: &Value| {
        let (_, body) = server.request(
            "POST",
            "/credentials/verify",
            &token,
            Some(&json!({ "verifiableCredential": vc })),
        );
        body
    };
    let first = issue();
    verified_anchored(&a, &first);
    pg.caught_up();

    // While the replica replays nothing, A revokes the credential: B, which has not read
    // its list before, reads it from the replica, as it was before the revocation.
    pg.pause(true);
    let change = json!({"credentialId": process::ids::credential_id(&first), "status": true,
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}});
    let (status, body) = a.request("POST", "/credentials/status", &token, Some(&change));
    assert_eq!(status, 200, "{body}");
    let (list, _) = entry(&first);
    let list = list
        .strip_prefix("https://certus.test")
        .expect("a local list");
    let (on_a, on_b) = (
        a.request("GET", list, "", None),
        b.request("GET", list, "", None),
    );
    assert_eq!((on_a.0, on_b.0), (200, 200));
    assert_ne!(
        on_a.1, on_b.1,
        "B serves the list as the paused replica holds it"
    );
    assert_eq!(outcome(&verify(&a, &first), "status").1, json!("REVOKED"));
    assert_eq!(outcome(&verify(&b, &first), "status").0, json!("passed"));

    // What the replica lacks is read from the primary: a credential issued and anchored
    // meanwhile is anchored for B too (not "not issued here"), and a DID made meanwhile
    // resolves through B.
    let second = issue();
    verified_anchored(&a, &second);
    let checked = verify(&b, &second);
    assert_eq!(
        outcome(&checked, "anchored").0,
        json!("passed"),
        "{checked}"
    );
    let (status, body) = a.request("POST", "/dids", &token, Some(&json!({})));
    assert_eq!(status, 201, "{body}");
    let did = body["did"].as_str().expect("did");
    let (status, body) = b.request("GET", &format!("/1.0/identifiers/{did}"), "", None);
    assert_eq!(status, 200, "{body}");

    // Once the replica has replayed, B sees the revocation within the bound its list cache
    // adds (status::FRESH_FOR, one second; given slack for a loaded machine): B is asked
    // again, each time a whole verification, until it does.
    pg.pause(false);
    pg.caught_up();
    let deadline = Instant::now() + Duration::from_secs(5);
    while outcome(&verify(&b, &first), "status").1 != json!("REVOKED") {
        assert!(Instant::now() < deadline, "B never saw the revocation");
    }
    assert_eq!(
        b.request("GET", list, "", None),
        a.request("GET", list, "", None)
    );

    // A replica that stops is read around: B answers from the primary.
    pg.stop_replica();
    let checked = verify(&b, &second);
    assert_eq!(checked["verdict"], "valid", "{checked}");
    assert_eq!(outcome(&checked, "anchored").0, json!("passed"));
    assert_eq!(outcome(&verify(&b, &first), "status").1, json!("REVOKED"));
}

#[test]
fn a_read_replica_behind_the_primary_schema_is_refused_at_start() {
    let db = Postgres::create();
    let empty = Postgres::create();
    let dir = tempfile::tempdir().expect("tempdir");
    let (ok, out) = run(over(dir.path(), &db.url)
        .env("CERTUS_READ_DATABASE_URL", &empty.url)
        .args(["api-key", "create", "--scopes", "read"]));
    assert!(!ok, "{out}");
    assert!(out.contains("the read replica lacks"), "{out}");
}
