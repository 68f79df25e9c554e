//! Certus: a verifiable-credential platform for certification agencies.
//!
//! The server is a library: [`open`] prepares the database, keys and chain, [`build_state`] the
//! shared state, and [`app`] the router, so tests drive the real application without a
//! socket. `main.rs` only reads configuration and calls these.

/// The process allocator. JSON-LD processing allocates and frees small objects at a high
/// rate; with glibc's allocator, `malloc`/`free` took about 40% of a Data Integrity proof
/// (see `docs/performance.md`). Declared here so the server, tests and benchmarks all run
/// on the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod api;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod coherence;
pub mod config;
pub mod consensus;
pub mod did;
pub mod error;
pub mod integrity;
pub mod issuance;
pub mod issued;
pub mod keys;
pub mod kyc;
pub mod ledger;
pub mod openid;
pub mod privacy;
pub mod serve;
pub mod settings;
pub mod state;
pub mod status;
pub mod store;
pub mod trust;
pub mod types;
pub mod uri;
pub mod verification;
pub mod work;

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use sea_orm::DatabaseConnection;

use crate::api::rate_limit::RateLimiter;
use crate::auth::Accounts;
use crate::coherence::{Cached, Reload};
use crate::config::{ServerConfig, StoreConfig};
use crate::did::registry::DidRegistry;
use crate::issuance::record::Recorder;
use crate::issuance::{Issuer, IssuerParts};
use crate::issued::Records;
use crate::keys::{Custody, KeyStore, MasterKey};
use crate::kyc::Kyc;
use crate::ledger::store::Ledger;
use crate::openid::OpenId;
use crate::privacy::{Privacy, Vault};
use crate::settings::Settings;
use crate::state::AppState;
use crate::status::StatusLists;
use crate::trust::TrustRegistry;
use crate::verification::policies::Policies;
use crate::verification::Verifier;
use certus_credential::catalog::Catalog;
use certus_credential::contexts::Contexts;
use certus_credential::did::Resolver;
use certus_credential::time::{Clock, SystemClock};

/// Oldest key-binding JWT accepted, in seconds.
pub const MAX_KEY_BINDING_AGE_SECS: i64 = 600;

/// A node's persistent parts, opened.
#[derive(Debug)]
pub struct Node {
    pub db: DatabaseConnection,
    /// Where reads that may lag go: a read replica when configured, else `db`.
    pub reads: store::Reads,
    pub keys: KeyStore,
    pub ledger: Arc<Ledger>,
    /// Makes and keeps the private keys created later (e.g. a `did:certus` DID's).
    pub custody: Custody,
    /// Seals what is kept at rest (the personal-data vault's keys, offers).
    pub master: Arc<MasterKey>,
    /// Where every "now" of the node comes from.
    pub clock: Arc<dyn Clock>,
    /// Every version of every credential type, from the store.
    pub catalog: Arc<Catalog>,
    /// The JSON-LD contexts: the bundled ones and the defined types'.
    pub contexts: Arc<Contexts>,
    /// On a consortium's chain, once started ([`start_consortium`]): its consensus.
    pub consortium: Option<consensus::Consortium>,
    /// The cache counters as read before anything was cached ([`coherence`]).
    pub epochs: coherence::Epochs,
}

/// Creates the data folder if needed, loads the master key, connects to the database and
/// migrates it.
pub async fn open_database(
    store: &StoreConfig,
    master_key: Option<&str>,
) -> anyhow::Result<(DatabaseConnection, MasterKey)> {
    if store.database_url.is_none() {
        std::fs::create_dir_all(&store.data_dir)
            .with_context(|| format!("creating the data folder {}", store.data_dir.display()))?;
    }
    let master = MasterKey::load(master_key, &store.data_dir)?;
    let db = store::connect_and_migrate(&store.database_url()).await?;
    Ok((db, master))
}

/// Who makes and keeps the node's private keys: the PKCS#11 token when one is configured,
/// else the master key.
pub fn custody(store: &StoreConfig, master: Arc<MasterKey>) -> anyhow::Result<Custody> {
    let token = if store.pkcs11.is_set() {
        Some(keys::pkcs11::Token::open(&store.pkcs11)?)
    } else {
        None
    };
    Ok(Custody::new(master, token))
}

/// Opens the node: the database (see [`open_database`]), the default tenant and its issuer
/// keys (created on first start), and the chain (its genesis created on first start).
pub async fn open(store: &StoreConfig, master_key: Option<&str>) -> anyhow::Result<Node> {
    open_with_clock(store, master_key, Arc::new(SystemClock)).await
}

/// [`open`] with the clock every "now" of the node is read from (tests set their own).
pub async fn open_with_clock(
    store: &StoreConfig,
    master_key: Option<&str>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Node> {
    let (db, master) = open_database(store, master_key).await?;
    let reads = match &store.read_database_url {
        Some(url) => store::connect_replica(url, &db).await?,
        None => store::Reads::primary(db.clone()),
    };
    let master = Arc::new(master);
    let custody = custody(store, master.clone())?;
    let epochs = coherence::Epochs::read(&db).await?;
    if keys::bootstrap(&db, &custody).await? {
        tracing::info!("created the default tenant and its issuer keys");
    }
    let keys = KeyStore::load(&db, &custody).await?;
    let genesis = match store.genesis_file() {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading the genesis {}", path.display()))?;
            Some(
                serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a genesis", path.display()))?,
            )
        }
    };
    let ledger = Arc::new(
        Ledger::open(
            db.clone(),
            &custody,
            store.chain_id.as_ref(),
            genesis,
            clock.clone(),
        )
        .await?
        .with_reads(reads.clone()),
    );
    // A store restored from an older backup may hold data erased since: every erasure
    // anchored on the chain is applied again before anything reads it.
    privacy::erasure::reapply(&db, &erasure_listeners(), clock.now()).await?;
    let (catalog, defined) = types::catalog_of(&types::seed(&db, clock.now()).await?)?;
    let contexts = Contexts::bundled();
    contexts.register(defined).map_err(anyhow::Error::msg)?;
    Ok(Node {
        db,
        reads,
        keys,
        ledger,
        custody,
        master,
        clock,
        catalog: Arc::new(catalog),
        contexts: Arc::new(contexts),
        consortium: None,
        epochs,
    })
}

/// On a consortium's chain, starts the node's consensus (see [`consensus::start`]) and
/// returns true; on a single node's chain, does nothing and returns false (its block
/// producer seals the blocks).
pub async fn start_consortium(
    node: &mut Node,
    store: &StoreConfig,
    server: &ServerConfig,
) -> anyhow::Result<bool> {
    if !node.ledger.genesis().is_consortium() {
        return Ok(false);
    }
    let consortium = consensus::start(
        node.ledger.clone(),
        &node.db,
        &node.custody,
        &store.data_dir,
        server.p2p_listen,
        server.consensus_interval(),
    )
    .await?;
    node.consortium = Some(consortium);
    Ok(true)
}

/// The shared state of the HTTP application: the services, each given what it needs.
/// Starts the issuance recorder and the store's checkpointer, so it must run within a
/// Tokio runtime.
pub fn build_state(node: Node, server: &ServerConfig) -> AppState {
    let Node {
        db,
        reads,
        keys,
        ledger,
        custody,
        master,
        clock,
        catalog,
        contexts,
        consortium,
        epochs,
    } = node;
    store::spawn_checkpointer(db.clone());
    let public_url: Arc<str> = server.public_url().into();
    let types = Arc::new(types::CredentialTypes::new(
        db.clone(),
        catalog.clone(),
        contexts.clone(),
        public_url.clone(),
    ));
    let vault = Arc::new(Vault::new(db.clone(), master.clone()));
    let keys = Arc::new(keys);
    let dids = Arc::new(
        DidRegistry::new(db.clone(), keys.clone(), custody.clone()).with_reads(reads.clone()),
    );
    let trust = Arc::new(TrustRegistry::new(
        db.clone(),
        ledger.clone(),
        keys.clone(),
        catalog.clone(),
    ));
    let mut status = StatusLists::new(
        db.clone(),
        keys.clone(),
        contexts.clone(),
        &public_url,
        vec![Arc::new(kyc::webhooks::WatchedStatus)],
    )
    .with_lease(std::time::Duration::from_secs(server.status_lease_secs))
    .with_reads(reads);
    if let Some(consortium) = &consortium {
        consortium.announce(&public_url);
        status = status.with_members(Arc::new(consortium.clone()));
    }
    let resolver = Resolver {
        allow_web: server.allow_did_web,
        certus: Some(dids.clone()),
    };
    if !server.status_list_origins.is_empty() {
        status = status.with_strangers(status::Strangers::new(
            server.status_list_origins.clone(),
            resolver.clone(),
        ));
    }
    let status = Arc::new(status);
    let verifier = Verifier {
        trust: Some(trust.clone()),
        ledger: Some(ledger.clone()),
        status: Some(status.clone()),
        resolver,
        contexts: contexts.clone(),
        catalog: catalog.clone(),
        max_key_binding_age_secs: MAX_KEY_BINDING_AGE_SECS,
    };
    let settings = Arc::new(Settings::new(db.clone(), server.profile));
    let accounts = Accounts::new(db.clone(), public_url.starts_with("https://"));
    coherence::spawn(
        db.clone(),
        epochs,
        vec![
            (Cached::Keys, dids.clone() as Arc<dyn Reload>),
            (Cached::Types, types.clone()),
            (Cached::Trust, trust.clone()),
            (Cached::Settings, settings.clone()),
            (Cached::ApiKeys, Arc::new(accounts.clone())),
        ],
    );
    let issuer = Issuer::new(IssuerParts {
        catalog: catalog.clone(),
        contexts,
        keys: keys.clone(),
        trust: trust.clone(),
        status: status.clone(),
        vault: vault.clone(),
        settings: settings.clone(),
        recorder: Recorder::spawn(db.clone(), issued::RecordSeal::new(&master)),
    });
    let kyc = Kyc::new(db.clone(), keys.clone(), status.clone(), clock.clone());
    let privacy = Privacy::new(
        db.clone(),
        vault.clone(),
        keys.clone(),
        catalog,
        trust.clone(),
        clock.clone(),
        erasure_listeners(),
    );
    let openid = OpenId::new(openid::Parts {
        db: db.clone(),
        public_url: public_url.clone(),
        keys,
        custody,
        master,
        vault,
        issuer: issuer.clone(),
        verifier: verifier.clone(),
        kyc: kyc.clone(),
    });
    AppState {
        issuer,
        verifier,
        status,
        ledger,
        consortium,
        dids,
        trust,
        privacy,
        kyc,
        openid,
        types,
        settings,
        accounts,
        records: Records::new(db.clone()),
        policies: Policies::new(db),
        verify_limiter: Arc::new(RateLimiter::new(server.verify_rate)),
        clock,
    }
}

/// What hears of erased data subjects: their offers waiting for a wallet are withdrawn.
pub fn erasure_listeners() -> Vec<Arc<dyn privacy::ErasureListener>> {
    vec![Arc::new(openid::offers::WithdrawOffers)]
}

/// The HTTP application.
pub fn app(state: AppState, server: &ServerConfig) -> Router {
    if !server.web_dir.join("index.html").is_file() {
        tracing::warn!(
            web_dir = %server.web_dir.display(),
            "no web app found; run scripts/build-frontend.sh (the API works without it)"
        );
    }
    api::router(state, server.max_body_bytes, &server.web_dir)
}
