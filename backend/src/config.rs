//! Configuration, read once at start-up from flags and environment variables.
//!
//! | flag | variable | default | meaning |
//! |---|---|---|---|
//! | `--addr` | `CERTUS_ADDR` | `127.0.0.1:8080` | address the HTTP server listens on |
//! | `--data-dir` | `CERTUS_DATA_DIR` | `./data` | folder for the SQLite database and the master-key file |
//! | `--database-url` | `DATABASE_URL` | `sqlite://<data-dir>/certus.db` | `sqlite://…` or `postgres://…` |
//! | `--chain-id` | `CERTUS_CHAIN_ID` | `certus-local` | name of the chain a single node creates on first start |
//! | `--genesis` | `CERTUS_GENESIS` | `<data-dir>/genesis.json` if present | a consortium's genesis: the node joins that chain |
//! | `--p2p-listen` | `CERTUS_P2P_LISTEN` | the node's address in the genesis | where a consortium node listens for its peers |
//! | | `CERTUS_MASTER_KEY` | key file `<data-dir>/master.key` | base64url of 32 bytes that encrypt private keys at rest |
//! | | `CERTUS_PKCS11_MODULE` | none | a PKCS#11 module (`.so`): new issuer and validator keys are made and kept in its token |
//! | | `CERTUS_PKCS11_TOKEN` | none | the label of that token |
//! | | `CERTUS_PKCS11_PIN` | none | the token's user PIN (never logged) |
//! | | `CERTUS_LOG_FORMAT` | `text` | `text` or `json` |
//! | | `RUST_LOG` | `info` | log filter (tracing `EnvFilter` syntax) |
//! | | `CERTUS_MAX_BODY_BYTES` | `1048576` | largest request body accepted |
//! | | `CERTUS_VERIFY_RATE` | `50` | verify requests per second per client address (burst: 2×) |
//! | | `CERTUS_ALLOW_DID_WEB` | `false` | resolve `did:web` over HTTPS (otherwise no DID is fetched) |
//! | `--public-url` | `CERTUS_PUBLIC_URL` | `http://<addr>` | base URL others reach this server at; status-list URLs are built on it |
//! | `--status-lease-secs` | `CERTUS_STATUS_LEASE_SECS` | `30` | a process's lease on a pair of status lists (several processes over one database) |
//! | `--web-dir` | `CERTUS_WEB_DIR` | `frontend/dist` | the built web app, served at `/` |
//! | `--profile` | `CERTUS_PROFILE` | `standard` | defaults of institutions' settings: `standard`, or `open` (open issuance on) |

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::ledger::block::ChainId;

/// The file name of a consortium's genesis in a node's data folder.
pub const GENESIS_FILE: &str = "genesis.json";

/// Where the database lives and how to reach it; shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct StoreConfig {
    /// Folder for the embedded SQLite database and the generated master-key file.
    #[arg(long, env = "CERTUS_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Database URL (`sqlite://…` or `postgres://…`); SQLite in the data folder when absent.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// A read replica of `DATABASE_URL` (PostgreSQL; a streaming standby or a logical
    /// subscriber) that `certus serve` reads verification's anchors, status lists and
    /// `did:certus` documents from (decision 24). Unset: everything is read from
    /// `DATABASE_URL`.
    #[arg(long, env = "CERTUS_READ_DATABASE_URL", global = true)]
    pub read_database_url: Option<String>,

    /// Name of the chain created on first start (`a-z`, `0-9`, `-`, `.`; `certus-local`
    /// when unset); an existing store must hold a chain of this name.
    #[arg(long, env = "CERTUS_CHAIN_ID", global = true)]
    pub chain_id: Option<ChainId>,

    /// A consortium's genesis (`certus consortium genesis`): on first start the node joins
    /// that chain instead of creating its own. Default: `genesis.json` in the data folder,
    /// when there is one.
    #[arg(long, env = "CERTUS_GENESIS", global = true)]
    pub genesis: Option<PathBuf>,

    #[command(flatten)]
    pub pkcs11: Pkcs11Config,
}

/// A PKCS#11 token that makes and keeps the node's new private keys (decision 13); none
/// unless all three are set.
#[derive(Clone, Default, Args)]
pub struct Pkcs11Config {
    /// The PKCS#11 module to load (for SoftHSM2: /usr/lib/softhsm/libsofthsm2.so).
    #[arg(long = "pkcs11-module", env = "CERTUS_PKCS11_MODULE", global = true)]
    pub module: Option<PathBuf>,
    /// The label of the token.
    #[arg(long = "pkcs11-token", env = "CERTUS_PKCS11_TOKEN", global = true)]
    pub token: Option<String>,
    /// The token's user PIN.
    #[arg(
        long = "pkcs11-pin",
        env = "CERTUS_PKCS11_PIN",
        hide_env_values = true,
        global = true
    )]
    pub pin: Option<String>,
}

impl Pkcs11Config {
    /// True when any of the three is set (and so all must be).
    pub fn is_set(&self) -> bool {
        self.module.is_some() || self.token.is_some() || self.pin.is_some()
    }
}

/// The PIN never reaches a log or an error message.
impl std::fmt::Debug for Pkcs11Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Config")
            .field("module", &self.module)
            .field("token", &self.token)
            .field("pin", &self.pin.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl StoreConfig {
    /// The genesis file to start from, if any: `--genesis`, else `genesis.json` in the
    /// data folder when it exists.
    pub fn genesis_file(&self) -> Option<PathBuf> {
        self.genesis.clone().or_else(|| {
            let default = self.data_dir.join(GENESIS_FILE);
            default.is_file().then_some(default)
        })
    }

    /// The database URL to connect to.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("certus.db").display()
            )
        })
    }
}

/// An origin lists may be fetched from: `https`, or `http` to a loopback host.
fn parse_origin(text: &str) -> Result<url::Origin, String> {
    let url = url::Url::parse(text).map_err(|e| format!("`{text}` is not a URL: {e}"))?;
    if url.scheme() == "https" || (url.scheme() == "http" && crate::uri::is_loopback(&url)) {
        Ok(url.origin())
    } else {
        Err(format!("`{text}`: https, or http to a loopback host"))
    }
}

/// Settings of the HTTP server.
#[derive(Debug, Clone, Args)]
pub struct ServerConfig {
    /// Address to listen on.
    #[arg(long, env = "CERTUS_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "CERTUS_MAX_BODY_BYTES", default_value_t = 1 << 20)]
    pub max_body_bytes: usize,

    /// Anonymous requests (verification, OpenID4VCI nonces) per second allowed per client
    /// address (burst: twice as many).
    #[arg(long, env = "CERTUS_VERIFY_RATE", default_value_t = 50)]
    pub verify_rate: u32,

    /// Resolve `did:web` DIDs over HTTPS. Off by default: no DID document is fetched.
    #[arg(long, env = "CERTUS_ALLOW_DID_WEB", default_value_t = false)]
    pub allow_did_web: bool,

    /// Origins (`https://host[:port]`, or `http://` to a loopback host) whose status lists
    /// may be fetched to check credentials of issuers outside the consortium; comma-
    /// separated. None by default: a stranger's list is never fetched.
    #[arg(long = "status-list-origin", env = "CERTUS_STATUS_LIST_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub status_list_origins: Vec<url::Origin>,

    /// Base URL others reach this server at (e.g. `https://certus.example.org`); the
    /// `statusListCredential` URLs of issued credentials are built on it. Default:
    /// `http://<addr>`.
    #[arg(long, env = "CERTUS_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Folder of the built web app (`scripts/build-frontend.sh`), served at `/`.
    #[arg(long, env = "CERTUS_WEB_DIR", default_value = "frontend/dist")]
    pub web_dir: PathBuf,

    /// Milliseconds between blocks; a block is sealed only when anchors are pending.
    /// Default: 250 on a single node (see [`Self::seal_interval`]), 1000 in a consortium
    /// ([`Self::consensus_interval`]).
    #[arg(long, env = "CERTUS_BLOCK_INTERVAL_MS", value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub block_interval_ms: Option<u64>,

    /// Where a consortium node listens for its peers (consensus, blocks, sync). Default:
    /// its own address in the genesis. Unused by a single node.
    #[arg(long, env = "CERTUS_P2P_LISTEN")]
    pub p2p_listen: Option<SocketAddr>,

    /// Seconds between retention sweeps, which erase personal data past its credential
    /// type's retention period.
    #[arg(long, env = "CERTUS_RETENTION_INTERVAL_SECS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub retention_interval_secs: u64,

    /// Seconds a process holds a lease on a pair of status lists it hands out indexes in,
    /// renewed while it issues. Processes sharing a database each issue in their own
    /// pairs; a pair of a process that stopped without releasing it (a crash) is taken
    /// over by another this long after its last renewal.
    #[arg(long, env = "CERTUS_STATUS_LEASE_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(3..=3_600))]
    pub status_lease_secs: u64,

    /// Connections open at once; more wait in the kernel's backlog. Keep it below the
    /// process's file limit (`ulimit -n`), so the node always has descriptors for its
    /// database and its own health checks.
    #[arg(long, env = "CERTUS_MAX_CONNECTIONS", default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,

    /// The defaults of every institution's settings (`GET /settings`): `standard`, or
    /// `open` for integrators and conformance test suites (open issuance on).
    #[arg(long, env = "CERTUS_PROFILE", value_enum, default_value_t = Profile::Standard)]
    pub profile: Profile,
}

/// A server profile: the defaults of institutions' settings where they have not chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Only registered credential types are issued.
    #[default]
    Standard,
    /// Open issuance is on: any well-formed credential whose contexts are known and whose
    /// terms are defined is issued through the VC API.
    Open,
}

impl Profile {
    /// The profile's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Open => "open",
        }
    }
}

impl ServerConfig {
    /// How often a single node seals its pending anchors into a block. A quarter of a
    /// second by default: the sealing transaction holds SQLite's write lock, and issuances
    /// wait while it does; at full rate, blocks of a quarter of a second's anchors brought
    /// an issuance's p99 latency from 75–83 ms (a second's) to 46–56 ms
    /// (`docs/performance.md`), and anchors are final sooner too.
    pub fn seal_interval(&self) -> Duration {
        Duration::from_millis(self.block_interval_ms.unwrap_or(250))
    }

    /// How long a consortium's leader has to propose a block before its view times out:
    /// the block interval, 1 s by default, at least 500 ms.
    pub fn consensus_interval(&self) -> Duration {
        Duration::from_millis(self.block_interval_ms.unwrap_or(1000).max(500))
    }

    /// The public base URL, without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.addr),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}
