//! Moving a chain between stores (`certus chain export` / `import`) and checking a
//! receipt file offline (`certus receipt verify`).
//!
//! The export format is JSON Lines: the genesis on the first line, then one block per
//! line in height order. An import checks every block against its predecessor before
//! storing it, so a damaged or forged export is refused at its first bad block.

use std::io::{BufRead, Write};

use anyhow::Context;
use serde_json::Value;

use super::block::{Block, Genesis};
use super::receipt::{check_document, Anchored};
use super::store::{import_genesis, Ledger};

/// Writes the genesis and every block after it.
pub async fn export(ledger: &Ledger, out: &mut impl Write) -> anyhow::Result<u64> {
    writeln!(out, "{}", serde_json::to_string(ledger.genesis())?)?;
    let head = ledger.head().await?.height;
    for height in 1..=head {
        let block = ledger
            .block(height)
            .await?
            .with_context(|| format!("block {height} is missing from the store"))?;
        writeln!(out, "{}", serde_json::to_string(&block)?)?;
    }
    Ok(head)
}

/// Reads the genesis line of an export and stores it; the caller then opens the ledger
/// and passes it to [`import_blocks`].
pub async fn import_genesis_line(
    db: &sea_orm::DatabaseConnection,
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
) -> anyhow::Result<Genesis> {
    let first = lines.next().context("the export is empty")??;
    let genesis: Genesis = serde_json::from_str(&first).context("line 1 is not a genesis")?;
    import_genesis(db, &genesis)
        .await
        .context("the genesis (line 1) does not hold")?;
    Ok(genesis)
}

/// Appends the remaining blocks of an export, each checked against the chain so far.
pub async fn import_blocks(
    ledger: &Ledger,
    lines: impl Iterator<Item = std::io::Result<String>>,
) -> anyhow::Result<u64> {
    let mut count = 0;
    for (n, line) in lines.enumerate() {
        let line = line?;
        let block: Block = serde_json::from_str(&line)
            .with_context(|| format!("line {} is not a block", n + 2))?;
        let height = block.header.height;
        ledger
            .append(&block)
            .await
            .with_context(|| format!("block {height} (line {}) does not hold", n + 2))?;
        count += 1;
    }
    Ok(count)
}

/// Brings a store's chain up to date from an export of the same chain (say, a node
/// restored from a backup, from a peer's or its own later export): blocks the store holds
/// must be the export's, byte for byte; the later ones are checked and appended, and the
/// outbox drops what they already anchor. Returns (blocks already held, blocks appended).
pub async fn catch_up(
    ledger: &Ledger,
    genesis: &Genesis,
    lines: impl Iterator<Item = std::io::Result<String>>,
) -> anyhow::Result<(u64, u64)> {
    anyhow::ensure!(
        genesis.header.hash() == ledger.genesis().header.hash(),
        "the export is of chain `{}`, not of this store's chain `{}`",
        genesis.header.chain_id.as_str(),
        ledger.genesis().header.chain_id.as_str()
    );
    let head = ledger.head().await?.height;
    let (mut held, mut appended) = (0, 0);
    for (n, line) in lines.enumerate() {
        let line = line?;
        let block: Block = serde_json::from_str(&line)
            .with_context(|| format!("line {} is not a block", n + 2))?;
        let height = block.header.height;
        if height <= head {
            let ours = ledger
                .block(height)
                .await?
                .with_context(|| format!("block {height} is missing from the store"))?;
            anyhow::ensure!(
                ours.header.hash() == block.header.hash(),
                "the export diverges from this store's chain at block {height}"
            );
            held += 1;
            continue;
        }
        ledger
            .append(&block)
            .await
            .with_context(|| format!("block {height} (line {}) does not hold", n + 2))?;
        ledger.forget_pending(&block.transactions).await?;
        appended += 1;
    }
    Ok((held, appended))
}

/// Checks a receipt file — a bare receipt or a receipt endpoint's response — against a
/// genesis file.
pub fn verify_receipt_files(receipt: &str, genesis: &str) -> anyhow::Result<Anchored> {
    let genesis: Genesis =
        serde_json::from_str(genesis).context("the genesis file is not a genesis")?;
    let value: Value = serde_json::from_str(receipt).context("the receipt file is not JSON")?;
    Ok(check_document(value, &genesis)?)
}

/// Lines of a reader, for the import functions.
pub fn lines(reader: impl BufRead) -> impl Iterator<Item = std::io::Result<String>> {
    reader
        .lines()
        .filter(|l| !matches!(l, Ok(text) if text.trim().is_empty()))
}
