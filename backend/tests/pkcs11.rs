//! Keys in a PKCS#11 token (SoftHSM2, Debian's `softhsm2`): a node started with
//! `CERTUS_PKCS11_*` makes its issuer and validator keys inside the token, issues and
//! verifies in all three formats, seals blocks and signs trust statements with them, and
//! stores no private key of its own in the database or the data folder.

mod process;

use std::path::{Path, PathBuf};
use std::process::Command;

use certus_server::config::Pkcs11Config;
use certus_server::keys::pkcs11::Token;
use serde_json::{json, Value};

use process::{certificate, certus, run, verified_anchored, Server};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const LABEL: &str = "certus-test";
const PIN: &str = "4711-0815";

/// A fresh SoftHSM2 token in its own folder.
struct SoftHsm {
    _dir: tempfile::TempDir,
    conf: PathBuf,
}

impl SoftHsm {
    fn new() -> Self {
        assert!(
            Path::new(MODULE).exists(),
            "SoftHSM2 is missing: `apt-get install softhsm2` (scripts/test.sh installs it)"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).expect("token folder");
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .expect("conf");
        let (ok, out) = run(Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &conf)
            .args(["--init-token", "--free", "--label", LABEL])
            .args(["--so-pin", "1234-5678", "--pin", PIN]));
        assert!(ok, "{out}");
        Self { _dir: dir, conf }
    }

    /// `certus` on `data_dir` with this token as its key custody.
    fn certus(&self, data_dir: &Path) -> Command {
        let mut command = certus(data_dir);
        command
            .env("SOFTHSM2_CONF", &self.conf)
            .env("CERTUS_PKCS11_MODULE", MODULE)
            .env("CERTUS_PKCS11_TOKEN", LABEL)
            .env("CERTUS_PKCS11_PIN", PIN);
        command
    }
}

/// Every value of `column` in `table` of the SQLite store in `dir`.
fn column(dir: &Path, table: &str, column: &str) -> Vec<String> {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        use sea_orm::ConnectionTrait;
        let url = format!("sqlite://{}", dir.join("certus.db").display());
        let db = sea_orm::Database::connect(url).await.expect("sqlite");
        db.query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT {column} AS v FROM {table}"),
        ))
        .await
        .expect("query")
        .iter()
        .map(|row| row.try_get::<String>("", "v").expect("text"))
        .collect()
    })
}

#[test]
fn a_node_with_a_pkcs11_token_signs_everything_with_keys_that_never_leave_it() {
    let hsm = SoftHsm::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let (ok, token) = run(hsm.certus(dir.path()).args([
        "api-key",
        "create",
        "--scopes",
        "issue,verify,status,trust",
    ]));
    assert!(ok, "{token}");
    let token = token.trim().to_owned();

    // No private key of the node is in its store: each row names a key in the token.
    let stored: Vec<String> = column(dir.path(), "signing_keys", "private_jwe")
        .into_iter()
        .chain(column(dir.path(), "node_keys", "private_jwe"))
        .collect();
    assert_eq!(stored.len(), 3, "two issuer keys and the validator key");
    let ids: Vec<Vec<u8>> = stored
        .iter()
        .map(|s| {
            let id = s
                .strip_prefix("pkcs11:")
                .unwrap_or_else(|| panic!("a sealed key: {s}"));
            hex::decode(id).expect("hex id")
        })
        .collect();
    // The token holds them as sensitive and never extractable.
    std::env::set_var("SOFTHSM2_CONF", &hsm.conf);
    let held = Token::open(&Pkcs11Config {
        module: Some(MODULE.into()),
        token: Some(LABEL.into()),
        pin: Some(PIN.into()),
    })
    .expect("token");
    for id in &ids {
        assert!(held.is_sealed(id).expect("the key is in the token"));
    }
    let algorithms = column(dir.path(), "signing_keys", "algorithm");
    assert!(algorithms.contains(&"EdDSA".to_owned()), "{algorithms:?}");
    assert!(algorithms.contains(&"ES256".to_owned()), "{algorithms:?}");

    let server = Server::spawn(hsm.certus(dir.path()));
    let issuers = issuers(&server, &token);
    assert_eq!(issuers.len(), 2, "{issuers:?}");
    // The root authority (the validator key) registers the KYC schema and accredits the
    // institution for it, so trust statements are signed in the token too.
    let (status, body) = server.request(
        "POST",
        "/trust/schemas",
        &token,
        Some(&json!({"type": "KycCredential"})),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = server.request(
        "POST",
        "/trust/accreditations",
        &token,
        Some(&json!({"subject": issuers[0], "credentialTypes": ["KycCredential"]})),
    );
    assert_eq!(status, 201, "{body}");

    // Each format, with the Ed25519 key (eddsa-rdfc-2022, EdDSA) and the P-256 key
    // (ecdsa-rdfc-2019, ES256).
    for (issuer, format) in issuers
        .iter()
        .flat_map(|i| ["ldp_vc", "vc+jwt", "dc+sd-jwt"].map(|f| (i, f)))
    {
        let format = &format!("{format} by {issuer}");
        let mut body = certificate();
        body["credential"]["issuer"] = json!(issuer);
        body["options"] = json!({"format": format.split(' ').next()});
        let (status, issued) = server.request("POST", "/credentials/issue", &token, Some(&body));
        assert_eq!(status, 201, "{format}: {issued}");
        let credential = issued["verifiableCredential"].clone();
        let (status, result) = server.request(
            "POST",
            "/credentials/verify",
            "",
            Some(&json!({"verifiableCredential": credential})),
        );
        assert_eq!(
            (status, &result["verdict"]),
            (200, &json!("valid")),
            "{format}: {result}"
        );
        // A flipped byte of the signed form is refused.
        let tampered = tamper(&credential);
        let (status, result) = server.request(
            "POST",
            "/credentials/verify",
            "",
            Some(&json!({"verifiableCredential": tampered})),
        );
        assert_eq!(status, 400, "{format}: {result}");
        assert_eq!(result["verdict"], "invalid", "{format}: {result}");
        // Its anchor is sealed in a block signed in the token.
        verified_anchored(&server, &credential);
    }
    let (status, note) = server.request_text("GET", "/chain/checkpoint", "", None);
    assert_eq!(status, 200, "{note}");
    drop(server);

    // The chain holds: every block's signature verifies under the genesis validator,
    // whose key is the token's.
    let (ok, out) = run(hsm.certus(dir.path()).args(["chain", "verify"]));
    assert!(ok, "{out}");
    // Without the token, the node cannot open its keys, and says why.
    let (ok, out) = run(certus(dir.path()).args(["chain", "verify"]));
    assert!(!ok && out.contains("PKCS#11"), "{out}");
}

/// The issuer DIDs of the node, the default first, from `GET /issuers`.
fn issuers(server: &Server, token: &str) -> Vec<String> {
    let (status, text) = server.request_text("GET", "/issuers", token, None);
    assert_eq!(status, 200, "{text}");
    let issuers: Value = serde_json::from_str(&text).expect("json");
    issuers
        .as_array()
        .expect("a list")
        .iter()
        .map(|i| i["did"].as_str().expect("did").to_owned())
        .collect()
}

/// The credential with one character of its signature changed: the proof value of an
/// `ldp_vc`, or the last signature character of an enveloped JWT / SD-JWT.
fn tamper(credential: &Value) -> Value {
    let mut tampered = credential.clone();
    let flip = |text: &str, at: usize| {
        let mut chars: Vec<char> = text.chars().collect();
        chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    if let Some(proof) = credential["proof"]["proofValue"].as_str() {
        tampered["proof"]["proofValue"] = json!(flip(proof, proof.len() / 2));
    } else {
        let id = credential["id"].as_str().expect("an envelope");
        let jwt_end = id.find('~').unwrap_or(id.len());
        tampered["id"] = json!(flip(id, jwt_end - 10));
    }
    tampered
}
