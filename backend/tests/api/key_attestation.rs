//! Key attestations (OpenID4VCI 1.0 Annex D, HAIP 1.0, decision 26): a wallet provider
//! vouches for the keys a wallet proves possession of. An institution names the providers
//! it trusts (their root certificates) and may require an attestation; one that comes is
//! checked either way: its chain, its signature, its time, the key and the nonce.

use axum::http::StatusCode;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use certus_credential::jose;
use certus_schemas::holder::Key;
use certus_wallet::HolderKey;
use chrono::Utc;
use openssl::bn::BigNumContext;
use openssl::ec::PointConversionForm;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use serde_json::{json, Value};
use ssi::jwk::JWK;

use crate::helpers::{Caller, Db, TestApp, PUBLIC_URL};
use crate::on_both_databases;
use crate::x509_verifiers::{admin, ec_key, issue, pem_of, public, root, Issue};

on_both_databases!(
    an_institution_requiring_key_attestations_issues_only_to_keys_its_trusted_providers_attest,
    an_attestation_proof_gets_a_credential_for_each_key_a_trusted_provider_attests,
);

/// The institution's settings, chosen by `admin` (`PUT /settings`), as they now are.
pub(crate) async fn choose(app: &TestApp, admin: &Caller, choice: Value) -> Value {
    let (status, settings) = app.call(admin, "PUT", "/settings", Some(choice)).await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    settings
}

/// A wallet provider: its root, and the certificate and key it signs attestations with.
pub(crate) struct Provider {
    pub(crate) root: X509,
    cert: X509,
    key: PKey<Private>,
}

pub(crate) fn provider(name: &str) -> Provider {
    let (root, root_key) = root(&format!("{name} Root"));
    let key = ec_key();
    let cert = issue(Issue {
        subject: name,
        public: &public(&key),
        issuer: Some((&root, &root_key)),
        signer: &root_key,
        ca: false,
        dns: None,
        from_days: -1,
        days: 30,
    });
    Provider { root, cert, key }
}

/// An OpenSSL P-256 key as a private JWK.
fn jwk_of(key: &PKey<Private>) -> JWK {
    let ec = key.ec_key().expect("EC");
    let mut ctx = BigNumContext::new().expect("ctx");
    let point = ec
        .public_key()
        .to_bytes(ec.group(), PointConversionForm::UNCOMPRESSED, &mut ctx)
        .expect("point");
    let d = ec.private_key().to_vec_padded(32).expect("d");
    serde_json::from_value(json!({
        "kty": "EC", "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        "d": URL_SAFE_NO_PAD.encode(d),
    }))
    .expect("JWK")
}

impl Provider {
    /// A key attestation of `keys` with `claims` over the defaults (an hour's validity).
    fn attest(&self, keys: &[&HolderKey], claims: Value) -> String {
        let mut payload = json!({
            "attested_keys": keys.iter().map(|k| json!(k.jwk.to_public())).collect::<Vec<_>>(),
            "key_storage": ["iso_18045_moderate"],
        });
        payload
            .as_object_mut()
            .expect("object")
            .extend(claims.as_object().expect("object").clone());
        self.sign("key-attestation+jwt", payload)
    }

    /// A JWT of type `typ` the provider signs with its certificate (in `x5c`): `claims`
    /// over an hour's validity from now.
    pub(crate) fn sign(&self, typ: &str, claims: Value) -> String {
        let mut payload = json!({
            "iat": Utc::now().timestamp(),
            "exp": Utc::now().timestamp() + 3600,
        });
        payload
            .as_object_mut()
            .expect("object")
            .extend(claims.as_object().expect("object").clone());
        let mut header = jose::header(&[("typ", typ)]);
        header.insert(
            "x5c".into(),
            json!([STANDARD.encode(self.cert.to_der().expect("der"))]),
        );
        jose::sign(header, &payload, &jwk_of(&self.key)).expect("sign")
    }
}

/// `holder`'s proof for `nonce`, carrying `attestation` in its header when given.
fn proof(holder: &HolderKey, nonce: &str, attestation: Option<&str>) -> String {
    let mut header = jose::header(&[("typ", "openid4vci-proof+jwt"), ("kid", &holder.kid())]);
    if let Some(attestation) = attestation {
        header.insert("key_attestation".into(), json!(attestation));
    }
    jose::sign(
        header,
        &json!({"aud": PUBLIC_URL, "iat": Utc::now().timestamp(), "nonce": nonce}),
        &holder.jwk,
    )
    .expect("sign")
}

async fn an_institution_requiring_key_attestations_issues_only_to_keys_its_trusted_providers_attest(
    db: Db,
) {
    let app = TestApp::spawn(db).await;
    let admin = admin(&app).await;
    let trusted = provider("Trusted Wallets");
    let stranger = provider("Unknown Wallets");

    // Settings: the providers' roots in PEM; anything else is refused.
    let (status, body) = app
        .call(
            &admin,
            "PUT",
            "/settings",
            Some(json!({"requireKeyAttestation": true, "walletProviders": "not PEM"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        (body["code"].as_str(), body["path"].as_str()),
        (Some("INVALID_WALLET_PROVIDERS"), Some("/walletProviders"))
    );
    let settings = choose(
        &app,
        &admin,
        json!({"requireKeyAttestation": true, "walletProviders": pem_of(&[&trusted.root])}),
    )
    .await;
    assert_eq!(settings["requireKeyAttestation"], true);

    // The metadata tells wallets so, for every configuration's JWT proofs.
    let (_, metadata) = app.get("/.well-known/openid-credential-issuer").await;
    for (id, configuration) in metadata["credential_configurations_supported"]
        .as_object()
        .expect("configurations")
    {
        assert_eq!(
            configuration["proof_types_supported"]["jwt"]["key_attestations_required"],
            json!({}),
            "{id}"
        );
    }

    let offer = app.offer("dc+sd-jwt", false).await;
    let access = app.access_token(&offer, None).await;
    let configuration = offer["credentialOffer"]["credential_configuration_ids"][0].clone();
    let send = |proof: String| {
        let request =
            json!({"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}});
        let app = &app;
        let access = access.clone();
        async move { app.credential_request(&access, &request).await }
    };
    let holder = HolderKey::generate(PUBLIC_URL).expect("key");
    let other = HolderKey::generate(PUBLIC_URL).expect("key");

    let nonce = app.c_nonce().await;
    let now = Utc::now().timestamp();
    let good = trusted.attest(&[&holder], json!({"nonce": nonce}));
    let mut altered: Vec<String> = good.split('.').map(str::to_owned).collect();
    altered[1] = URL_SAFE_NO_PAD.encode(
        json!({"iat": now, "exp": now + 3600, "attested_keys": [other.jwk.to_public()], "nonce": nonce})
            .to_string(),
    );
    let mut wrong_typ: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(good.split('.').next().expect("header"))
            .expect("b64"),
    )
    .expect("json");
    wrong_typ["typ"] = json!("JWT");
    let cases = [
        ("no attestation", None, "requires a key attestation"),
        (
            "another key attested",
            Some(trusted.attest(&[&other], json!({"nonce": nonce}))),
            "do not hold the proof's key",
        ),
        (
            "expired",
            Some(trusted.attest(&[&holder], json!({"nonce": nonce, "exp": now - 10}))),
            "has expired",
        ),
        (
            "another nonce",
            Some(trusted.attest(&[&holder], json!({"nonce": "another"}))),
            "not the proof's c_nonce",
        ),
        (
            "an untrusted provider",
            Some(stranger.attest(&[&holder], json!({"nonce": nonce}))),
            "not trusted",
        ),
        ("altered", Some(altered.join(".")), "does not verify"),
        (
            "not a key attestation",
            Some(format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(wrong_typ.to_string()),
                good.split_once('.').expect("jws").1
            )),
            "`typ`",
        ),
    ];
    for (why, attestation, says) in cases {
        // Each refusal comes with a fresh nonce; the attestation names the one it was made for.
        let (status, body) = send(proof(&holder, &nonce, attestation.as_deref())).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_proof")),
            "{why}: {body}"
        );
        let description = body["error_description"].as_str().unwrap_or_default();
        assert!(description.contains(says), "{why}: {description}");
    }

    // Attested by the trusted provider: issued, bound to the attested key.
    let (status, body) = send(proof(&holder, &nonce, Some(&good))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let credential = body["credentials"][0]["credential"]
        .as_str()
        .expect("credential");
    let claims = crate::openid::payload(credential);
    assert_eq!(
        claims["cnf"]["jwk"]["x"],
        json!(holder.jwk.to_public())["x"]
    );

    // Not required any more: a proof without one is served, one that comes is still checked.
    choose(
        &app,
        &admin,
        json!({"walletProviders": pem_of(&[&trusted.root])}),
    )
    .await;
    let (_, metadata) = app.get("/.well-known/openid-credential-issuer").await;
    assert!(metadata["credential_configurations_supported"]
        .as_object()
        .expect("configurations")
        .values()
        .all(|c| c["proof_types_supported"]["jwt"]
            .get("key_attestations_required")
            .is_none()));
    let offer = app.offer("dc+sd-jwt", false).await;
    let access = app.access_token(&offer, None).await;
    let request = |proof: String| json!({"credential_configuration_id": offer["credentialOffer"]["credential_configuration_ids"][0], "proofs": {"jwt": [proof]}});
    let nonce = app.c_nonce().await;
    let (status, body) = app
        .credential_request(
            &access,
            &request(proof(
                &holder,
                &nonce,
                Some(&stranger.attest(&[&holder], json!({}))),
            )),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_proof")),
        "{body}"
    );
    let nonce = app.c_nonce().await;
    let (status, body) = app
        .credential_request(&access, &request(proof(&holder, &nonce, None)))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn an_attestation_proof_gets_a_credential_for_each_key_a_trusted_provider_attests(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = admin(&app).await;
    let trusted = provider("Trusted Wallets");
    let stranger = provider("Unknown Wallets");

    // Without wallet providers, the proof type is not offered; with them, it is.
    let offered = |metadata: &Value| {
        metadata["credential_configurations_supported"]
            .as_object()
            .expect("configurations")
            .values()
            .all(|c| {
                c["proof_types_supported"]["attestation"]
                    == json!({"proof_signing_alg_values_supported": ["ES256"],
                              "key_attestations_required": {}})
            })
    };
    let (_, metadata) = app.get("/.well-known/openid-credential-issuer").await;
    assert!(!offered(&metadata));
    choose(
        &app,
        &admin,
        json!({"walletProviders": pem_of(&[&trusted.root])}),
    )
    .await;
    let (_, metadata) = app.get("/.well-known/openid-credential-issuer").await;
    assert!(offered(&metadata));

    let offer = app.offer("dc+sd-jwt", false).await;
    let access = app.access_token(&offer, None).await;
    let configuration = offer["credentialOffer"]["credential_configuration_ids"][0].clone();
    let send = |proofs: Value| {
        let request = json!({"credential_configuration_id": configuration, "proofs": proofs});
        let app = &app;
        let access = access.clone();
        async move { app.credential_request(&access, &request).await }
    };
    let first = HolderKey::generate(PUBLIC_URL).expect("key");
    let second = HolderKey::generate(PUBLIC_URL).expect("key");
    let keys = [&first, &second];

    let nonce = app.c_nonce().await;
    let good = trusted.attest(&keys, json!({"nonce": nonce}));
    let holder_proof = proof(&first, &nonce, None);
    let cases = [
        (
            "no nonce",
            json!({"attestation": [trusted.attest(&keys, json!({}))]}),
            "invalid_nonce",
            "not a fresh c_nonce",
        ),
        (
            "a nonce of its own",
            json!({"attestation": [trusted.attest(&keys, json!({"nonce": "made-up"}))]}),
            "invalid_nonce",
            "not a fresh c_nonce",
        ),
        (
            "an untrusted provider",
            json!({"attestation": [stranger.attest(&keys, json!({"nonce": nonce}))]}),
            "invalid_proof",
            "not trusted",
        ),
        (
            "two attestations",
            json!({"attestation": [good.clone(), good.clone()]}),
            "invalid_proof",
            "one key attestation",
        ),
        (
            "two proof types",
            json!({"attestation": [good.clone()], "jwt": [holder_proof]}),
            "invalid_proof",
            "one proof type",
        ),
        (
            "one key twice",
            json!({"attestation": [trusted.attest(&[&first, &first], json!({"nonce": nonce}))]}),
            "invalid_proof",
            "one key twice",
        ),
        (
            "an unknown proof type",
            json!({"ldp_vp": [good.clone()]}),
            "invalid_proof",
            "not supported",
        ),
    ];
    for (why, proofs, error, says) in cases {
        let (status, body) = send(proofs).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some(error)),
            "{why}: {body}"
        );
        let description = body["error_description"].as_str().unwrap_or_default();
        assert!(description.contains(says), "{why}: {description}");
    }

    // One attestation of two keys, with a fresh nonce: a copy bound to each key.
    let (status, body) = send(json!({"attestation": [good.clone()]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let bound: Vec<Value> = body["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .map(|c| {
            crate::openid::payload(c["credential"].as_str().expect("credential"))["cnf"]["jwk"]["x"]
                .clone()
        })
        .collect();
    assert_eq!(
        bound,
        keys.iter()
            .map(|k| json!(k.jwk.to_public())["x"].clone())
            .collect::<Vec<_>>()
    );

    // Its nonce is used up.
    let offer = app.offer("dc+sd-jwt", false).await;
    let access = app.access_token(&offer, None).await;
    let request =
        json!({"credential_configuration_id": configuration, "proofs": {"attestation": [good]}});
    let (status, body) = app.credential_request(&access, &request).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_nonce")),
        "{body}"
    );
}
