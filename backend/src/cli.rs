//! The `certus` command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use certus_schemas::portal::Role;

use crate::auth::accounts;
use crate::auth::Scope;
use crate::config::{LogFormat, ServerConfig, StoreConfig};
use crate::ledger::portable;
use certus_credential::ids::TenantId;

/// Certus: verifiable credentials for certification agencies.
#[derive(Debug, Parser)]
#[command(name = "certus", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub store: StoreConfig,

    /// Log format (logs go to standard error).
    #[arg(
        long,
        env = "CERTUS_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrates the database and creates the default tenant first).
    Serve(ServerConfig),
    /// Manage API keys.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Manage institutions (tenants).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage people's accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Inspect, check and move the chain.
    #[command(subcommand)]
    Chain(ChainCommand),
    /// Check anchor receipts offline.
    #[command(subcommand)]
    Receipt(ReceiptCommand),
    /// This node's validator key, which signs its blocks.
    #[command(subcommand)]
    Validator(ValidatorCommand),
    /// Form a consortium: one chain that several institutions' nodes run together.
    #[command(subcommand)]
    Consortium(ConsortiumCommand),
    /// A holder's wallet for scripts and servers: accept offers, answer requests.
    Wallet(WalletArgs),
}

/// The wallet file and what to do with it.
#[derive(Debug, clap::Args)]
pub struct WalletArgs {
    /// The wallet file (keys and credentials; readable by its owner only).
    #[arg(long, env = "CERTUS_WALLET", default_value = "wallet.json")]
    pub wallet: PathBuf,
    #[command(subcommand)]
    pub command: WalletCommand,
}

/// Wallet subcommands.
#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Create an empty wallet file.
    Init,
    /// Accept a credential offer (`openid-credential-offer://…`): a key is made for the
    /// issuer and the credential is bound to it. For an offer of the authorization code
    /// flow, the address of the issuer's page is printed; open it in a browser on this
    /// computer and enter the code the issuer sent you.
    Accept {
        /// The offer link.
        offer: String,
        /// The transaction code the issuer sent separately, when the offer asks for one.
        #[arg(long)]
        tx_code: Option<String>,
    },
    /// List the credentials held.
    List,
    /// Print one credential as held.
    Show {
        /// Its number in `list`.
        id: String,
    },
    /// Delete a credential.
    Delete {
        /// Its number in `list`.
        id: String,
    },
    /// Answer a presentation request (`openid4vp://…`): shows who asks, why and what
    /// would be disclosed, then sends only that.
    Present {
        /// The request link.
        request: String,
        /// Consent without asking.
        #[arg(long, conflicts_with = "decline")]
        yes: bool,
        /// Tell the verifier the holder declines.
        #[arg(long)]
        decline: bool,
        /// When the request asks for it (a KYC policy), let the verifier keep the
        /// credential's status entries and be told of its suspension or revocation.
        #[arg(long, conflicts_with = "decline")]
        allow_status_notifications: bool,
        /// Trust verifiers named by an X.509 certificate (`x509_san_dns`, `x509_hash`)
        /// whose chain leads to a certificate in FILE (PEM); may be given more than once.
        #[arg(long = "trust-anchor", value_name = "FILE")]
        trust_anchors: Vec<PathBuf>,
    },
}

/// Chain subcommands (on the store named by `--data-dir` / `DATABASE_URL`).
#[derive(Debug, Subcommand)]
pub enum ChainCommand {
    /// Re-check every stored block, signature and root; names the first height that does
    /// not hold and exits with status 1.
    Verify,
    /// Write the chain (genesis, then one block per line, JSON) to FILE or standard output.
    Export {
        /// Output file; standard output when absent.
        file: Option<PathBuf>,
    },
    /// Read a chain written by `export` into a store that holds none; or, into a store
    /// holding an earlier part of the same chain (restored from a backup), append the
    /// later blocks and re-apply the erasures they anchor. Every block is checked.
    Import {
        /// The export to read.
        file: PathBuf,
    },
}

/// Receipt subcommands; they need no store and no network.
#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Check a receipt (or a `/credentials/{id}/receipt` response) against a genesis;
    /// prints where and when the transaction was anchored, or exits with status 1.
    Verify {
        /// The receipt (JSON file).
        receipt: PathBuf,
        /// The chain's genesis (JSON file, from `GET /chain/genesis`).
        #[arg(long)]
        genesis: PathBuf,
    },
}

/// Validator subcommands.
#[derive(Debug, Subcommand)]
pub enum ValidatorCommand {
    /// Makes the node's validator key if it has none (in its key store: sealed by the
    /// master key, or in the PKCS#11 token), and prints its public key — the key peers know
    /// this node by, and what a consortium's genesis names it with. Run again, it prints
    /// the same key.
    Init,
    /// Starts a change of the consortium's validators (an epoch change): writes the next
    /// epoch's members — the current ones, less those removed, with those added — to a
    /// file, signed by this node. The change takes effect once more than two thirds of the
    /// current validators signed it (`certus validator sign` on their nodes) and it is
    /// final in a block (`certus validator submit`): from the block after that one.
    Propose {
        /// A member to add: `NAME=PUBKEY@HOST:PORT` (as for the genesis). Repeatable.
        #[arg(long = "add", value_parser = parse_member)]
        add: Vec<crate::ledger::block::Member>,
        /// A member to remove, by name. Repeatable.
        #[arg(long = "remove")]
        remove: Vec<String>,
        /// Where to write the change.
        #[arg(long)]
        out: PathBuf,
    },
    /// Adds this node's signature to a change `certus validator propose` wrote, after
    /// checking that it is the next epoch of this node's chain; prints the signatures it
    /// has and the quorum it needs.
    Sign {
        /// The change (JSON file); rewritten with the signature.
        change: PathBuf,
    },
    /// Queues a change signed by a quorum of the current validators for the next block,
    /// on this node (any member's node will do).
    Submit {
        /// The change (JSON file).
        change: PathBuf,
    },
}

/// Consortium subcommands.
#[derive(Debug, Subcommand)]
pub enum ConsortiumCommand {
    /// Assembles a consortium's genesis from its members' validator keys (each printed by
    /// `certus validator init` on that member's node) and writes it: every member starts
    /// its node from this one file (`--genesis`, or `genesis.json` in its data folder).
    Genesis {
        /// A member: `NAME=PUBKEY@HOST:PORT` (its name, its validator key in hex, and
        /// where its node listens for peers). Once per member.
        #[arg(long = "member", required = true, value_parser = parse_member)]
        members: Vec<crate::ledger::block::Member>,
        /// The member whose validator key acts as the trust registry's root authority
        /// (default: the first).
        #[arg(long)]
        root: Option<String>,
        /// Where to write the genesis.
        #[arg(long)]
        out: PathBuf,
    },
    /// For development and tests: makes `OUT/node-1` … `OUT/node-N`, each a data folder
    /// (SQLite) with its own master key, validator key and the shared genesis, so that
    /// `certus serve --data-dir OUT/node-I --addr …` starts member I.
    Init {
        /// How many members.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=100))]
        members: u16,
        #[arg(long)]
        out: PathBuf,
        /// Member I listens for peers on 127.0.0.1 at this port + I - 1.
        #[arg(long = "p2p-base", default_value_t = 7100)]
        p2p_base: u16,
        /// The member (`node-I`) whose validator key acts as the trust registry's root
        /// authority, the regulator (default: the first).
        #[arg(long)]
        root: Option<String>,
    },
}

/// Parses `NAME=PUBKEY@HOST:PORT`.
fn parse_member(text: &str) -> Result<crate::ledger::block::Member, String> {
    let (name, rest) = text
        .split_once('=')
        .ok_or("expected NAME=PUBKEY@HOST:PORT")?;
    let (key, address) = rest
        .split_once('@')
        .ok_or("expected NAME=PUBKEY@HOST:PORT")?;
    let validator = serde_json::from_value(serde_json::Value::String(key.to_owned()))
        .map_err(|_| format!("`{key}` is not a validator key (64 hex digits)"))?;
    let port_ok = address
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if name.trim().is_empty() || !port_ok {
        return Err("expected NAME=PUBKEY@HOST:PORT".into());
    }
    Ok(crate::ledger::block::Member {
        name: name.trim().to_owned(),
        validator,
        address: address.to_owned(),
    })
}

/// API-key subcommands.
#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key; prints only the bearer token on standard output.
    Create {
        /// Comma-separated scopes: issue, verify, status, read, trust.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<Scope>,
        /// A note to recognise the key by.
        #[arg(long)]
        label: Option<String>,
        /// The tenant the key acts for.
        #[arg(long, default_value = crate::keys::DEFAULT_TENANT)]
        tenant: String,
    },
}

/// Tenant subcommands.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create an institution with its issuer keys and its first admin; prints the admin's
    /// one-time password. Restart a running server to load the new keys.
    Create {
        /// The institution's name, as the portal shows it.
        name: String,
        /// The first admin's email (their sign-in name).
        #[arg(long)]
        admin: String,
        /// A short id for the tenant (letters, digits, `-`); derived from the name when absent.
        #[arg(long)]
        id: Option<String>,
    },
}

/// User subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; prints a one-time password unless `--password-stdin` sets one.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, certifier or auditor.
        #[arg(long)]
        role: Role,
        /// The institution.
        #[arg(long, default_value = crate::keys::DEFAULT_TENANT)]
        tenant: String,
        /// Read the password from standard input instead (for scripts and tests).
        #[arg(long)]
        password_stdin: bool,
    },
}

/// A tenant id from a name: lower-case letters and digits, other runs as one `-`.
pub fn tenant_id_from(name: &str) -> String {
    let mut id = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    id.trim_end_matches('-').to_owned()
}

/// Runs a `certus tenant` subcommand.
pub async fn tenant(
    command: TenantCommand,
    store: &StoreConfig,
    master_key: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let TenantCommand::Create { name, admin, id } = command;
    let id = TenantId::parse(&id.unwrap_or_else(|| tenant_id_from(&name)))
        .map_err(|e| anyhow::anyhow!("{e}; give one with --id"))?;
    let node = crate::open(store, master_key).await?;
    crate::keys::create_tenant(&node.db, &node.custody, &id, name.trim()).await?;
    let (user, password) =
        accounts::create(&node.db, &id, &admin, "Administrator", Role::Admin, None).await?;
    println!("tenant: {id}");
    println!("admin: {}", user.email);
    println!("one-time password: {}", password.unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}

/// Runs a `certus user` subcommand.
pub async fn user(
    command: UserCommand,
    store: &StoreConfig,
    master_key: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let UserCommand::Create {
        email,
        name,
        role,
        tenant,
        password_stdin,
    } = command;
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Some(line.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        None
    };
    let node = crate::open(store, master_key).await?;
    let (user, one_time) =
        accounts::create(&node.db, &tenant, &email, &name, role, password).await?;
    match one_time {
        Some(password) => println!("{} one-time password: {password}", user.email),
        None => println!("{}", user.email),
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a `certus validator` subcommand.
pub async fn validator(
    command: ValidatorCommand,
    store: &StoreConfig,
    master_key: Option<&str>,
) -> anyhow::Result<ExitCode> {
    use crate::ledger::block::ValidatorSigner;
    use crate::ledger::epoch::ValidatorChange;
    use crate::ledger::transaction::Transaction;
    let read = |path: &std::path::Path| -> anyhow::Result<ValidatorChange> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a validator change", path.display()))
    };
    let write = |change: &ValidatorChange, path: &std::path::Path| -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(change)? + "\n";
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    };
    match command {
        ValidatorCommand::Init => {
            let (db, master) = crate::open_database(store, master_key).await?;
            let custody = crate::custody(store, std::sync::Arc::new(master))?;
            let key =
                crate::ledger::store::validator_key(&db, &custody, chrono::Utc::now()).await?;
            let key = key.validator().to_hex();
            println!("validator key: {key}");
            // Peers authenticate a consortium node by the same key.
            println!("node id: {key}");
        }
        ValidatorCommand::Propose { add, remove, out } => {
            let node = open_consortium(store, master_key).await?;
            let current = node.ledger.current_epoch();
            for name in &remove {
                anyhow::ensure!(
                    current.members.iter().any(|m| &m.name == name),
                    "`{name}` is not one of the current validators"
                );
            }
            let mut members: Vec<_> = current
                .members
                .iter()
                .filter(|m| !remove.contains(&m.name))
                .cloned()
                .collect();
            members.extend(add);
            let mut change = ValidatorChange {
                epoch: current.number + 1,
                members,
                signatures: Vec::new(),
            };
            change.validators()?;
            let signed = sign_change(&node, &mut change)?;
            write(&change, &out)?;
            println!("wrote {}: {signed}", out.display());
        }
        ValidatorCommand::Sign { change: path } => {
            let node = open_consortium(store, master_key).await?;
            let mut change = read(&path)?;
            let signed = sign_change(&node, &mut change)?;
            write(&change, &path)?;
            println!("signed {}: {signed}", path.display());
        }
        ValidatorCommand::Submit { change: path } => {
            let node = open_consortium(store, master_key).await?;
            let change = read(&path)?;
            let chain = &node.ledger.genesis().header.chain_id;
            change
                .verify(chain, &node.ledger.current_epoch())
                .context("the change does not hold for this node's chain")?;
            let mut work = crate::work::Work::begin(&node.db, chrono::Utc::now()).await?;
            work.anchor(&Transaction::ValidatorChange(change));
            work.commit().await?;
            println!("queued: the validators change from the block after the one that holds it");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The node of a consortium's member: its validators change by a quorum's signatures (a
/// single node's validator is the node itself).
async fn open_consortium(
    store: &StoreConfig,
    master_key: Option<&str>,
) -> anyhow::Result<crate::Node> {
    let node = crate::open(store, master_key).await?;
    anyhow::ensure!(
        node.ledger.genesis().is_consortium(),
        "this node's chain is a single node's: its validator is the node itself"
    );
    Ok(node)
}

/// Checks `change` as the next epoch of `node`'s chain and adds the node's signature;
/// says who signed, of how many needed.
fn sign_change(
    node: &crate::Node,
    change: &mut crate::ledger::epoch::ValidatorChange,
) -> anyhow::Result<String> {
    use crate::ledger::block::{BlockError, ValidatorSigner};
    let current = node.ledger.current_epoch();
    let chain = &node.ledger.genesis().header.chain_id;
    anyhow::ensure!(
        change.epoch == current.number + 1,
        "the change is for epoch {}, and this node's chain is in epoch {}",
        change.epoch,
        current.number
    );
    let key = node
        .ledger
        .validator_key()
        .context("this node has no validator key")?;
    anyhow::ensure!(
        current.validators.keys().contains(&key.validator()),
        "this node is not one of the current validators"
    );
    change.sign(chain, key)?;
    let signers = |c: &crate::ledger::epoch::ValidatorChange| {
        c.signatures
            .iter()
            .filter(|s| current.validators.keys().contains(&s.validator))
            .count()
    };
    match change.verify(chain, &current) {
        Ok(_) | Err(BlockError::NoQuorum) => {}
        Err(e) => anyhow::bail!("the change does not hold: {e}"),
    }
    let names: Vec<&str> = change.members.iter().map(|m| m.name.as_str()).collect();
    Ok(format!(
        "epoch {} with {} validators ({}); signed by {} of the {} current validators, {} needed",
        change.epoch,
        change.members.len(),
        names.join(", "),
        signers(change),
        current.validators.keys().len(),
        current.validators.quorum()
    ))
}

/// Runs a `certus consortium` subcommand; the chain is named by `--chain-id`
/// (`certus-consortium` when unset).
pub async fn consortium(
    command: ConsortiumCommand,
    store: &StoreConfig,
) -> anyhow::Result<ExitCode> {
    use crate::ledger::block::{ChainId, Genesis, Member, ValidatorSigner};
    let now = chrono::Utc::now();
    let chain = match &store.chain_id {
        Some(chain) => chain.clone(),
        None => ChainId::parse("certus-consortium")?,
    };
    match command {
        ConsortiumCommand::Genesis { members, root, out } => {
            let genesis =
                Genesis::consortium(chain, members, root.as_deref(), now.timestamp_millis())?;
            let hash = write_genesis(&genesis, &out)?;
            println!(
                "wrote {}: chain `{}`, {} validators (quorum {}), SHA-256 {hash}",
                out.display(),
                genesis.header.chain_id.as_str(),
                genesis.validators.keys().len(),
                genesis.validators.quorum()
            );
            println!("every member checks this hash before starting from the file");
        }
        ConsortiumCommand::Init {
            members,
            out,
            p2p_base,
            root,
        } => {
            let mut listed = Vec::new();
            for i in 1..=members {
                let data_dir = out.join(format!("node-{i}"));
                anyhow::ensure!(
                    !data_dir.join("certus.db").exists(),
                    "{} holds a node already",
                    data_dir.display()
                );
                let store = StoreConfig {
                    data_dir: data_dir.clone(),
                    database_url: None,
                    read_database_url: None,
                    chain_id: None,
                    genesis: None,
                    pkcs11: Default::default(),
                };
                let (db, master) = crate::open_database(&store, None).await?;
                let custody = crate::custody(&store, std::sync::Arc::new(master))?;
                let key = crate::ledger::store::validator_key(&db, &custody, now).await?;
                let port = p2p_base
                    .checked_add(i - 1)
                    .context("the peer ports run past 65535")?;
                listed.push(Member {
                    name: format!("node-{i}"),
                    validator: key.validator(),
                    address: format!("127.0.0.1:{port}"),
                });
                db.close().await?;
            }
            let genesis =
                Genesis::consortium(chain, listed, root.as_deref(), now.timestamp_millis())?;
            let hash = write_genesis(&genesis, &out.join(crate::config::GENESIS_FILE))?;
            for (i, member) in genesis.members.iter().enumerate() {
                let data_dir = out.join(format!("node-{}", i + 1));
                write_genesis(&genesis, &data_dir.join(crate::config::GENESIS_FILE))?;
                println!(
                    "{}: validator {} peers at {}; start it with: certus serve --data-dir {} --addr 127.0.0.1:<port>",
                    member.name,
                    member.validator.to_hex(),
                    member.address,
                    data_dir.display()
                );
            }
            println!(
                "consortium `{}`: {} members, quorum {}, genesis SHA-256 {hash}",
                genesis.header.chain_id.as_str(),
                genesis.members.len(),
                genesis.validators.quorum()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes a genesis as pretty JSON; its file's SHA-256 (hex), which members compare.
fn write_genesis(genesis: &crate::ledger::block::Genesis, path: &Path) -> anyhow::Result<String> {
    use sha2::Digest as _;
    let mut text = serde_json::to_string_pretty(genesis)?;
    text.push('\n');
    std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
    Ok(hex::encode(sha2::Sha256::digest(text.as_bytes())))
}

/// Runs a `certus chain` subcommand.
pub async fn chain(
    command: ChainCommand,
    store: &StoreConfig,
    master_key: Option<&str>,
) -> anyhow::Result<ExitCode> {
    match command {
        ChainCommand::Verify => {
            let node = crate::open(store, master_key).await?;
            let seal = crate::issued::RecordSeal::new(&node.master);
            let report = crate::integrity::verify(&node.ledger, &node.db, &seal).await;
            for line in &report.held {
                println!("{line}");
            }
            if let Some(line) = report.broken {
                println!("{line}");
                return Ok(ExitCode::FAILURE);
            }
        }
        ChainCommand::Export { file } => {
            let node = crate::open(store, master_key).await?;
            let blocks = match file {
                Some(path) => {
                    let file = std::fs::File::create(&path)
                        .with_context(|| format!("creating {}", path.display()))?;
                    let mut out = std::io::BufWriter::new(file);
                    portable::export(&node.ledger, &mut out).await?
                }
                None => portable::export(&node.ledger, &mut std::io::stdout().lock()).await?,
            };
            eprintln!("exported the genesis and {blocks} blocks");
        }
        ChainCommand::Import { file } => {
            let reader = std::fs::File::open(&file)
                .with_context(|| format!("opening {}", file.display()))?;
            let mut lines = portable::lines(std::io::BufReader::new(reader));
            let (db, _) = crate::open_database(store, master_key).await?;
            if crate::ledger::store::has_chain(&db).await? {
                let first = lines.next().context("the export is empty")??;
                let genesis: crate::ledger::block::Genesis =
                    serde_json::from_str(&first).context("line 1 is not a genesis")?;
                let node = crate::open(store, master_key).await?;
                let (held, appended) = portable::catch_up(&node.ledger, &genesis, lines).await?;
                let erased = crate::privacy::erasure::reapply(
                    &node.db,
                    &crate::erasure_listeners(),
                    node.clock.now(),
                )
                .await?;
                println!(
                    "caught up chain `{}`: {held} blocks already held, {appended} appended, \
                     each checked; {erased} erased subjects and records re-applied",
                    genesis.header.chain_id.as_str()
                );
                return Ok(ExitCode::SUCCESS);
            }
            let genesis = portable::import_genesis_line(&db, &mut lines).await?;
            let store = StoreConfig {
                chain_id: Some(genesis.header.chain_id.clone()),
                ..store.clone()
            };
            let node = crate::open(&store, master_key).await?;
            let blocks = portable::import_blocks(&node.ledger, lines).await?;
            println!(
                "imported chain `{}`: the genesis and {blocks} blocks, each checked",
                genesis.header.chain_id.as_str()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a `certus receipt` subcommand (offline: no store, no network).
pub fn receipt(command: ReceiptCommand) -> anyhow::Result<ExitCode> {
    let ReceiptCommand::Verify { receipt, genesis } = command;
    let read =
        |p: &Path| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
    match portable::verify_receipt_files(&read(&receipt)?, &read(&genesis)?) {
        Ok(anchored) => {
            let time = chrono::DateTime::from_timestamp_millis(anchored.time_ms)
                .map(|t| t.to_rfc3339())
                .unwrap_or_default();
            println!(
                "valid: anchored in block {} ({}) of chain `{}` at {time}",
                anchored.height,
                anchored.block,
                anchored.chain_id.as_str(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("invalid: {e:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Runs a wallet subcommand.
pub async fn wallet(args: WalletArgs) -> anyhow::Result<ExitCode> {
    use certus_wallet::{self as wallet, client};
    use std::io::Write;
    let path = args.wallet.as_path();
    let mut out = std::io::stdout();
    match args.command {
        WalletCommand::Init => {
            wallet::init(path)?;
            writeln!(out, "created the wallet {}", path.display())?;
        }
        WalletCommand::Accept { offer, tx_code } => {
            let mut wallet = wallet::load(path)?;
            let (held, receipt) = client::accept(
                &mut wallet,
                &offer,
                tx_code.as_deref(),
                |notice| match notice {
                    client::Notice::OpenPage(page) => eprintln!(
                        "The issuer asks you to confirm with the code it sent you. Open this \
                         address in a browser on this computer:\n{page}"
                    ),
                    client::Notice::AwaitingApproval => eprintln!(
                        "The issuer approves this credential before it issues it; waiting (up \
                         to ten minutes)…"
                    ),
                },
            )
            .await?;
            wallet::save(&wallet, path)?;
            if let Some(receipt) = receipt {
                // Stored: the issuer may be told so. Not telling it loses nothing.
                if let Err(e) = client::acknowledge(&receipt).await {
                    eprintln!("the issuer was not told the credential was stored: {e:#}");
                }
            }
            let view = held.view()?;
            writeln!(
                out,
                "accepted credential {}: {} from {} ({}), {} bound to a key of its own, the \
                 first to {}",
                held.id,
                view.types
                    .last()
                    .map(String::as_str)
                    .unwrap_or("credential"),
                view.issuer.as_deref().unwrap_or("an unnamed issuer"),
                held.format,
                copies(held.copies.len() + 1),
                held.holder
            )?;
        }
        WalletCommand::List => {
            let wallet = wallet::load(path)?;
            for held in &wallet.credentials {
                let view = held.view()?;
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}, {} not yet shown",
                    held.id,
                    view.types.last().map(String::as_str).unwrap_or("-"),
                    held.format,
                    view.issuer.as_deref().unwrap_or("-"),
                    held.received_at,
                    copies(held.copies.len() + 1),
                    held.unshown_copies()
                )?;
            }
        }
        WalletCommand::Show { id } => {
            let wallet = wallet::load(path)?;
            let held = wallet
                .credentials
                .iter()
                .find(|c| c.id == id)
                .with_context(|| format!("no credential {id} in the wallet"))?;
            let view = held.view()?;
            writeln!(out, "{}", serde_json::to_string_pretty(&view.document)?)?;
        }
        WalletCommand::Delete { id } => {
            let mut wallet = wallet::load(path)?;
            if !wallet.delete(&id) {
                anyhow::bail!("no credential {id} in the wallet");
            }
            wallet::save(&wallet, path)?;
            writeln!(out, "deleted credential {id}")?;
        }
        WalletCommand::Present {
            request,
            yes,
            decline,
            allow_status_notifications,
            trust_anchors,
        } => {
            let wallet = wallet::load(path)?;
            let mut anchors = Vec::new();
            for file in &trust_anchors {
                let text = std::fs::read_to_string(file)
                    .with_context(|| format!("reading {}", file.display()))?;
                let read = certus_schemas::x509::certificates_in(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                anyhow::ensure!(
                    !read.is_empty(),
                    "{} holds no PEM certificate",
                    file.display()
                );
                anchors.extend(read);
            }
            let request = client::fetch_request(&request, &anchors).await?;
            writeln!(
                out,
                "{} ({}) asks: {}",
                request.verifier_name.as_deref().unwrap_or("A verifier"),
                request.client_id,
                request.terms.purpose
            )?;
            if let Some(policy) = &request.terms.policy_id {
                writeln!(out, "under the policy `{policy}`")?;
            }
            for transaction in &request.transactions {
                writeln!(
                    out,
                    "and that you approve: {}",
                    transaction.text.as_deref().unwrap_or_default()
                )?;
            }
            let asks_notifications = request.terms.asks_status_notifications();
            if asks_notifications {
                writeln!(
                    out,
                    "it asks to be told if the credential is suspended or revoked: {}",
                    if allow_status_notifications {
                        "allowed (--allow-status-notifications)"
                    } else {
                        "not allowed (add --allow-status-notifications to allow it)"
                    }
                )?;
            }
            if decline {
                let answer = client::decline(&request).await?;
                writeln!(out, "declined")?;
                same_device(&mut out, &answer)?;
                return Ok(ExitCode::SUCCESS);
            }
            let answers = wallet.plan(&request.query)?;
            for (query, held, claims) in &answers {
                let names: Vec<String> = claims
                    .iter()
                    .map(|c| serde_json::to_string(&c.path).unwrap_or_default())
                    .collect();
                writeln!(
                    out,
                    "  credential {} for `{query}` ({}), disclosing {}",
                    held.id,
                    held.format,
                    if names.is_empty() {
                        "no optional claim".into()
                    } else {
                        names.join(", ")
                    }
                )?;
            }
            if !yes && !confirm("Send this? [y/N] ")? {
                let answer = client::decline(&request).await?;
                writeln!(out, "declined")?;
                same_device(&mut out, &answer)?;
                return Ok(ExitCode::SUCCESS);
            }
            let contexts = certus_credential::contexts::Contexts::bundled();
            let notify = asks_notifications && allow_status_notifications;
            let answer = client::respond(&wallet, &request, &answers, &contexts, notify).await?;
            let presented: Vec<String> = answers.iter().map(|(_, h, _)| h.id.clone()).collect();
            let mut wallet = wallet;
            for id in &presented {
                wallet.presented(id);
            }
            wallet::save(&wallet, path)?;
            writeln!(out, "sent; the verifier accepted the presentation")?;
            same_device(&mut out, &answer)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the verifier's page the holder's browser is to go to next, when the verifier
/// names one (same-device flows, OpenID4VP 1.0 §8.2).
fn same_device(out: &mut impl std::io::Write, answer: &serde_json::Value) -> std::io::Result<()> {
    match certus_schemas::holder::verifier_page(answer) {
        Some(page) => writeln!(out, "continue in your browser at {page}"),
        None => Ok(()),
    }
}

/// "1 copy", "3 copies".
fn copies(n: usize) -> String {
    match n {
        1 => "1 copy".into(),
        n => format!("{n} copies"),
    }
}

fn confirm(question: &str) -> anyhow::Result<bool> {
    use std::io::Write;
    print!("{question}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}
