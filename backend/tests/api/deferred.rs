//! Deferred issuance (OpenID4VCI 1.0 §9, decision 26): an offer the institution approves
//! before it is issued. The wallet's request is kept and answered 202 with a
//! `transaction_id`; the institution approves or refuses; the wallet collects the
//! credentials at the deferred credential endpoint — once.

use axum::http::StatusCode;
use certus_schemas::holder::Key;
use certus_wallet::HolderKey;
use chrono::Utc;
use serde_json::{json, Value};

use crate::helpers::{Db, TestApp, PUBLIC_URL};
use crate::on_both_databases;
use crate::openid::unbound_kyc;

on_both_databases!(
    a_credential_the_institution_approves_is_collected_at_the_deferred_endpoint_once,
    refused_unknown_and_early_deferred_requests_are_refused_as_the_spec_names_them,
);

impl TestApp {
    /// An offer of a KYC SD-JWT VC that the institution approves before it is issued.
    pub(crate) async fn offer_for_approval(&self) -> Value {
        let (status, body) = self
            .post(
                "/credentials/offers",
                &json!({"credential": unbound_kyc(), "options": {"format": "dc+sd-jwt"}, "approval": true}),
                Some(&self.token),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Asks for `offer`'s credential with proofs by `keys`; the access token and answer.
    async fn ask(&self, offer: &Value, keys: &[HolderKey]) -> (String, StatusCode, Value) {
        let access = self.access_token(offer, None).await;
        let nonce = self.c_nonce().await;
        let proofs: Vec<String> = keys
            .iter()
            .map(|k| k.proof(PUBLIC_URL, &nonce, Utc::now()).expect("proof"))
            .collect();
        let request = json!({
            "credential_configuration_id": offer["credentialOffer"]["credential_configuration_ids"][0],
            "proofs": {"jwt": proofs},
        });
        let (status, body) = self.credential_request(&access, &request).await;
        (access, status, body)
    }

    async fn deferred(&self, access: &str, body: &Value) -> (StatusCode, Value) {
        self.post("/openid4vci/deferred_credential", body, Some(access))
            .await
    }

    pub(crate) async fn decide(&self, offer: &Value, approve: bool) -> (StatusCode, Value) {
        let id = offer["id"].as_str().expect("an offer id");
        self.post(
            &format!("/credentials/offers/{id}/approval"),
            &json!({ "approve": approve }),
            Some(&self.token),
        )
        .await
    }
}

fn keys(n: usize) -> Vec<HolderKey> {
    (0..n)
        .map(|_| HolderKey::generate(PUBLIC_URL).expect("key"))
        .collect()
}

async fn a_credential_the_institution_approves_is_collected_at_the_deferred_endpoint_once(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, metadata) = app.get("/.well-known/openid-credential-issuer").await;
    assert_eq!(
        metadata["deferred_credential_endpoint"],
        format!("{PUBLIC_URL}/openid4vci/deferred_credential")
    );
    let offer = app.offer_for_approval().await;
    let info = app.offer_info(&offer).await;
    assert_eq!(
        (info["status"].as_str(), info["approvalRequired"].as_bool()),
        (Some("pending"), Some(true))
    );
    // Nothing to approve before a wallet asks.
    let (status, body) = app.decide(&offer, true).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("OFFER_NOT_AWAITING_APPROVAL")),
        "{body}"
    );

    let keys = keys(2);
    let (access, status, answer) = app.ask(&offer, &keys).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let transaction_id = answer["transaction_id"].as_str().expect("a transaction id");
    assert_eq!(answer["interval"], 5);
    assert!(answer.get("credentials").is_none() && answer.get("notification_id").is_none());
    let info = app.offer_info(&offer).await;
    assert_eq!(info["status"], "requested");
    assert!(info["requestedAt"].is_string());

    // The token asks once; until the institution decides, the wallet is told to wait.
    let nonce = app.c_nonce().await;
    let request = json!({
        "credential_configuration_id": offer["credentialOffer"]["credential_configuration_ids"][0],
        "proofs": {"jwt": [keys[0].proof(PUBLIC_URL, &nonce, Utc::now()).expect("proof")]},
    });
    let (again, body) = app.credential_request(&access, &request).await;
    assert_eq!(
        (again, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_credential_request")),
        "{body}"
    );
    let (status, waiting) = app
        .deferred(&access, &json!({"transaction_id": transaction_id}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{waiting}");
    assert_eq!(waiting["transaction_id"], transaction_id);

    let (status, decided) = app.decide(&offer, true).await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    assert_eq!(decided["status"], "approved");
    let (status, body) = app.decide(&offer, false).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("OFFER_NOT_AWAITING_APPROVAL")),
        "decided once"
    );

    let (status, collected) = app
        .deferred(&access, &json!({"transaction_id": transaction_id}))
        .await;
    assert_eq!(status, StatusCode::OK, "{collected}");
    let credentials = collected["credentials"].as_array().expect("credentials");
    assert_eq!(
        credentials.len(),
        2,
        "a copy for each key kept with the request"
    );
    for (credential, key) in credentials.iter().zip(&keys) {
        let token = credential["credential"].as_str().expect("an SD-JWT");
        let claims = crate::openid::payload(token);
        assert_eq!(claims["cnf"]["jwk"]["x"], json!(key.jwk.to_public())["x"]);
        let (status, result) = app.verify(&json!(token)).await;
        assert_eq!(status, StatusCode::OK, "{result}");
    }
    let info = app.offer_info(&offer).await;
    assert_eq!(
        (info["status"].as_str(), info["copies"].as_u64()),
        (Some("redeemed"), Some(2))
    );

    // Collected once.
    let (status, body) = app
        .deferred(&access, &json!({"transaction_id": transaction_id}))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_transaction_id")),
        "{body}"
    );
}

async fn refused_unknown_and_early_deferred_requests_are_refused_as_the_spec_names_them(db: Db) {
    let app = TestApp::spawn(db).await;
    let offer = app.offer_for_approval().await;
    let (access, status, answer) = app.ask(&offer, &keys(1)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let transaction_id = answer["transaction_id"].as_str().expect("a transaction id");
    for (body, error) in [
        (
            json!({"transaction_id": "made-up"}),
            "invalid_transaction_id",
        ),
        (json!({}), "invalid_credential_request"),
    ] {
        let (status, refused) = app.deferred(&access, &body).await;
        assert_eq!(
            (status, refused["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some(error)),
            "{body}: {refused}"
        );
    }
    let (status, _) = app
        .deferred("unknown-token", &json!({"transaction_id": transaction_id}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Refused: the wallet is told so, and the offer keeps nothing to issue.
    let (status, decided) = app.decide(&offer, false).await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    assert_eq!(decided["status"], "refused");
    let (status, body) = app
        .deferred(&access, &json!({"transaction_id": transaction_id}))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("credential_request_denied")),
        "{body}"
    );
    assert_eq!(app.offer_info(&offer).await["status"], "refused");

    // A draft-13 wallet, which speaks no deferred issuance, is told why.
    let offer = app.offer_for_approval().await;
    let access = app.access_token(&offer, None).await;
    let nonce = app.c_nonce().await;
    let request = json!({
        "format": "dc+sd-jwt",
        "vct": "https://w3id.org/certus/types/KycCredential/v1",
        "proof": {"proof_type": "jwt", "jwt": keys(1)[0].proof(PUBLIC_URL, &nonce, Utc::now()).expect("proof")},
    });
    let (status, body) = app.credential_request(&access, &request).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_credential_request")),
        "{body}"
    );
    assert_eq!(app.offer_info(&offer).await["status"], "pending");
}
