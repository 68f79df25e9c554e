//! The `certus` command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::auth::Scope;
use crate::config::{LogFormat, ServerConfig, StoreConfig};

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
        /// Comma-separated scopes: issue, verify.
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
