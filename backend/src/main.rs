//! `certus`: reads configuration, sets up logging, and runs a subcommand.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use certus_server::cli::{ApiKeyCommand, Cli, Command};
use certus_server::config::LogFormat;
use certus_server::ledger::producer;

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.init(),
    }
    let master_key = std::env::var("CERTUS_MASTER_KEY").ok();
    match cli.command {
        Command::Serve(server) => {
            let mut node = certus_server::open(&cli.store, master_key.as_deref()).await?;
            let ledger = node.ledger.clone();
            let consortium =
                certus_server::start_consortium(&mut node, &cli.store, &server).await?;
            // A single node seals its own blocks; a consortium's are decided by votes.
            let producer =
                (!consortium).then(|| producer::spawn(ledger.clone(), server.seal_interval()));
            let listener = tokio::net::TcpListener::bind(server.addr)
                .await
                .with_context(|| format!("binding {}", server.addr))?;
            let addr = listener.local_addr()?;
            // With port 0 the default public URL names the port actually bound.
            let server = certus_server::config::ServerConfig { addr, ..server };
            let state = certus_server::build_state(node, &server);
            let app = certus_server::app(state.clone(), &server);
            let webhooks =
                certus_server::kyc::webhooks::spawn(state.kyc.clone(), Duration::from_secs(1));
            // On a consortium, what other members put on the shared chain is followed as
            // it becomes final: the status of relied-on credentials they issued, and
            // erasures (a node restored from a backup catches up on the chain after it
            // started).
            let followers = state.consortium.as_ref().map(|c| {
                [
                    c.follow(certus_server::kyc::watch::Watch::new(state.kyc.clone())),
                    c.follow(state.privacy.erasures()),
                ]
            });
            let retention = certus_server::privacy::retention::spawn(
                state.privacy.clone(),
                Duration::from_secs(server.retention_interval_secs),
            );
            tracing::info!(%addr, database = %certus_server::store::redact(&cli.store.database_url()), "listening");
            println!("Certus is listening on http://{addr}  (API docs: http://{addr}/api-docs)");
            // Shown once, on the console only (never in the logs): the first admin's
            // one-time password, on a store with no account yet.
            // Written, not println!: a closed standard output must not stop the server.
            if let Some((email, password)) = state.accounts.bootstrap_first_admin().await? {
                let _ = writeln!(
                    std::io::stdout(),
                    "First sign-in: {}/sign-in as {email} with the one-time password {password} \
                     (you will choose your own)",
                    server.public_url()
                );
            }
            certus_server::serve::run(
                listener,
                app,
                server.max_connections as usize,
                shutdown_signal(),
            )
            .await;
            webhooks.abort();
            retention.abort();
            // Another process over the same database carries on in this one's status lists.
            if let Err(e) = state.status.release_leases().await {
                tracing::warn!(error = %e, "releasing the status-list leases failed; they expire by themselves");
            }
            for follower in followers.into_iter().flatten() {
                follower.abort();
            }
            if let Some(producer) = producer {
                producer.stop().await;
                // Anchors acknowledged by the last requests go into a final block.
                producer::seal_all(&ledger).await;
            }
            tracing::info!("stopped");
        }
        Command::Chain(command) => {
            return certus_server::cli::chain(command, &cli.store, master_key.as_deref()).await;
        }
        Command::Receipt(command) => return certus_server::cli::receipt(command),
        Command::Validator(command) => {
            return certus_server::cli::validator(command, &cli.store, master_key.as_deref()).await;
        }
        Command::Consortium(command) => {
            return certus_server::cli::consortium(command, &cli.store).await;
        }
        Command::Wallet(args) => return certus_server::cli::wallet(args).await,
        Command::Tenant(command) => {
            return certus_server::cli::tenant(command, &cli.store, master_key.as_deref()).await;
        }
        Command::User(command) => {
            return certus_server::cli::user(command, &cli.store, master_key.as_deref()).await;
        }
        Command::ApiKey(ApiKeyCommand::Create {
            scopes,
            label,
            tenant,
        }) => {
            let node = certus_server::open(&cli.store, master_key.as_deref()).await?;
            let (_, token) =
                certus_server::auth::create_api_key(&node.db, &tenant, &scopes, label).await?;
            println!("{token}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or SIGTERM, so in-flight requests finish before the process exits.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
