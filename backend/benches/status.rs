//! Status benchmarks: revoking 10,000 credentials by one query (the change, one new signed
//! version per affected list, and the block that anchors them), and checking an entry
//! against a cached list. SQLite by default; PostgreSQL when `CERTUS_BENCH_DATABASE_URL`
//! names an empty database.
//!
//! `cargo bench -p certus --bench status`

use std::time::{Duration, Instant};

use certus_schemas::wire::{CredentialFormat, StatusPurpose, StatusReason};
use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::future::join_all;
use serde_json::json;

use certus_server::issuance;
use certus_server::ledger::producer::seal_all;
use certus_server::state::AppState;
use certus_server::status::{Change, Selection};

mod common;

/// Credentials one query revokes.
const BATCH: usize = 10_000;
/// Anchors the block producer seals per round (as the server).
const BLOCK_INTERVAL: Duration = Duration::from_millis(1000);

fn kyc() -> serde_json::Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/certus/contexts/kyc/v1"],
        "type": ["VerifiableCredential", "KycCredential"],
        "credentialSubject": {
            "givenName": "Maria", "familyName": "Rossi", "birthDate": "1988-04-12",
            "nationality": "IT", "documentNumber": "YA1234567", "assuranceLevel": "substantial",
            "checkDate": "2026-10-01", "checkMethod": "video"
        }
    })
}

/// Issues and records one `vc+jwt` credential, as `POST /credentials/issue` does.
async fn issue_one(state: &AppState) {
    let now = Utc::now();
    let issued = state
        .issuer
        .issue(
            "default",
            kyc(),
            issuance::Securing::format(CredentialFormat::VcJwt),
            now,
        )
        .await
        .expect("issue");
    let record = issued.record("default", "bench", now).expect("record");
    state.issuer.record(vec![record]).await.expect("recorded");
}

fn status(c: &mut Criterion) {
    let rt = common::runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let state = common::state(&rt, &dir, BLOCK_INTERVAL.as_millis() as u64);

    let mut group = c.benchmark_group("status");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut slowest = (Duration::ZERO, Duration::ZERO);
    let mut lists = Vec::new();
    group.bench_function("revoke 10000 by query, publish and anchor", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                // Untimed: a fresh batch, which only this batch's time window selects.
                let from = Utc::now();
                rt.block_on(join_all((0..BATCH).map(|_| issue_one(&state))));
                rt.block_on(seal_all(&state.ledger));
                let until = Utc::now();
                std::thread::sleep(Duration::from_millis(2));

                let start = Instant::now();
                let result = rt
                    .block_on(state.status.change(
                        "default",
                        "bench",
                        Change {
                            selection: Selection::Query {
                                credential_type: Some("KycCredential".into()),
                                issued_from: Some(from),
                                issued_until: Some(until + chrono::Duration::milliseconds(1)),
                                issued_by: None,
                                ids: None,
                            },
                            purpose: StatusPurpose::Revocation,
                            set: true,
                            reason: StatusReason::Superseded,
                        },
                        Utc::now(),
                    ))
                    .expect("revoked");
                let published = start.elapsed();
                let sealed = rt.block_on(seal_all(&state.ledger));
                let elapsed = start.elapsed();
                assert_eq!(result.changed, BATCH as u64, "the query selects the batch");
                assert!(sealed >= 1, "the new versions are anchored");
                slowest = (slowest.0.max(published), slowest.1.max(elapsed - published));
                lists.push(result.published.len());
                total += elapsed;
            }
            total
        })
    });
    group.finish();
    eprintln!(
        "revoke {BATCH} by query, slowest of {} batches: published (served) after {:?}, \
         its block sealed in {:?} more (block interval {BLOCK_INTERVAL:?}); lists republished \
         per batch: {lists:?}",
        lists.len(),
        slowest.0,
        slowest.1,
    );

    // A status check against a cached list, as verification does it.
    let credential = rt.block_on(async {
        let now = Utc::now();
        let prepared = issuance::prepare(
            kyc(),
            false,
            "default",
            state.issuer.catalog(),
            state.issuer.contexts(),
            state.issuer.keys(),
            now,
        )
        .expect("prepare");
        let key = prepared.key.clone();
        let allocation = state.status.allocate(&key, now).await.expect("allocate");
        (key.did.clone(), allocation)
    });
    let (issuer, allocation) = credential;
    let url = state.status.url(allocation.revocation);
    let mut group = c.benchmark_group("status");
    group.throughput(Throughput::Elements(1));
    group.bench_function("check an entry against a cached list", |b| {
        b.to_async(&rt).iter(|| async {
            state
                .status
                .check(
                    &url,
                    allocation.index,
                    StatusPurpose::Revocation,
                    Some(&issuer),
                )
                .await
                .expect("checked")
        })
    });
    group.finish();
}

criterion_group!(benches, status);
criterion_main!(benches);
