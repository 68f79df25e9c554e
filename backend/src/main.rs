//! `certus`: reads configuration, sets up logging, and runs a subcommand.

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use certus::cli::{ApiKeyCommand, ChainCommand, Cli, Command, ReceiptCommand};
use certus::config::LogFormat;
use certus::ledger::{portable, producer};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
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
            let node = certus::open(&cli.store, master_key.as_deref()).await?;
            let ledger = node.ledger.clone();
            let producer = producer::spawn(
                ledger.clone(),
                Duration::from_millis(server.block_interval_ms),
            );
            let state = certus::build_state(node, &server);
            let app = certus::app(state, &server);
            let listener = tokio::net::TcpListener::bind(server.addr)
                .await
                .with_context(|| format!("binding {}", server.addr))?;
            let addr = listener.local_addr()?;
            tracing::info!(%addr, database = %certus::store::redact(&cli.store.database_url()), "listening");
            println!("Certus is listening on http://{addr}  (API docs: http://{addr}/api-docs)");
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown_signal())
            .await?;
            producer.abort();
            // Anchors acknowledged by the last requests go into a final block.
            producer::seal_all(&ledger).await;
            tracing::info!("stopped");
        }
        Command::Chain(ChainCommand::Verify) => {
            let node = certus::open(&cli.store, master_key.as_deref()).await?;
            match node.ledger.verify_chain().await {
                Ok(head) => println!("the chain holds: {} blocks after the genesis, every link, root and signature checked", head),
                Err((height, reason)) => {
                    println!("block {height} does not hold: {reason}");
                    std::process::exit(1);
                }
            }
        }
        Command::Chain(ChainCommand::Export { file }) => {
            let node = certus::open(&cli.store, master_key.as_deref()).await?;
            let blocks = match file {
                Some(path) => {
                    let mut out = std::io::BufWriter::new(
                        std::fs::File::create(&path)
                            .with_context(|| format!("creating {}", path.display()))?,
                    );
                    portable::export(&node.ledger, &mut out).await?
                }
                None => portable::export(&node.ledger, &mut std::io::stdout().lock()).await?,
            };
            eprintln!("exported the genesis and {blocks} blocks");
        }
        Command::Chain(ChainCommand::Import { file }) => {
            let reader = std::io::BufReader::new(
                std::fs::File::open(&file)
                    .with_context(|| format!("opening {}", file.display()))?,
            );
            let mut lines = portable::lines(reader);
            let (db, _) = certus::open_database(&cli.store, master_key.as_deref()).await?;
            let genesis = portable::import_genesis_line(&db, &mut lines).await?;
            let mut store = cli.store.clone();
            store.chain_id = genesis.header.chain_id.clone();
            let node = certus::open(&store, master_key.as_deref()).await?;
            let blocks = portable::import_blocks(&node.ledger, lines).await?;
            println!(
                "imported chain `{}`: the genesis and {blocks} blocks, each checked",
                genesis.header.chain_id.as_str()
            );
        }
        Command::Receipt(ReceiptCommand::Verify { receipt, genesis }) => {
            let read = |p: &std::path::Path| {
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
            };
            match portable::verify_receipt_files(&read(&receipt)?, &read(&genesis)?) {
                Ok(anchored) => println!(
                    "valid: anchored in block {} ({}) of chain `{}` at {}",
                    anchored.height,
                    anchored.block,
                    anchored.chain_id.as_str(),
                    chrono::DateTime::from_timestamp_millis(anchored.time_ms)
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default()
                ),
                Err(e) => {
                    println!("invalid: {e:#}");
                    std::process::exit(1);
                }
            }
        }
        Command::ApiKey(ApiKeyCommand::Create {
            scopes,
            label,
            tenant,
        }) => {
            let node = certus::open(&cli.store, master_key.as_deref()).await?;
            let token = certus::auth::create_api_key(&node.db, &tenant, &scopes, label).await?;
            println!("{token}");
        }
    }
    Ok(())
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
