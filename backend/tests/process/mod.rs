//! What the process-level tests share: the real `certus` binary run as a command or as a
//! server on a free loopback port (killed when dropped), a plain HTTP/1.1 client, and
//! readings of a node's SQLite store. Each test binary uses part of it. A test waits for
//! the blocks a server seals (it reads them from the server's log) rather than for time;
//! the log is shown when `CERTUS_TEST_SERVER_LOGS` is set.
#![allow(dead_code)]

#[path = "../common/ids.rs"]
pub mod ids;
pub mod members;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const BLOCK_INTERVAL_MS: u64 = 400;

pub fn certus(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_certus"));
    command
        .env_remove("DATABASE_URL")
        .env("CERTUS_DATA_DIR", data_dir)
        .env("CERTUS_CHAIN_ID", "kill-test")
        .env("RUST_LOG", "warn");
    command
}

pub fn run(command: &mut Command) -> (bool, String) {
    let output = command.output().expect("certus runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

/// A server on a free loopback port; killed (SIGKILL) when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub listening_at: Instant,
    /// The log line of each block the server sealed (or, on a consortium's chain, stored
    /// as final), each change of its quorum or validators, each refusal, each peer's
    /// announced public URL, each erasure it applied again and each cache it reloaded
    /// after another process changed it, read as it happens.
    sealed: Mutex<Receiver<String>>,
    /// The last [`RECENT`] lines it logged: shown when a test fails while it runs.
    recent: Arc<Mutex<VecDeque<String>>>,
}

/// Log lines of a server kept for a failing test's report.
const RECENT: usize = 300;

impl Server {
    pub fn start(data_dir: &Path) -> Self {
        Self::spawn(certus(data_dir))
    }

    /// Serves with `command` (a [`certus`] command, perhaps with more settings).
    pub fn spawn(mut command: Command) -> Self {
        let data_dir = command
            .get_envs()
            .find(|(k, _)| *k == "CERTUS_DATA_DIR")
            .and_then(|(_, v)| v)
            .map(std::path::PathBuf::from)
            .expect("a certus command names its data folder");
        // A free loopback port and blocks every BLOCK_INTERVAL_MS, unless the command
        // names its own.
        for (key, default) in [
            ("CERTUS_ADDR", "127.0.0.1:0".to_owned()),
            ("CERTUS_BLOCK_INTERVAL_MS", BLOCK_INTERVAL_MS.to_string()),
        ] {
            if !command.get_envs().any(|(k, _)| k == key) {
                command.env(key, default);
            }
        }
        let mut child = command
            .arg("serve")
            .env("CERTUS_WEB_DIR", &data_dir)
            // The block producer logs each block it seals at debug level; a consortium
            // node, each final block and each change of its quorum.
            .env(
                "RUST_LOG",
                "warn,certus_server::ledger::producer=debug,certus_server::consensus=debug,\
                 certus_server::coherence=debug",
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("server starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tell, sealed) = channel();
        let show = std::env::var_os("CERTUS_TEST_SERVER_LOGS").is_some();
        let recent = Arc::new(Mutex::new(VecDeque::with_capacity(RECENT)));
        let kept = recent.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if show {
                    eprintln!("{line}");
                }
                {
                    let mut kept = kept.lock().unwrap_or_else(|p| p.into_inner());
                    if kept.len() == RECENT {
                        kept.pop_front();
                    }
                    kept.push_back(line.clone());
                }
                let event = [
                    "sealed a block",
                    "a block is final",
                    "quorum changed",
                    "refused",
                    "the validators changed",
                    "announced its public URL",
                    "re-applied erasures",
                    "reloaded",
                ]
                .iter()
                .any(|e| line.contains(e));
                if event && tell.send(line).is_err() {
                    return;
                }
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("a line");
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no listening line: {line}"));
        Self {
            child,
            addr,
            listening_at: Instant::now(),
            sealed: Mutex::new(sealed),
            recent,
        }
    }

    /// Checks `done` now and after every event the server logs (see `sealed`), until it holds (true) or
    /// `deadline` passes with no further block (false). Blocks sealed since the last call
    /// count, so none is missed between a check and the wait.
    pub fn until_sealed(&self, deadline: Instant, mut done: impl FnMut() -> bool) -> bool {
        let sealed = self.sealed.lock().unwrap_or_else(|p| p.into_inner());
        while !done() {
            let wait = deadline.saturating_duration_since(Instant::now());
            if sealed.recv_timeout(wait).is_err() {
                return false;
            }
        }
        true
    }

    /// The first event line the server logs from now that contains `needle`, if one does
    /// before `deadline`.
    pub fn until_logged(&self, deadline: Instant, needle: &str) -> Option<String> {
        let events = self.sealed.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match events.recv_timeout(wait) {
                Ok(line) if line.contains(needle) => return Some(line),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    /// One HTTP/1.1 request; the status and JSON body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let (status, payload) = self.request_text(method, path, token, body);
        (
            status,
            serde_json::from_str(&payload).unwrap_or(Value::Null),
        )
    }

    /// One HTTP/1.1 request; the status and the body as text.
    pub fn request_text(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (u16, String) {
        let mut stream = TcpStream::connect(self.addr).expect("connect");
        let body = body.map(Value::to_string).unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        let mut response = String::new();
        if stream.read_to_string(&mut response).is_err() {
            return (0, String::new());
        }
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let payload = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or("");
        (status, payload.to_owned())
    }

    /// Stops the server as an operator would (SIGTERM) and waits until it has exited.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let stopped = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(stopped.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        self.child.wait().expect("the server exits");
    }

    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().ok();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        // A failing test shows what each of its servers logged last.
        if std::thread::panicking() {
            let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            eprintln!(
                "--- the last {} log lines of the server at {}",
                recent.len(),
                self.addr
            );
            for line in recent.iter() {
                eprintln!("{line}");
            }
        }
    }
}

/// A food-ingredient certificate: a type any institution may issue.
pub fn certificate() -> Value {
    json!({"credential": {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/certus/contexts/food/v1"],
        "type": ["VerifiableCredential", "FoodIngredientCertificate"],
        "credentialSubject": {
            "ingredientName": "Cold-pressed olive oil", "productCode": "08001234567890",
            "producer": "Frantoio Esempio S.r.l.", "siteCountry": "IT", "standard": "ISO 22000:2018",
            "auditDate": "2026-09-15", "result": "certified", "auditorName": "Luca Bianchi"
        }
    }})
}

/// The URL of the SQLite store of `dir`.
pub fn sqlite(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("certus.db").display())
}

/// Rows of `table` matching `condition` in the SQLite store of `dir`.
pub fn count(dir: &Path, table: &str, condition: &str) -> i64 {
    count_at(&sqlite(dir), table, condition)
}

/// Rows of `table` matching `condition` in the database at `url`.
pub fn count_at(url: &str, table: &str, condition: &str) -> i64 {
    query_row_at(
        url,
        &format!("SELECT COUNT(*) AS n FROM {table} WHERE {condition}"),
    )
    .try_get::<i64>("", "n")
    .expect("n")
}

/// The first row `query` answers in the SQLite store of `dir` (there must be one).
pub fn query_row(dir: &Path, query: &str) -> sea_orm::QueryResult {
    query_row_at(&sqlite(dir), query)
}

/// The first row `query` answers in the database at `url` (there must be one).
pub fn query_row_at(url: &str, query: &str) -> sea_orm::QueryResult {
    on_database(url, |db| async move {
        use sea_orm::ConnectionTrait;
        db.query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            query.to_owned(),
        ))
        .await
        .expect("query")
        .expect("a row")
    })
}

/// Runs `statement` on the SQLite store of `dir`: a test altering a store behind the
/// node's back.
pub fn execute(dir: &Path, statement: &str) {
    execute_at(&sqlite(dir), statement)
}

/// Runs `statement` on the database at `url`.
pub fn execute_at(url: &str, statement: &str) {
    on_database(url, |db| async move {
        use sea_orm::ConnectionTrait;
        db.execute_unprepared(statement)
            .await
            .expect("the statement");
    })
}

/// `work` on a connection to the database at `url`.
fn on_database<T, F: std::future::Future<Output = T>>(
    url: &str,
    work: impl FnOnce(sea_orm::DatabaseConnection) -> F,
) -> T {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let db = sea_orm::Database::connect(url).await.expect("the database");
        let done = work(db.clone()).await;
        db.close().await.ok();
        done
    })
}

/// A fresh database on the tests' PostgreSQL server (`CERTUS_TEST_POSTGRES`, else
/// 127.0.0.1:5432), dropped with this value.
pub struct Postgres {
    pub url: String,
    name: String,
}

fn postgres_server() -> String {
    std::env::var("CERTUS_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

impl Postgres {
    pub fn create() -> Self {
        let name = format!("certus_test_{}", uuid::Uuid::new_v4().simple());
        execute_at(
            &format!("{}/postgres", postgres_server()),
            &format!("CREATE DATABASE {name}"),
        );
        Self {
            url: format!("{}/{name}", postgres_server()),
            name,
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        execute_at(
            &format!("{}/postgres", postgres_server()),
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// Waits until `commitment` is anchored.
pub fn anchored(server: &Server, token: &str, commitment: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let receipt = format!("/anchors/{commitment}/receipt");
    assert!(
        server.until_sealed(deadline, || server.request("GET", &receipt, token, None).0
            == 200),
        "{commitment} never anchored"
    );
}

/// Check `name`'s outcome and code in a verification result.
pub fn outcome(result: &Value, name: &str) -> (Value, Value) {
    let check = result["results"]
        .as_array()
        .and_then(|r| r.iter().find(|c| c["check"] == name))
        .unwrap_or_else(|| panic!("no check {name} in {result}"));
    (check["outcome"].clone(), check["code"].clone())
}

/// Waits until verifying `credential` finds it anchored (a block is sealed every interval).
pub fn verified_anchored(server: &Server, credential: &Value) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut result = Value::Null;
    let anchored = server.until_sealed(deadline, || {
        result = server
            .request(
                "POST",
                "/credentials/verify",
                "",
                Some(&json!({"verifiableCredential": credential})),
            )
            .1;
        outcome(&result, "anchored").0 == "passed"
    });
    assert!(anchored, "never anchored: {result}");
}

/// A PostgreSQL primary and a streaming replica of it (hot standby, asynchronous), a
/// cluster of their own made with the local installation's `initdb`, `pg_basebackup -R`
/// and `pg_ctl` (run as the `postgres` user when the tests run as root), on free loopback
/// ports, each with a database `certus`; both stopped and removed when dropped.
pub struct Replicated {
    /// The `certus` database on the primary.
    pub primary: String,
    /// The same database on the replica.
    pub replica: String,
    bin: std::path::PathBuf,
    dir: tempfile::TempDir,
}

impl Replicated {
    pub fn start() -> Self {
        let bin = postgres_bin();
        let dir = tempfile::tempdir().expect("tempdir");
        if running_as_root() {
            let (ok, out) = run(Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path()));
            assert!(ok, "{out}");
        }
        let mut this = Self {
            primary: String::new(),
            replica: String::new(),
            bin,
            dir,
        };
        let (primary_port, replica_port) = (free_port(), free_port());
        let data = |name: &str| this.dir.path().join(name).display().to_string();
        this.pg(
            "initdb",
            &[
                "-D",
                &data("primary"),
                "-U",
                "postgres",
                "--auth=trust",
                "-N",
            ],
        );
        this.start_cluster("primary", primary_port);
        this.pg(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &primary_port.to_string(),
                "-U",
                "postgres",
                "-D",
                &data("replica"),
                "-R",
                "-X",
                "stream",
            ],
        );
        this.start_cluster("replica", replica_port);
        let url = |port: u16, db: &str| format!("postgres://postgres@127.0.0.1:{port}/{db}");
        execute_at(&url(primary_port, "postgres"), "CREATE DATABASE certus");
        this.primary = url(primary_port, "certus");
        this.replica = url(replica_port, "certus");
        this
    }

    /// Runs the installation's `program` as the clusters' owner.
    fn pg(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut command = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        let (ok, out) = run(command.args(args));
        assert!(ok, "{program}: {out}");
    }

    fn start_cluster(&self, name: &str, port: u16) {
        let dir = self.dir.path();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            dir.display()
        );
        self.pg(
            "pg_ctl",
            &[
                "-D",
                &dir.join(name).display().to_string(),
                "-o",
                &options,
                "-l",
                &dir.join(format!("{name}.log")).display().to_string(),
                "-w",
                "start",
            ],
        );
    }

    /// Waits until the replica has replayed everything the primary has written so far:
    /// nothing announces a replay, so the replica is asked again (each question a
    /// connection and a query) until it says so, for at most 10 s.
    pub fn caught_up(&self) {
        let written = query_row_at(&self.primary, "SELECT pg_current_wal_lsn()::text AS lsn")
            .try_get::<String>("", "lsn")
            .expect("lsn");
        let replayed = format!("SELECT pg_last_wal_replay_lsn() >= '{written}'::pg_lsn AS done");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !query_row_at(&self.replica, &replayed)
            .try_get::<bool>("", "done")
            .expect("done")
        {
            assert!(
                Instant::now() < deadline,
                "the replica never replayed {written}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops (`true`) or resumes (`false`) the replica's replay: it then serves what it
    /// had replayed, however far the primary moves on.
    pub fn pause(&self, paused: bool) {
        let call = if paused {
            "pg_wal_replay_pause"
        } else {
            "pg_wal_replay_resume"
        };
        execute_at(&self.replica, &format!("SELECT {call}()"));
    }

    /// Stops the replica (fast shutdown).
    pub fn stop_replica(&self) {
        self.stop("replica");
    }

    fn stop(&self, name: &str) {
        let data = self.dir.path().join(name);
        if data.join("postmaster.pid").exists() {
            self.pg(
                "pg_ctl",
                &[
                    "-D",
                    &data.display().to_string(),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                ],
            );
        }
    }
}

impl Drop for Replicated {
    fn drop(&mut self) {
        self.stop("replica");
        self.stop("primary");
    }
}

/// The `bin` folder of the newest PostgreSQL installed (Debian's layout).
fn postgres_bin() -> std::path::PathBuf {
    let versions = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (scripts/test.sh installs it)");
    versions
        .filter_map(|v| v.ok())
        .filter_map(|v| {
            v.file_name()
                .to_str()?
                .parse::<u32>()
                .ok()
                .map(|n| (n, v.path()))
        })
        .max()
        .map(|(_, path)| path.join("bin"))
        .expect("a PostgreSQL version in /usr/lib/postgresql")
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
    })
}

/// A loopback port free at the time of asking.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}
