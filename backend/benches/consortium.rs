//! What one consortium member does with each block of a busy chain: a proposal of
//! 20,000 anchors (the most a block holds) read off the wire, checked before the vote
//! (link, time, root, validator set), and — final with the votes of three of four
//! validators — checked again with its certificate and stored (SQLite). Every member does
//! all three for every block, so on one machine running four members their sum, times
//! four, bounds the throughput `scripts/consortium-load.sh` measures.
//!
//! `cargo bench -p certus-server --bench consortium`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ed25519_dalek::{Signer as _, SigningKey};

use certus_server::config::StoreConfig;
use certus_server::consensus::MAX_BLOCK_TRANSACTIONS;
use certus_server::ledger::block::{
    finalize_message, Block, BlockSignature, ChainId, Finality, Genesis, Member, ValidatorKey,
};
use certus_server::ledger::transaction::{credential_commitment, Transaction};
use certus_server::Node;

mod common;

/// A consortium of four whose validators' keys the benchmark holds.
fn consortium() -> (Genesis, Vec<SigningKey>) {
    let keys: Vec<SigningKey> = (1..=4u8)
        .map(|i| SigningKey::from_bytes(&[i; 32]))
        .collect();
    let members = keys
        .iter()
        .enumerate()
        .map(|(i, key)| Member {
            name: format!("member-{}", i + 1),
            validator: ValidatorKey(key.verifying_key()),
            address: format!("127.0.0.1:{}", 7100 + i),
        })
        .collect();
    let chain = ChainId::parse("bench-consortium").expect("chain id");
    let genesis = Genesis::consortium(chain, members, None, 1_000).expect("genesis");
    (genesis, keys)
}

/// A member's node on a fresh SQLite store, joined to `genesis` (written to `dir`).
fn member(rt: &tokio::runtime::Runtime, dir: &tempfile::TempDir, genesis: &Genesis) -> Node {
    let file = dir.path().join("genesis.json");
    std::fs::write(&file, serde_json::to_vec(genesis).expect("json")).expect("genesis file");
    let store = StoreConfig {
        data_dir: dir.path().to_owned(),
        database_url: None,
        read_database_url: None,
        chain_id: None,
        genesis: Some(file),
        pkcs11: Default::default(),
    };
    rt.block_on(certus_server::open(&store, None))
        .expect("open")
}

fn blocks(c: &mut Criterion) {
    let rt = common::runtime();
    let (genesis, keys) = consortium();
    let transactions: Vec<Transaction> = (0..MAX_BLOCK_TRANSACTIONS)
        .map(|i| Transaction::CredentialAnchor {
            commitment: credential_commitment(&i.to_be_bytes()),
        })
        .collect();
    let (proposal, _) = Block::propose(
        &genesis.header,
        transactions,
        2_000,
        genesis.header.validator_set,
    );
    let wire = serde_json::to_vec(&proposal).expect("json");
    let finality = Finality {
        epoch: 0,
        view: 1,
        parent: 0,
        height: 1,
    };
    let message = finalize_message(&genesis.header.chain_id, &finality, &proposal.header.hash());
    let votes = keys[..3]
        .iter()
        .map(|key| BlockSignature {
            validator: ValidatorKey(key.verifying_key()),
            signature: key.sign(&message),
        })
        .collect();
    let decided = [Block {
        finality: Some(finality),
        signatures: votes,
        ..proposal.clone()
    }];

    let mut group = c.benchmark_group("consortium_block");
    group.throughput(Throughput::Elements(MAX_BLOCK_TRANSACTIONS));
    group.sample_size(10);
    group.bench_function("decode", |b| {
        b.iter(|| serde_json::from_slice::<Block>(&wire).expect("a block"))
    });
    group.bench_function("check_proposal", |b| {
        b.iter(|| {
            proposal
                .verify_contents(&genesis.header, genesis.header.validator_set)
                .expect("it holds")
        })
    });
    group.bench_function("store_final_sqlite", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let node = member(&rt, &dir, &genesis);
                (dir, node)
            },
            |(dir, node)| {
                let head = rt
                    .block_on(node.ledger.append_final(&decided))
                    .expect("stored");
                assert_eq!(head.height, 1);
                (dir, node)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, blocks);
criterion_main!(benches);
