//! Ledger benchmarks: sealing anchors into blocks with the database (SQLite by default;
//! PostgreSQL when `CERTUS_BENCH_DATABASE_URL` names one) — with one audit entry per
//! anchor chained in the same transaction, as issuance produces — and checking a receipt.
//!
//! `cargo bench -p certus --bench ledger`

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ed25519_dalek::SigningKey;
use rand::rngs::StdRng;
use rand::SeedableRng;
use sea_orm::{DatabaseConnection, TransactionTrait};

use certus_server::ledger::block::{Block, ChainId, Genesis};
use certus_server::ledger::merkle::LeafIndex;
use certus_server::ledger::producer::seal_all;
use certus_server::ledger::receipt::Receipt;
use certus_server::ledger::store::AnchorState;
use certus_server::ledger::transaction::{credential_commitment, Transaction};
use certus_server::store::Inserts;
use certus_server::work::Trail;

mod common;

/// Anchors per sealing round: one full block's worth of a busy second.
const ANCHORS: u64 = 50_000;

fn anchors(n: u64, salt: u64) -> Vec<Transaction> {
    (0..n)
        .map(|i| Transaction::CredentialAnchor {
            commitment: credential_commitment(&[salt.to_be_bytes(), i.to_be_bytes()].concat()),
        })
        .collect()
}

/// Queues `ANCHORS` anchors and their audit entries, as that many issuances would.
async fn fill_outboxes(db: &DatabaseConnection, round: u64) {
    let now = chrono::Utc::now();
    let mut trail = Trail::default();
    for (i, tx) in anchors(ANCHORS, round).iter().enumerate() {
        trail.anchor(tx, now);
        trail.audit(
            "default",
            "bench",
            "credential.issue",
            &format!("urn:uuid:{round}-{i}"),
            now,
        );
    }
    let txn = db.begin().await.expect("begin");
    let mut inserts = Inserts::default();
    trail.insert(&mut inserts);
    inserts.execute(&txn).await.expect("outboxes");
    txn.commit().await.expect("commit");
}

fn sealing(c: &mut Criterion) {
    let rt = common::runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let node = common::node(&rt, &dir);
    let backend = match node.db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "postgres",
        _ => "sqlite",
    };

    let mut group = c.benchmark_group("seal");
    group.throughput(Throughput::Elements(ANCHORS));
    group.sample_size(10);
    group.bench_function(BenchmarkId::new(backend, ANCHORS), |b| {
        b.iter_custom(|rounds| {
            let mut total = Duration::ZERO;
            for round in 0..rounds {
                // Fill the outboxes (not timed), as issuances would.
                rt.block_on(fill_outboxes(&node.db, round));
                let start = Instant::now();
                let blocks = rt.block_on(seal_all(&node.ledger));
                total += start.elapsed();
                assert_eq!(blocks, 1);
            }
            total
        })
    });
    group.finish();

    // The `anchored` check's lookup in a block of 50,000 anchors, as verification does it
    // (the chunk's leaves and the block's seal checked once, then kept), beside reading
    // the whole block as `GET /chain/blocks` does.
    rt.block_on(fill_outboxes(&node.db, u64::MAX));
    rt.block_on(seal_all(&node.ledger));
    let head = rt.block_on(node.ledger.head()).expect("head");
    let block = rt
        .block_on(node.ledger.block(head.height))
        .expect("db")
        .expect("block");
    let commitment = block.transactions[ANCHORS as usize / 2]
        .commitment()
        .expect("anchor");
    let mut group = c.benchmark_group("anchor_lookup");
    group.bench_function(BenchmarkId::new("locate_and_verify", backend), |b| {
        b.iter(|| {
            rt.block_on(async {
                match node.ledger.locate(&commitment).await.expect("db") {
                    AnchorState::Anchored(receipt) => {
                        node.ledger.check_receipt(&receipt).expect("holds")
                    }
                    other => panic!("not anchored: {other:?}"),
                }
            })
        })
    });
    group.bench_function(BenchmarkId::new("load_whole_block", backend), |b| {
        b.iter(|| rt.block_on(node.ledger.block(head.height)).expect("db"))
    });
    group.finish();
}

fn receipts(c: &mut Criterion) {
    let key = SigningKey::generate(&mut StdRng::seed_from_u64(1));
    let genesis = Genesis::create(ChainId::parse("bench").expect("id"), &key, 0).expect("signs");
    let mut group = c.benchmark_group("receipt_verify");
    for size in [1_000u64, 10_000, 100_000] {
        let block = Block::seal(&genesis.header, anchors(size, 0), 1, &key).expect("signs");
        let receipt = Receipt::new(&block, LeafIndex(size / 3), Vec::new()).expect("receipt");
        let bytes = serde_json::to_vec(&receipt).expect("json").len();
        eprintln!(
            "receipt for a block of {size} anchors: {} path hashes, {bytes} bytes of JSON",
            receipt.inclusion_path.len()
        );
        group.bench_function(BenchmarkId::from_parameter(size), |b| {
            b.iter(|| receipt.verify(&genesis).expect("holds"))
        });
    }
    group.finish();
}

criterion_group!(benches, sealing, receipts);
criterion_main!(benches);
