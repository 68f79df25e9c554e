//! A fresh application over a fresh database per test, driven through the real router.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use certus_credential::time::SettableClock;
use certus_schemas::portal::Role;
use certus_server::auth::{create_api_key, Scope};
use certus_server::config::{ServerConfig, StoreConfig};
use certus_server::state::AppState;
use certus_server::trust::Grant;
use http_body_util::BodyExt;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{json, Value};
use tower::ServiceExt;

/// The database a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs each named test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::helpers::Db::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name($crate::helpers::Db::Postgres).await
            }
        }
    )*};
}

/// PostgreSQL server for tests; `CERTUS_TEST_POSTGRES` overrides it.
fn postgres_server() -> String {
    std::env::var("CERTUS_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// A running application with an API key that may issue and verify.
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    /// The node's database, for tests that read or alter the store directly.
    pub db: DatabaseConnection,
    pub token: String,
    /// The node's clock: tests move it on instead of sleeping.
    pub clock: Arc<SettableClock>,
    /// The node's seal of its issued credentials' records (from its master key).
    pub seal: certus_server::issued::RecordSeal,
    _dir: tempfile::TempDir,
    postgres_db: Option<String>,
}

pub fn server_config() -> ServerConfig {
    ServerConfig {
        addr: "127.0.0.1:0".parse().expect("addr"),
        max_body_bytes: 64 * 1024,
        verify_rate: 10_000,
        allow_did_web: false,
        status_list_origins: Vec::new(),
        web_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend/dist"),
        block_interval_ms: Some(1000),
        p2p_listen: None,
        public_url: Some(PUBLIC_URL.into()),
        retention_interval_secs: 3600,
        status_lease_secs: 30,
        max_connections: 512,
        profile: Default::default(),
    }
}

/// Audit entries a new test node starts with: the KYC schema's registration and the
/// accreditation of the default tenant's two DIDs.
pub const SEEDED_AUDIT_ENTRIES: u64 = 3;

/// The public base URL of test servers: status-list URLs start with it.
pub const PUBLIC_URL: &str = "https://certus.test";

impl TestApp {
    /// A node whose default tenant is accredited for KYC by the chain's root authority,
    /// as a bank's KYC desk is: it may issue `KycCredential`s.
    pub async fn spawn(db: Db) -> Self {
        Self::spawn_with(db, server_config()).await
    }

    pub async fn spawn_with(db: Db, server: ServerConfig) -> Self {
        let app = Self::spawn_unaccredited(db, server).await;
        app.state
            .trust
            .accredit_tenant("default", "KycCredential", chrono::Utc::now())
            .await
            .expect("accrediting the default tenant for KYC");
        app
    }

    /// Registers the KYC schema (once) and has the root authority accredit `did` for it.
    pub async fn accredit_for_kyc(&self, did: &str) {
        self.state
            .trust
            .accredit(
                Grant {
                    subject: did.to_owned(),
                    credential_types: vec!["KycCredential".into()],
                    valid_from: None,
                    valid_until: None,
                    max_count: None,
                },
                chrono::Utc::now(),
            )
            .await
            .expect("accrediting for KYC");
    }

    /// A node on which no one is accredited for anything.
    pub async fn spawn_unaccredited(db: Db, server: ServerConfig) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let (database_url, postgres_db) = match db {
            Db::Sqlite => (None, None),
            Db::Postgres => {
                let name = format!("certus_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(format!("{}/postgres", postgres_server()))
                    .await
                    .expect(
                        "PostgreSQL must listen on 127.0.0.1:5432 (or set CERTUS_TEST_POSTGRES)",
                    );
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                (Some(format!("{}/{name}", postgres_server())), Some(name))
            }
        };
        let store = StoreConfig {
            data_dir: dir.path().to_owned(),
            database_url,
            read_database_url: None,
            chain_id: Some("test-chain".parse().expect("chain id")),
            genesis: None,
            pkcs11: Default::default(),
        };
        let clock = Arc::new(SettableClock::default());
        let node = certus_server::open_with_clock(&store, None, clock.clone())
            .await
            .expect("open");
        let (_, token) = create_api_key(
            &node.db,
            "default",
            &[Scope::Issue, Scope::Verify, Scope::Status],
            None,
        )
        .await
        .expect("api key");
        let db = node.db.clone();
        let seal = certus_server::issued::RecordSeal::new(&node.master);
        let state = certus_server::build_state(node, &server);
        let router = certus_server::app(state.clone(), &server);
        Self {
            router,
            state,
            db,
            token,
            clock,
            seal,
            _dir: dir,
            postgres_db,
        }
    }

    /// Sends a request and returns the status and the JSON body (Null when empty).
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let (status, _, body) = self.send_full(request).await;
        (status, body)
    }

    /// Sends a request and returns the status, the `Content-Type` (empty when none) and
    /// the body as [`Self::send_full`] reads it.
    pub async fn send_typed(&self, request: Request<Body>) -> (StatusCode, String, Value) {
        let (status, headers, body) = self.send_full(request).await;
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, content_type, body)
    }

    /// Sends a request and returns the status, headers and JSON body (Null when empty; a
    /// string when not JSON).
    pub async fn send_full(
        &self,
        request: Request<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, headers, body)
    }

    /// Seals every pending anchor into blocks now, as the block producer does each interval.
    pub async fn seal(&self) -> usize {
        certus_server::ledger::producer::seal_all(&self.state.ledger).await
    }

    /// A GET with the test API key.
    pub async fn get_authorised(&self, path: &str) -> (StatusCode, Value) {
        self.send(
            Request::get(path)
                .header("authorization", format!("Bearer {}", self.token))
                .body(Body::empty())
                .expect("request"),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Request::get(path).body(Body::empty()).expect("request"))
            .await
    }

    /// POSTs JSON, with the test API key when `token` is given.
    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> (StatusCode, Value) {
        self.post_raw(
            path,
            "application/json",
            body.to_string().into_bytes(),
            token,
        )
        .await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = Request::post(path).header(header::CONTENT_TYPE, content_type);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(request.body(Body::from(body)).expect("request"))
            .await
    }

    /// Posts an issuance with the test API key; the status and body, whatever they are.
    pub async fn try_issue(&self, credential: Value, options: Value) -> (StatusCode, Value) {
        let body = json!({"credential": credential, "options": options});
        self.post("/credentials/issue", &body, Some(&self.token))
            .await
    }

    /// Issues `credential` in `format`; panics unless it is 201.
    pub async fn issue(&self, credential: Value, format: &str) -> Value {
        let (status, body) = self.try_issue(credential, json!({"format": format})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["verifiableCredential"].clone()
    }

    pub async fn verify(&self, credential: &Value) -> (StatusCode, Value) {
        self.post(
            "/credentials/verify",
            &json!({"verifiableCredential": credential}),
            None,
        )
        .await
    }
}

/// Who sends a request.
#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    /// An API key's token.
    Key(String),
    /// A signed-in person: the session cookie and the CSRF token.
    Session {
        cookie: String,
        csrf: String,
    },
}

/// A password good enough for test accounts.
pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    /// Creates an account (with [`PASSWORD`]) in `tenant`; returns its id.
    pub async fn user(&self, tenant: &str, email: &str, role: Role) -> String {
        certus_server::auth::accounts::create(
            &self.db,
            tenant,
            email,
            "Test User",
            role,
            Some(PASSWORD.into()),
        )
        .await
        .expect("create user")
        .0
        .id
    }

    /// Creates a tenant (without issuer keys: it can read and change, not sign).
    pub async fn tenant(&self, id: &str) {
        use sea_orm::{ActiveModelTrait, Set};
        certus_server::store::entities::tenants::ActiveModel {
            id: Set(id.to_owned()),
            name: Set(format!("Tenant {id}")),
            created_at: Set(chrono::Utc::now()),
        }
        .insert(&self.db)
        .await
        .expect("create tenant");
    }

    /// An API key of `tenant` with `scopes`.
    pub async fn key(&self, tenant: &str, scopes: &[Scope]) -> Caller {
        let (_, token) = create_api_key(&self.db, tenant, scopes, None)
            .await
            .expect("api key");
        Caller::Key(token)
    }

    /// `POST /session` with `email` and `password`: the status, body and `Set-Cookie`.
    pub async fn sign_in_raw(
        &self,
        email: &str,
        password: &str,
    ) -> (StatusCode, Value, Option<String>) {
        let (status, headers, body) = self
            .send_full(
                Request::post("/session")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(
                        json!({"email": email, "password": password}).to_string(),
                    ))
                    .expect("request"),
            )
            .await;
        let cookie = headers
            .get(header::SET_COOKIE)
            .map(|v| v.to_str().expect("ascii").to_owned());
        (status, body, cookie)
    }

    /// Signs in with [`PASSWORD`]; panics unless it works.
    pub async fn sign_in(&self, email: &str) -> Caller {
        let (status, body, cookie) = self.sign_in_raw(email, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let cookie = cookie.expect("Set-Cookie");
        Caller::Session {
            cookie: cookie.split(';').next().expect("pair").to_owned(),
            csrf: body["csrfToken"].as_str().expect("csrf").to_owned(),
        }
    }

    /// Sends `method path` with a JSON `body` (when given) as `caller`.
    pub async fn call(
        &self,
        caller: &Caller,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        match caller {
            Caller::Anonymous => {}
            Caller::Key(token) => {
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"))
            }
            Caller::Session { cookie, csrf } => {
                request = request
                    .header(header::COOKIE, cookie)
                    .header("x-csrf-token", csrf)
            }
        }
        let body = match body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).expect("request")).await
    }
}

/// A copy of a test node's store taken at one moment (a backup), to be opened later as a
/// restored node.
pub struct Backup {
    dir: tempfile::TempDir,
    postgres_db: Option<String>,
}

impl Backup {
    /// Opens the restored store as a node (with the original's master key).
    pub async fn open(&self) -> certus_server::Node {
        let store = StoreConfig {
            data_dir: self.dir.path().to_owned(),
            database_url: self
                .postgres_db
                .as_ref()
                .map(|name| format!("{}/{name}", postgres_server())),
            read_database_url: None,
            chain_id: Some("test-chain".parse().expect("chain id")),
            genesis: None,
            pkcs11: Default::default(),
        };
        certus_server::open(&store, None)
            .await
            .expect("open the restored store")
    }
}

impl Drop for Backup {
    fn drop(&mut self) {
        drop_postgres_database(self.postgres_db.take());
    }
}

impl TestApp {
    /// The PostgreSQL URL of this node's database, on PostgreSQL.
    pub fn postgres_url(&self) -> Option<String> {
        self.postgres_db
            .as_ref()
            .map(|name| format!("{}/{name}", postgres_server()))
    }

    /// The node's data folder (its SQLite files and master key).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// A backup of the store as it is now: SQLite's `VACUUM INTO`, or `pg_dump` restored
    /// into a new PostgreSQL database; the master key file is copied with it.
    pub async fn backup(&self) -> Backup {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::copy(
            self.data_dir().join("master.key"),
            dir.path().join("master.key"),
        )
        .expect("copy the master key");
        let postgres_db = match self.postgres_url() {
            None => {
                let target = dir.path().join("certus.db");
                self.db
                    .execute_unprepared(&format!("VACUUM INTO '{}'", target.display()))
                    .await
                    .expect("VACUUM INTO");
                None
            }
            Some(url) => {
                let name = format!("certus_backup_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(format!("{}/postgres", postgres_server()))
                    .await
                    .expect("connect");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create backup database");
                admin.close().await.ok();
                let dump = std::process::Command::new("pg_dump")
                    .args(["--format=custom", &url])
                    .output()
                    .expect("pg_dump runs");
                assert!(
                    dump.status.success(),
                    "{}",
                    String::from_utf8_lossy(&dump.stderr)
                );
                let mut restore = std::process::Command::new("pg_restore")
                    .args([
                        "--no-owner",
                        "--dbname",
                        &format!("{}/{name}", postgres_server()),
                    ])
                    .stdin(std::process::Stdio::piped())
                    .spawn()
                    .expect("pg_restore runs");
                use std::io::Write;
                restore
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(&dump.stdout)
                    .expect("restore input");
                assert!(restore.wait().expect("pg_restore").success());
                Some(name)
            }
        };
        Backup { dir, postgres_db }
    }
}

/// Drops a test database from a thread of its own: Drop cannot await.
fn drop_postgres_database(name: Option<String>) {
    let Some(name) = name else { return };
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            if let Ok(admin) = Database::connect(format!("{}/postgres", postgres_server())).await {
                let _ = admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
            }
        });
    })
    .join()
    .ok();
}

impl Drop for TestApp {
    fn drop(&mut self) {
        drop_postgres_database(self.postgres_db.take());
    }
}

/// A KYC credential with the example subject of its type, optionally bound to `holder`.
pub fn kyc_credential(holder: Option<&str>) -> Value {
    let mut subject = json!({
        "givenName": "Maria",
        "familyName": "Rossi",
        "birthDate": "1988-04-12",
        "nationality": "IT",
        "documentNumber": "YA1234567",
        "assuranceLevel": "substantial",
        "checkDate": "2026-10-01",
        "checkMethod": "video"
    });
    if let Some(holder) = holder {
        subject["id"] = json!(holder);
    }
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/certus/contexts/kyc/v1"],
        "type": ["VerifiableCredential", "KycCredential"],
        "credentialSubject": subject
    })
}

/// The outcome and code of check `name` in a verification result.
pub fn check<'a>(result: &'a Value, name: &str) -> (&'a str, Option<&'a str>) {
    let entry = result["results"]
        .as_array()
        .and_then(|r| r.iter().find(|c| c["check"] == name))
        .unwrap_or_else(|| panic!("no check {name} in {result}"));
    (
        entry["outcome"].as_str().unwrap_or_default(),
        entry["code"].as_str(),
    )
}

/// The token inside an enveloped credential's data: URL.
pub fn token_of(enveloped: &Value) -> String {
    let id = enveloped["id"].as_str().expect("id");
    id.split_once(',').expect("data URL").1.to_owned()
}

/// Wraps a token back into an envelope of the same media type as `like`.
pub fn reenvelop(like: &Value, token: &str) -> Value {
    let id = like["id"].as_str().expect("id");
    let media = id.split_once(',').expect("data URL").0;
    json!({"@context": like["@context"], "type": like["type"], "id": format!("{media},{token}")})
}

/// A compact JWS or JWE with the first character of its last part (signature or
/// authentication tag) changed.
pub fn altered_last_part(compact: &str) -> String {
    let (head, last) = compact.rsplit_once('.').expect("a compact serialization");
    let other = if last.starts_with('A') { 'B' } else { 'A' };
    format!("{head}.{other}{}", &last[1..])
}
