//! Wallet attestations (OpenID4VCI 1.0 Annex E, HAIP 1.0, decision 26): a wallet
//! authenticates at the pushed authorization and token endpoints with its provider's
//! attestation (`OAuth-Client-Attestation`) and a proof that it holds the attested key
//! (`OAuth-Client-Attestation-PoP`). An institution may require one; one that comes is
//! checked either way: the provider, the time, the client, the proof's key, audience,
//! freshness and challenge.

use axum::http::{HeaderMap, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use certus_credential::jose;
use certus_schemas::holder::Key;
use certus_wallet::HolderKey;
use chrono::Utc;
use serde_json::{json, Value};

use crate::authorization_code::{code_grant, issuer_state, pkce, required_pairs, Flow, CLIENT};
use crate::helpers::{Caller, Db, TestApp, PUBLIC_URL};
use crate::key_attestation::{choose, provider, Provider};
use crate::on_both_databases;
use crate::openid::{pre_authorized_code, PRE_AUTH};
use crate::x509_verifiers::{admin, pem_of};

on_both_databases!(
    an_institution_requiring_wallet_attestations_serves_only_wallets_its_trusted_providers_attest,
    a_wallet_attestation_authenticates_the_authorization_code_flow_at_par_and_token,
);

/// A wallet instance: its `client_id` and the key its provider attests.
struct Wallet {
    client_id: String,
    key: HolderKey,
}

impl Wallet {
    fn new(client_id: &str) -> Self {
        Self {
            client_id: client_id.to_owned(),
            key: HolderKey::generate(PUBLIC_URL).expect("key"),
        }
    }

    /// `provider`'s attestation of this wallet, with `claims` over the defaults.
    fn attested_by(&self, provider: &Provider, claims: Value) -> String {
        let mut payload = json!({
            "iss": "https://provider.example",
            "sub": self.client_id,
            "cnf": {"jwk": self.key.jwk.to_public()},
            "wallet_name": "E2E Wallet",
        });
        payload
            .as_object_mut()
            .expect("object")
            .extend(claims.as_object().expect("object").clone());
        provider.sign("oauth-client-attestation+jwt", payload)
    }

    /// A proof of possession of the attested key, with `claims` over the defaults, signed
    /// by `key` (the attested one unless given).
    fn pop(&self, claims: Value, key: Option<&HolderKey>) -> String {
        let mut payload = json!({
            "aud": PUBLIC_URL,
            "iat": Utc::now().timestamp(),
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        payload
            .as_object_mut()
            .expect("object")
            .extend(claims.as_object().expect("object").clone());
        let header = jose::header(&[("typ", "oauth-client-attestation-pop+jwt")]);
        jose::sign(header, &payload, &key.unwrap_or(&self.key).jwk).expect("sign")
    }
}

/// A refused token request: why, the headers sent, the `client_id` named, and what the
/// refusal says.
type Case<'a> = (
    &'a str,
    Vec<(&'static str, String)>,
    Option<&'static str>,
    &'a str,
);

/// The two headers of an attestation and its proof.
fn headers<'a>(attestation: &'a str, pop: &'a str) -> [(&'static str, &'a str); 2] {
    [
        ("OAuth-Client-Attestation", attestation),
        ("OAuth-Client-Attestation-PoP", pop),
    ]
}

/// Asserts `answer` is the OAuth `error` with `status`, its description saying `saying`.
fn assert_refused(
    answer: &(StatusCode, HeaderMap, Value),
    status: StatusCode,
    error: &str,
    saying: &str,
) {
    assert_eq!(
        (answer.0, answer.2["error"].as_str()),
        (status, Some(error)),
        "{saying}: {}",
        answer.2
    );
    let description = answer.2["error_description"].as_str().unwrap_or_default();
    assert!(description.contains(saying), "{saying}: {description}");
}

/// The institution trusts `providers` and requires wallet attestations, or not.
async fn require(app: &TestApp, admin: &Caller, providers: &[&Provider], required: bool) {
    let roots: Vec<_> = providers.iter().map(|p| &p.root).collect();
    let choice = json!({"requireWalletAttestation": required, "walletProviders": pem_of(&roots)});
    let settings = choose(app, admin, choice).await;
    assert_eq!(settings["requireWalletAttestation"], required);
}

async fn an_institution_requiring_wallet_attestations_serves_only_wallets_its_trusted_providers_attest(
    db: Db,
) {
    let app = TestApp::spawn(db).await;
    let admin = admin(&app).await;
    let trusted = provider("Trusted Wallets");
    let stranger = provider("Unknown Wallets");
    require(&app, &admin, &[&trusted], true).await;

    // The authorization server metadata names the method and the challenge endpoint.
    let (_, metadata) = app.get("/.well-known/oauth-authorization-server").await;
    assert_eq!(
        metadata["token_endpoint_auth_methods_supported"],
        json!(["none", "attest_jwt_client_auth"])
    );
    assert_eq!(
        metadata["challenge_endpoint"],
        format!("{PUBLIC_URL}/openid4vci/challenge")
    );

    let wallet = Wallet::new("wallet-instance-1");
    let good = wallet.attested_by(&trusted, json!({}));
    let offer = app.offer("dc+sd-jwt", false).await;
    let code = pre_authorized_code(&offer);
    let grant = [
        ("grant_type", PRE_AUTH),
        ("pre-authorized_code", code.as_str()),
    ];
    let token = |headers: Vec<(&'static str, String)>, client_id: Option<&'static str>| {
        let app = &app;
        let mut pairs = grant.to_vec();
        pairs.extend(client_id.map(|c| ("client_id", c)));
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            app.form_post_with("/openid4vci/token", &pairs, &headers)
                .await
        }
    };
    let both = |attestation: &str, pop: String| {
        headers(attestation, &pop)
            .map(|(n, v)| (n, v.to_owned()))
            .to_vec()
    };

    let now = Utc::now().timestamp();
    let other_key = HolderKey::generate(PUBLIC_URL).expect("key");
    let mut altered: Vec<String> = good.split('.').map(str::to_owned).collect();
    altered[1] = URL_SAFE_NO_PAD.encode(
        json!({"sub": "wallet-instance-1", "exp": now + 3600,
               "cnf": {"jwk": other_key.jwk.to_public()}})
        .to_string(),
    );
    let cases: Vec<Case> = vec![
        ("none", vec![], None, "requires a wallet attestation"),
        (
            "no proof",
            vec![("OAuth-Client-Attestation", good.clone())],
            None,
            "send both",
        ),
        (
            "an untrusted provider",
            both(
                &wallet.attested_by(&stranger, json!({})),
                wallet.pop(json!({}), None),
            ),
            None,
            "provider is not trusted",
        ),
        (
            "expired",
            both(
                &wallet.attested_by(&trusted, json!({"exp": now - 10})),
                wallet.pop(json!({}), None),
            ),
            None,
            "has expired",
        ),
        (
            "altered to attest another key",
            both(&altered.join("."), wallet.pop(json!({}), Some(&other_key))),
            None,
            "does not verify",
        ),
        (
            "a proof by another key",
            both(&good, wallet.pop(json!({}), Some(&other_key))),
            None,
            "not signed by the attested key",
        ),
        (
            "a proof for another issuer",
            both(
                &good,
                wallet.pop(json!({"aud": "https://other.example"}), None),
            ),
            None,
            "`aud`",
        ),
        (
            "an old proof",
            both(&good, wallet.pop(json!({"iat": now - 3600}), None)),
            None,
            "`iat`",
        ),
        (
            "a proof naming another client",
            both(&good, wallet.pop(json!({"iss": "someone-else"}), None)),
            None,
            "`iss`",
        ),
        (
            "another client_id",
            both(&good, wallet.pop(json!({}), None)),
            Some("another-wallet"),
            "client_id is not the client",
        ),
    ];
    for (why, sent, client_id, says) in cases {
        let answer = token(sent, client_id).await;
        assert_refused(&answer, StatusCode::UNAUTHORIZED, "invalid_client", says);
        assert!(answer.1.get("www-authenticate").is_none(), "{why}");
    }

    // A challenge this issuer did not give: refused with a fresh one, which is taken.
    let answer = token(
        both(&good, wallet.pop(json!({"challenge": "made-up"}), None)),
        None,
    )
    .await;
    assert_refused(
        &answer,
        StatusCode::BAD_REQUEST,
        "use_attestation_challenge",
        "challenge",
    );
    let fresh = answer.1["oauth-client-attestation-challenge"]
        .to_str()
        .expect("a fresh challenge")
        .to_owned();
    let pop = wallet.pop(json!({"challenge": fresh}), None);
    let answer = token(both(&good, pop.clone()), Some("wallet-instance-1")).await;
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.2);
    assert!(answer.2["access_token"].is_string());

    // Offers of their own for the next three steps.
    let grant_of = |offer: &Value| pre_authorized_code(offer);
    let codes = [
        grant_of(&app.offer("dc+sd-jwt", false).await),
        grant_of(&app.offer("dc+sd-jwt", false).await),
        grant_of(&app.offer("dc+sd-jwt", false).await),
    ];
    let pairs = |code: &str| {
        [
            ("grant_type", PRE_AUTH.to_owned()),
            ("pre-authorized_code", code.to_owned()),
        ]
    };
    let post = |code: &str, attestation: &str, pop: &str| {
        let app = &app;
        let pairs = pairs(code);
        let (attestation, pop) = (attestation.to_owned(), pop.to_owned());
        async move {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(n, v)| (*n, v.as_str())).collect();
            app.form_post_with("/openid4vci/token", &pairs, &headers(&attestation, &pop))
                .await
        }
    };
    // The challenge is used up with its proof.
    let answer = post(&codes[0], &good, &pop).await;
    assert_refused(
        &answer,
        StatusCode::BAD_REQUEST,
        "use_attestation_challenge",
        "challenge",
    );
    // A proof without a challenge is taken once; again, for another offer, it is refused.
    let plain = wallet.pop(json!({}), None);
    let answer = post(&codes[0], &good, &plain).await;
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.2);
    let answer = post(&codes[1], &good, &plain).await;
    assert_refused(
        &answer,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "used before",
    );
    // A challenge from the challenge endpoint, in the earlier drafts' `nonce`, is taken.
    let (status, body) = app
        .post_raw(
            "/openid4vci/challenge",
            crate::openid::FORM,
            Vec::new(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let challenge = body["attestation_challenge"].as_str().expect("challenge");
    let answer = post(
        &codes[2],
        &good,
        &wallet.pop(json!({"nonce": challenge}), None),
    )
    .await;
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.2);

    // Not required any more: a wallet without one is served; one that comes is checked.
    require(&app, &admin, &[&trusted], false).await;
    let offer = app.offer("dc+sd-jwt", false).await;
    let code = pre_authorized_code(&offer);
    let pairs = [
        ("grant_type", PRE_AUTH),
        ("pre-authorized_code", code.as_str()),
    ];
    let untrusted = wallet.attested_by(&stranger, json!({}));
    let answer = app
        .form_post_with(
            "/openid4vci/token",
            &pairs,
            &headers(&untrusted, &wallet.pop(json!({}), None)),
        )
        .await;
    assert_refused(
        &answer,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "not trusted",
    );
    let answer = app.form_post_with("/openid4vci/token", &pairs, &[]).await;
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.2);
}

async fn a_wallet_attestation_authenticates_the_authorization_code_flow_at_par_and_token(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = admin(&app).await;
    let trusted = provider("Trusted Wallets");
    require(&app, &admin, &[&trusted], true).await;
    let wallet = Wallet::new(CLIENT);
    let attestation = wallet.attested_by(&trusted, json!({}));

    let offer = app.authorization_code_offer().await;
    let (verifier, challenge) = pkce();
    let state = issuer_state(&offer);
    let mut pairs = required_pairs(&challenge, &state);
    pairs.push(("state", "wallet-state"));
    // Pushed without one: refused; the attestation of another client: refused.
    let answer = app.form_post_with("/openid4vci/par", &pairs, &[]).await;
    assert_refused(
        &answer,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "requires a wallet attestation",
    );
    let someone = Wallet::new("someone-else").attested_by(&trusted, json!({}));
    let answer = app
        .form_post_with(
            "/openid4vci/par",
            &pairs,
            &headers(&someone, &wallet.pop(json!({}), None)),
        )
        .await;
    assert_refused(
        &answer,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "not signed by the attested key",
    );
    let answer = app
        .form_post_with(
            "/openid4vci/par",
            &pairs,
            &headers(&attestation, &wallet.pop(json!({}), None)),
        )
        .await;
    assert_eq!(answer.0, StatusCode::CREATED, "{}", answer.2);
    let flow = Flow {
        verifier,
        offer,
        request_uri: answer.2["request_uri"]
            .as_str()
            .expect("request_uri")
            .to_owned(),
    };
    let code = app.authorize(&flow).await;

    // The token: refused without the attestation — and the code still works with it.
    let grant = code_grant(&code, &flow.verifier);
    let answer = app.form_post_with("/openid4vci/token", &grant, &[]).await;
    assert_refused(
        &answer,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "requires a wallet attestation",
    );
    let answer = app
        .form_post_with(
            "/openid4vci/token",
            &grant,
            &headers(&attestation, &wallet.pop(json!({}), None)),
        )
        .await;
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.2);
    assert_eq!(answer.2["token_type"], "Bearer");
}
