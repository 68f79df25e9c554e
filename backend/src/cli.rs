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
    /// Read a chain written by `export` into a store that holds none, checking every block.
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
    let id = id.unwrap_or_else(|| tenant_id_from(&name));
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        anyhow::bail!("a tenant id is letters, digits and `-`; give one with --id");
    }
    let node = crate::open(store, master_key).await?;
    crate::keys::create_tenant(&node.db, &node.master, &id, name.trim()).await?;
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

/// Runs a `certus chain` subcommand.
pub async fn chain(
    command: ChainCommand,
    store: &StoreConfig,
    master_key: Option<&str>,
) -> anyhow::Result<ExitCode> {
    match command {
        ChainCommand::Verify => {
            let node = crate::open(store, master_key).await?;
            match node.ledger.verify_chain().await {
                Ok(head) => println!(
                    "the chain holds: the genesis and {head} blocks, every link, root and \
                     signature checked"
                ),
                Err((height, reason)) => {
                    println!("block {height} does not hold: {reason}");
                    return Ok(ExitCode::FAILURE);
                }
            }
            match node.ledger.verify_audit().await {
                Ok(Some(entries)) => println!(
                    "the audit log holds: {entries} entries, chained to the head anchored last"
                ),
                Ok(None) => println!("this store holds no audit log (an imported chain)"),
                Err(reason) => {
                    println!("the audit log does not hold: {reason}");
                    return Ok(ExitCode::FAILURE);
                }
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
            let genesis = portable::import_genesis_line(&db, &mut lines).await?;
            let store = StoreConfig {
                chain_id: genesis.header.chain_id.clone(),
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
