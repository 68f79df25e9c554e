//! The `certus` command line.

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
