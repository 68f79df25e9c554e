//! Issue and verify per format, beside raw Ed25519 signing and verification through the
//! same ssi primitives, in one run. `cargo bench -p certus --bench engine`; figures in
//! docs/performance.md.

use certus_schemas::wire::CredentialFormat;
use certus_server::issuance::Securing;
use certus_server::verification::Binding;
use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::{json, Value};
use ssi::claims::jws;
use ssi::jwk::{Algorithm, JWK};

mod common;

fn kyc() -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/certus/contexts/kyc/v1"],
        "type": ["VerifiableCredential", "KycCredential"],
        "credentialSubject": {
            "givenName": "Maria", "familyName": "Rossi", "birthDate": "1988-04-12",
            "assuranceLevel": "substantial", "checkDate": "2026-10-01", "checkMethod": "video"
        }
    })
}

fn engine(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut state = common::state(&rt, &dir, 1000);
    // The engine alone: the `anchored` check (a database lookup and a receipt check) is
    // measured by the ledger benchmark.
    state.verifier.ledger = None;

    let mut group = c.benchmark_group("ed25519");
    group.throughput(Throughput::Elements(1));
    let key = JWK::generate_ed25519().expect("key");
    let message = [7u8; 200];
    let signature = jws::sign_bytes(Algorithm::EdDSA, &message, &key).expect("sign");
    group.bench_function("sign", |b| {
        b.iter(|| jws::sign_bytes(Algorithm::EdDSA, &message, &key).expect("sign"))
    });
    group.bench_function("verify", |b| {
        b.iter(|| jws::verify_bytes(Algorithm::EdDSA, &message, &key, &signature).expect("verify"))
    });
    group.finish();

    for format in [
        CredentialFormat::VcJwt,
        CredentialFormat::DcSdJwt,
        CredentialFormat::LdpVc,
    ] {
        let mut group = c.benchmark_group(format.as_str());
        group.throughput(Throughput::Elements(1));
        let issue = || async {
            let now = Utc::now();
            state
                .issuer
                .issue("default", kyc(), Securing::format(format), now)
                .await
                .expect("issue")
        };
        group.bench_function("issue", |b| b.to_async(&rt).iter(issue));
        let secured = rt.block_on(issue()).secured;
        group.bench_function("verify", |b| {
            b.to_async(&rt).iter(|| async {
                let result = state
                    .verifier
                    .verify_credential(&secured, Binding::default(), Utc::now())
                    .await
                    .expect("verify");
                assert!(result.verified);
            })
        });
        group.finish();
    }
}

criterion_group!(benches, engine);
criterion_main!(benches);
