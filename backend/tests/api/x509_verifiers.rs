//! Verifiers named by X.509 (OpenID4VP 1.0 §5.9.3, HAIP 1.0, decision 26): an institution
//! makes a certificate key, self-signed for development or certified by its CA from a
//! signing request (OpenSSL plays the CA here, an implementation of its own); requests
//! named `x509_san_dns` or `x509_hash` are signed by that key with the chain in `x5c`, and
//! a wallet holding the root accepts them, and no other. The HAIP request option.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use certus_credential::jose;
use certus_schemas::portal::Role;
use certus_schemas::x509::{self, Cert, Chain};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private, Public};
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509Name, X509Req, X509};
use serde_json::{json, Map, Value};
use ssi::jwk::JWK;

use crate::helpers::{Caller, Db, TestApp, PUBLIC_URL};
use crate::on_both_databases;
use crate::openid::{answer_for, held, post_form, request_info};

on_both_databases!(
    a_self_signed_certificate_names_the_verifier_by_dns_name_and_by_hash,
    a_ca_certifies_the_signing_request_and_its_chain_is_installed_once_it_fits,
    requests_named_by_x509_need_a_fitting_certificate_and_haip_requests_follow_the_profile,
);

/// The host of [`PUBLIC_URL`], which x509_san_dns requests are named by.
const HOST: &str = "certus.test";

pub(crate) async fn admin(app: &TestApp) -> Caller {
    app.user("default", "admin@default.test", Role::Admin).await;
    app.sign_in("admin@default.test").await
}

async fn make(app: &TestApp, admin: &Caller, body: Value) -> Value {
    let (status, made) = app
        .call(admin, "POST", "/verifier/certificates", Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made
}

/// Makes a presentation request with `extra` members; the API's answer.
async fn ask(app: &TestApp, extra: Value) -> (StatusCode, Value) {
    let mut body = json!({"credentialType": "KycCredential", "claims": ["givenName"], "purpose": "Name check"});
    body.as_object_mut()
        .expect("object")
        .extend(extra.as_object().expect("object").clone());
    app.post("/presentation-requests", &body, Some(&app.token))
        .await
}

/// The request object of `created`, as a wallet fetches it by GET.
async fn fetched(app: &TestApp, created: &Value) -> String {
    let path = created["requestUri"]
        .as_str()
        .expect("uri")
        .replace(PUBLIC_URL, "");
    let (status, jwt) = app
        .send(Request::get(&path).body(Body::empty()).expect("request"))
        .await;
    assert_eq!(status, StatusCode::OK, "{jwt}");
    jwt.as_str().expect("jwt").to_owned()
}

/// What a wallet trusting `anchors` makes of request object `jwt`: the payload, once the
/// chain and the signature hold.
fn wallet_reads(jwt: &str, anchors: &[Cert]) -> Result<Value, String> {
    let decoded = jose::decode(jwt).map_err(|e| e.to_string())?;
    let payload = decoded.payload.clone();
    let key = x509::verifier_certificate(
        &Value::Object(decoded.header.clone()),
        payload["client_id"].as_str().unwrap_or_default(),
        payload["response_uri"].as_str().unwrap_or_default(),
        anchors,
        chrono::Utc::now().timestamp(),
    )
    .map_err(|e| e.to_string())?
    .ok_or("not a request named by X.509")?;
    // Both ways a wallet checks it: ssi with the leaf's JWK (the command line), and the
    // shared P-256 check (the web wallet).
    let jwk: JWK = serde_json::from_value(key.public_jwk().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let by_ssi = decoded.verify(&jwk).map_err(|e| e.to_string());
    let shared = key.verify_jws(jwt).map_err(|e| e.to_string());
    assert_eq!(by_ssi.is_ok(), shared.is_ok(), "{by_ssi:?} {shared:?}");
    by_ssi?;
    Ok(payload)
}

fn anchors_of(pem: &str) -> Vec<Cert> {
    x509::certificates_in(pem).expect("PEM")
}

async fn a_self_signed_certificate_names_the_verifier_by_dns_name_and_by_hash(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = admin(&app).await;
    let made = make(&app, &admin, json!({"selfSigned": true})).await;
    assert_eq!(made["status"], "active", "{made}");
    assert_eq!(made["dnsName"], HOST, "the public URL's host by default");
    assert!(made.get("csr").is_none());
    let pem = made["chain"].as_str().expect("chain");

    // OpenSSL reads the certificate: the DNS name, a P-256 key, signed by itself.
    let cert = X509::from_pem(pem.as_bytes()).expect("OpenSSL reads it");
    let names: Vec<String> = cert
        .subject_alt_names()
        .expect("SAN")
        .iter()
        .filter_map(|n| n.dnsname().map(str::to_owned))
        .collect();
    assert_eq!(names, [HOST]);
    let public = cert.public_key().expect("key");
    assert_eq!(
        public.ec_key().expect("EC").group().curve_name(),
        Some(Nid::X9_62_PRIME256V1)
    );
    assert!(cert.verify(&public).expect("verify"), "self-signed");
    let chain = Chain::from_pem(pem).expect("chain");
    let hash = chain.leaf().hash();
    assert_eq!(
        made["clientIds"],
        json!([format!("x509_san_dns:{HOST}"), format!("x509_hash:{hash}")])
    );

    for (prefix, client_id) in [
        ("x509_san_dns", format!("x509_san_dns:{HOST}")),
        ("x509_hash", format!("x509_hash:{hash}")),
    ] {
        let (status, created) = ask(&app, json!({"clientIdPrefix": prefix})).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let link = created["authorizationRequest"].as_str().expect("link");
        assert!(link.starts_with("openid4vp://?client_id=x509_"), "{link}");
        let jwt = fetched(&app, &created).await;
        let decoded = jose::decode(&jwt).expect("jws");
        assert_eq!(decoded.header["alg"], "ES256");
        assert_eq!(decoded.header["x5c"], chain.x5c());
        assert_eq!(decoded.header.get("kid"), None);
        // A wallet given the certificate as its anchor reads the request …
        let object = wallet_reads(&jwt, &anchors_of(pem)).expect("trusted");
        assert_eq!(object["client_id"], client_id);
        // … and none without it.
        let untrusted = wallet_reads(&jwt, &[]).expect_err("no anchor");
        assert!(untrusted.contains("no trusted root"), "{untrusted}");
        // Altered, the object no longer verifies.
        let mut forged = decoded.payload.clone();
        forged["response_uri"] = json!(format!("https://{HOST}/elsewhere"));
        let (head, rest) = jwt.split_once('.').expect("jws");
        let signature = rest.split_once('.').expect("jws").1;
        let forged = format!(
            "{head}.{}.{signature}",
            base64_url(forged.to_string().as_bytes())
        );
        assert!(wallet_reads(&forged, &anchors_of(pem)).is_err());

        // The holder answers it; the key-binding JWT's audience is the X.509 client id.
        let (key, credential, _) = app.redeem("dc+sd-jwt").await;
        let presentation = answer_for(
            &key,
            held("dc+sd-jwt", credential, &key),
            &object,
            &client_id,
        )
        .await;
        let vp_token = json!({ "credential": [presentation] }).to_string();
        let state = object["state"].as_str().expect("state");
        let (status, body) =
            post_form(&app, &object, &[("vp_token", &vp_token), ("state", state)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let info = request_info(&app, &created).await;
        assert_eq!(info["status"], "accepted", "{info}");
    }

    // A wallet fetching by POST gets the object signed anew under the same certificate.
    let (_, created) = ask(&app, json!({"clientIdPrefix": "x509_hash"})).await;
    let path = created["requestUri"]
        .as_str()
        .expect("uri")
        .replace(PUBLIC_URL, "");
    let (status, _, posted) = app
        .send_typed(
            Request::post(&path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("wallet_nonce=n-42"))
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{posted}");
    let object = wallet_reads(posted.as_str().expect("jwt"), &anchors_of(pem)).expect("trusted");
    assert_eq!(object["wallet_nonce"], "n-42");
}

/// A P-256 key of OpenSSL's.
pub(crate) fn ec_key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("group");
    PKey::from_ec_key(EcKey::generate(&group).expect("key")).expect("pkey")
}

fn name(cn: &str) -> X509Name {
    let mut name = X509Name::builder().expect("name");
    name.append_entry_by_nid(Nid::COMMONNAME, cn).expect("CN");
    name.build()
}

/// A certificate `issuer` (its certificate and key; none: `subject` signs itself) issues
/// for `public` and `subject`, valid for `days` from `from_days` days from now.
pub(crate) struct Issue<'a> {
    pub(crate) subject: &'a str,
    pub(crate) public: &'a PKey<Public>,
    pub(crate) issuer: Option<(&'a X509, &'a PKey<Private>)>,
    pub(crate) signer: &'a PKey<Private>,
    pub(crate) ca: bool,
    pub(crate) dns: Option<&'a str>,
    pub(crate) from_days: i64,
    pub(crate) days: i64,
}

pub(crate) fn issue(issue: Issue<'_>) -> X509 {
    let mut builder = X509::builder().expect("builder");
    builder.set_version(2).expect("v3");
    let mut serial = BigNum::new().expect("bn");
    serial.rand(64, MsbOption::MAYBE_ZERO, false).expect("rand");
    builder
        .set_serial_number(&serial.to_asn1_integer().expect("int"))
        .expect("serial");
    let subject = name(issue.subject);
    builder.set_subject_name(&subject).expect("subject");
    match issue.issuer {
        Some((cert, _)) => builder.set_issuer_name(cert.subject_name()),
        None => builder.set_issuer_name(&subject),
    }
    .expect("issuer");
    builder.set_pubkey(issue.public).expect("key");
    let now = chrono::Utc::now().timestamp();
    builder
        .set_not_before(&Asn1Time::from_unix(now + issue.from_days * 86400).expect("time"))
        .expect("nbf");
    builder
        .set_not_after(
            &Asn1Time::from_unix(now + (issue.from_days + issue.days) * 86400).expect("time"),
        )
        .expect("naf");
    if issue.ca {
        builder
            .append_extension(BasicConstraints::new().critical().ca().build().expect("bc"))
            .expect("ext");
        builder
            .append_extension(
                KeyUsage::new()
                    .key_cert_sign()
                    .crl_sign()
                    .build()
                    .expect("ku"),
            )
            .expect("ext");
    }
    if let Some(dns) = issue.dns {
        let san = SubjectAlternativeName::new()
            .dns(dns)
            .build(&builder.x509v3_context(issue.issuer.map(|(c, _)| c.as_ref()), None))
            .expect("san");
        builder.append_extension(san).expect("ext");
    }
    builder
        .sign(issue.signer, MessageDigest::sha256())
        .expect("sign");
    builder.build()
}

/// The public half of `key`.
pub(crate) fn public(key: &PKey<Private>) -> PKey<Public> {
    PKey::public_key_from_pem(&key.public_key_to_pem().expect("pem")).expect("public key")
}

/// A CA's certificate `issuer` (its certificate and key) issues for `public`.
fn ca_certificate(subject: &str, public: &PKey<Public>, issuer: (&X509, &PKey<Private>)) -> X509 {
    issue(Issue {
        subject,
        public,
        issuer: Some(issuer),
        signer: issuer.1,
        ca: true,
        dns: None,
        from_days: -1,
        days: 1000,
    })
}

/// A root CA of OpenSSL's: its certificate and key.
pub(crate) fn root(cn: &str) -> (X509, PKey<Private>) {
    let key = ec_key();
    let cert = issue(Issue {
        subject: cn,
        public: &public(&key),
        issuer: None,
        signer: &key,
        ca: true,
        dns: None,
        from_days: -1,
        days: 3650,
    });
    (cert, key)
}

pub(crate) fn pem_of(certs: &[&X509]) -> String {
    certs
        .iter()
        .map(|c| String::from_utf8(c.to_pem().expect("pem")).expect("utf-8"))
        .collect()
}

async fn a_ca_certifies_the_signing_request_and_its_chain_is_installed_once_it_fits(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = admin(&app).await;
    // Only admins make and install certificates; anyone of the institution reads them.
    let (status, body) = app
        .call(
            &Caller::Key(app.token.clone()),
            "POST",
            "/verifier/certificates",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = app
        .call(
            &admin,
            "POST",
            "/verifier/certificates",
            Some(json!({"dnsName": "not a name"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "INVALID_DNS_NAME");

    let first = make(&app, &admin, json!({"selfSigned": true})).await;
    let made = make(&app, &admin, json!({"dnsName": HOST})).await;
    assert_eq!(made["status"], "pending");
    assert!(made.get("chain").is_none());
    let id = made["id"].as_str().expect("id");

    // OpenSSL reads the signing request: signed by the key it names, for the DNS name.
    let csr = X509Req::from_pem(made["csr"].as_str().expect("csr").as_bytes()).expect("CSR");
    let requested = csr.public_key().expect("key");
    assert!(csr.verify(&requested).expect("verify"), "signed by its key");
    assert_eq!(
        csr.subject_name()
            .entries_by_nid(Nid::COMMONNAME)
            .next()
            .expect("CN")
            .data()
            .as_slice(),
        HOST.as_bytes()
    );
    assert_eq!(csr.extensions().expect("the SAN asked for").len(), 1);

    // The institution's CA: a root, and an intermediate that certifies the key.
    let (root_cert, root_key) = root("Certus Test Root");
    let middle_key = ec_key();
    let middle_public = public(&middle_key);
    let middle = ca_certificate(
        "Certus Test Issuing CA",
        &middle_public,
        (&root_cert, &root_key),
    );
    let leaf_for = |public: &PKey<Public>, dns: &str, from_days: i64, days: i64| {
        issue(Issue {
            subject: HOST,
            public,
            issuer: Some((&middle, &middle_key)),
            signer: &middle_key,
            ca: false,
            dns: Some(dns),
            from_days,
            days,
        })
    };
    let install = |pem: String| {
        let admin = admin.clone();
        let app = &app;
        async move {
            app.call(
                &admin,
                "PUT",
                &format!("/verifier/certificates/{id}/chain"),
                Some(json!({ "chain": pem })),
            )
            .await
        }
    };
    let refused = |(status, body): (StatusCode, Value), code: &str| {
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["path"], "/chain", "{body}");
    };

    // What does not fit is refused, and leaves the certificate pending.
    let stranger = public(&ec_key());
    let good = leaf_for(&requested, HOST, -1, 90);
    refused(
        install(pem_of(&[&leaf_for(&stranger, HOST, -1, 90), &middle])).await,
        "CERTIFICATE_KEY_MISMATCH",
    );
    refused(
        install(pem_of(&[
            &leaf_for(&requested, "other.test", -1, 90),
            &middle,
        ]))
        .await,
        "CERTIFICATE_NAME_MISMATCH",
    );
    refused(
        install(pem_of(&[&leaf_for(&requested, HOST, -100, 90), &middle])).await,
        "INVALID_CERTIFICATE_CHAIN",
    );
    refused(
        install(pem_of(&[&good, &root_cert])).await,
        "INVALID_CERTIFICATE_CHAIN",
    );
    refused(install("not PEM".into()).await, "INVALID_CERTIFICATE_CHAIN");
    let (other_root, other_root_key) = root("Another Root");
    let forged_middle = ca_certificate(
        "Certus Test Issuing CA",
        &middle_public,
        (&other_root, &other_root_key),
    );
    // The chain holds together without its root; only a wallet decides which root to trust.
    let (status, body) = app
        .call(&admin, "GET", &format!("/verifier/certificates/{id}"), None)
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("pending"))
    );

    let (status, installed) = install(pem_of(&[&good, &middle, &root_cert])).await;
    assert_eq!(status, StatusCode::OK, "{installed}");
    assert_eq!(installed["status"], "active");
    assert_eq!(installed["selfSigned"], false);
    refused_twice(install(pem_of(&[&good, &middle])).await);
    let (_, all) = app
        .call(
            &Caller::Key(app.token.clone()),
            "GET",
            "/verifier/certificates",
            None,
        )
        .await;
    let statuses: Vec<(&str, &str)> = all
        .as_array()
        .expect("list")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().expect("id"),
                c["status"].as_str().expect("status"),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            (id, "active"),
            (first["id"].as_str().expect("id"), "superseded")
        ]
    );

    // Requests are now signed under the CA's certificate; a wallet trusting the root reads
    // them, one trusting another root, or the intermediate forged under it, does not.
    let (status, created) = ask(&app, json!({"clientIdPrefix": "x509_san_dns"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let jwt = fetched(&app, &created).await;
    let root_pem = pem_of(&[&root_cert]);
    let object = wallet_reads(&jwt, &anchors_of(&root_pem)).expect("trusted root");
    assert_eq!(object["client_id"], format!("x509_san_dns:{HOST}"));
    assert!(wallet_reads(&jwt, &anchors_of(&pem_of(&[&other_root]))).is_err());
    // The request object with another chain in its header, its signature as it was.
    let with_chain = |certs: &[&X509]| {
        let chain = Chain::from_pem(&pem_of(certs)).expect("chain");
        let mut header: Map<String, Value> = jose::decode(&jwt).expect("jws").header;
        header.insert("x5c".into(), chain.x5c());
        format!(
            "{}.{}",
            base64_url(Value::Object(header).to_string().as_bytes()),
            jwt.split_once('.').expect("jws").1
        )
    };
    let error = wallet_reads(
        &with_chain(&[&good, &forged_middle]),
        &anchors_of(&root_pem),
    )
    .expect_err("forged CA");
    assert!(error.contains("leads to no trusted root"), "{error}");
    // Nor one whose intermediate is swapped for a CA of the same name but another key.
    let swapped = ca_certificate(
        "Certus Test Issuing CA",
        &public(&ec_key()),
        (&root_cert, &root_key),
    );
    let error = wallet_reads(&with_chain(&[&good, &swapped]), &anchors_of(&root_pem))
        .expect_err("swapped CA");
    assert!(error.contains("is not signed by the key of"), "{error}");
}

fn refused_twice((status, body): (StatusCode, Value)) {
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "CERTIFICATE_INSTALLED");
}

async fn requests_named_by_x509_need_a_fitting_certificate_and_haip_requests_follow_the_profile(
    db: Db,
) {
    let app = TestApp::spawn(db).await;
    let admin = admin(&app).await;
    let (status, body) = ask(&app, json!({"clientIdPrefix": "x509_hash"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "NO_VERIFIER_CERTIFICATE");
    let (status, body) = ask(&app, json!({"clientIdPrefix": "x509_uri"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // A certificate for another name than this node's host names requests by hash only.
    let made = make(
        &app,
        &admin,
        json!({"selfSigned": true, "dnsName": "verifier.example"}),
    )
    .await;
    let (status, body) = ask(&app, json!({"clientIdPrefix": "x509_san_dns"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "VERIFIER_CERTIFICATE_UNFIT");
    let (status, created) = ask(&app, json!({"clientIdPrefix": "x509_hash"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    wallet_reads(
        &fetched(&app, &created).await,
        &anchors_of(made["chain"].as_str().expect("chain")),
    )
    .expect("x509_hash does not tie the name to the host");

    // The HAIP profile: x509_hash, an encrypted answer, SD-JWT VCs, a haip:// link.
    let (status, created) = ask(&app, json!({"profile": "haip"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let link = created["authorizationRequest"].as_str().expect("link");
    assert!(link.starts_with("haip://?client_id=x509_hash%3A"), "{link}");
    assert!(link.contains("request_uri_method=post"), "{link}");
    let object = wallet_reads(
        &fetched(&app, &created).await,
        &anchors_of(made["chain"].as_str().expect("chain")),
    )
    .expect("trusted");
    assert_eq!(object["response_mode"], "direct_post.jwt");
    assert_eq!(
        object["dcql_query"]["credentials"][0]["format"],
        "dc+sd-jwt"
    );
    assert!(object["client_metadata"]["jwks"]["keys"][0]["x"].is_string());
    let (status, again) = app
        .get_authorised(&format!(
            "/presentation-requests/{}",
            created["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        again["authorizationRequest"].as_str(),
        Some(link),
        "{again}"
    );
    for (extra, path) in [
        (
            json!({"profile": "haip", "clientIdPrefix": "x509_san_dns"}),
            "/clientIdPrefix",
        ),
        (
            json!({"profile": "haip", "responseMode": "direct_post"}),
            "/responseMode",
        ),
        (json!({"profile": "haip", "format": "ldp_vc"}), "/query"),
    ] {
        let (status, body) = ask(&app, extra.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{extra}: {body}");
        assert_eq!(body["code"], "INVALID_PRESENTATION_REQUEST");
        assert_eq!(body["path"], path, "{body}");
    }
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
