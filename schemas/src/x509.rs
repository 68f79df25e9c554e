//! X.509 certificate chains of verifiers, for the client identifier prefixes `x509_san_dns`
//! and `x509_hash` (OpenID4VP 1.0 §5.9.3): a request object signed by the key of the first
//! certificate of its `x5c` header, the chain leading to a root its reader trusts.
//!
//! Shared by the node (which checks the chain an institution installs) and both wallets
//! (which check a request's chain against the trust anchors they were given). Only what
//! HAIP uses is read: ECDSA P-256 keys and signatures with SHA-256.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{Decode, DecodePem, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, SubjectAltName};
use x509_cert::Certificate;

/// The client identifier prefix of a verifier named by a DNS name its certificate carries.
pub const SAN_DNS_PREFIX: &str = "x509_san_dns:";
/// The client identifier prefix of a verifier named by its certificate's SHA-256.
pub const HASH_PREFIX: &str = "x509_hash:";

/// `ecdsa-with-SHA256` (RFC 5758).
pub const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// `id-ecPublicKey` (RFC 5480).
pub const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// The P-256 curve, `prime256v1` (RFC 5480).
pub const PRIME256V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// Why a certificate chain is refused, as a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X509Error(pub String);

impl std::fmt::Display for X509Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for X509Error {}

fn error(message: impl Into<String>) -> X509Error {
    X509Error(message.into())
}

/// A certificate as read, with its DER bytes.
#[derive(Debug, Clone)]
pub struct Cert {
    pub der: Vec<u8>,
    pub cert: Certificate,
}

impl Cert {
    /// Reads DER bytes.
    pub fn from_der(der: &[u8]) -> Result<Self, X509Error> {
        let cert = Certificate::from_der(der)
            .map_err(|e| error(format!("not a DER X.509 certificate: {e}")))?;
        Ok(Self {
            der: der.to_vec(),
            cert,
        })
    }

    /// The DNS names of its subject alternative names.
    pub fn dns_names(&self) -> Vec<String> {
        let Ok(Some((_, names))) = self.cert.tbs_certificate.get::<SubjectAltName>() else {
            return Vec::new();
        };
        names
            .0
            .iter()
            .filter_map(|n| match n {
                GeneralName::DnsName(name) => Some(name.to_string()),
                _ => None,
            })
            .collect()
    }

    /// The base64url SHA-256 of its DER bytes: an `x509_hash` client identifier's value.
    pub fn hash(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(&self.der))
    }

    /// Its subject, as RFC 4514 text.
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    /// When it stops being valid, in seconds since the epoch.
    pub fn not_after(&self) -> i64 {
        unix(self.cert.tbs_certificate.validity.not_after)
    }

    /// Its public key, which must be a P-256 key.
    pub fn public_key(&self) -> Result<VerifyingKey, X509Error> {
        let spki = &self.cert.tbs_certificate.subject_public_key_info;
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        if spki.algorithm.oid != EC_PUBLIC_KEY || curve != Some(PRIME256V1) {
            return Err(error(format!(
                "the certificate of {} has a key of another kind than P-256",
                self.subject()
            )));
        }
        VerifyingKey::from_sec1_bytes(spki.subject_public_key.raw_bytes())
            .map_err(|_| error("the certificate's P-256 key is not a point of the curve"))
    }

    /// Its public key as a JWK (`kty` EC, `crv` P-256).
    pub fn public_jwk(&self) -> Result<Value, X509Error> {
        let point = self.public_key()?.to_encoded_point(false);
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            return Err(error("the certificate's P-256 key is the identity"));
        };
        Ok(json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(x),
            "y": URL_SAFE_NO_PAD.encode(y),
        }))
    }

    /// Checks compact JWS `jws` is signed by its key (`ES256`).
    pub fn verify_jws(&self, jws: &str) -> Result<(), X509Error> {
        let bad =
            || error("the request object's signature does not verify with its certificate's key");
        let (input, signature) = jws.rsplit_once('.').ok_or_else(bad)?;
        let header = input
            .split('.')
            .next()
            .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
            .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
            .ok_or_else(bad)?;
        if header["alg"] != "ES256" {
            return Err(error(format!(
                "a certificate's P-256 key signs with ES256, not {}",
                header["alg"]
            )));
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .ok()
            .and_then(|s| Signature::from_slice(&s).ok())
            .ok_or_else(bad)?;
        self.public_key()?
            .verify(input.as_bytes(), &signature)
            .map_err(|_| bad())
    }

    /// Whether `issuer`'s key signed this certificate (and names it its issuer).
    fn issued_by(&self, issuer: &Cert) -> Result<(), X509Error> {
        if self.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
            return Err(error(format!(
                "the certificate of {} names {} its issuer, not {}",
                self.subject(),
                self.cert.tbs_certificate.issuer,
                issuer.subject()
            )));
        }
        if self.cert.signature_algorithm.oid != ECDSA_WITH_SHA256 {
            return Err(error(format!(
                "the certificate of {} is signed with another algorithm than ECDSA with SHA-256",
                self.subject()
            )));
        }
        let tbs = self
            .cert
            .tbs_certificate
            .to_der()
            .map_err(|e| error(e.to_string()))?;
        let signature = self
            .cert
            .signature
            .as_bytes()
            .and_then(|b| Signature::from_der(b).ok())
            .ok_or_else(|| error("a certificate's signature is not an ECDSA signature"))?;
        issuer.public_key()?.verify(&tbs, &signature).map_err(|_| {
            error(format!(
                "the certificate of {} is not signed by the key of {}",
                self.subject(),
                issuer.subject()
            ))
        })
    }

    fn is_ca(&self) -> bool {
        matches!(
            self.cert.tbs_certificate.get::<BasicConstraints>(),
            Ok(Some((_, BasicConstraints { ca: true, .. })))
        )
    }

    fn check_time(&self, now: i64) -> Result<(), X509Error> {
        let validity = &self.cert.tbs_certificate.validity;
        if now < unix(validity.not_before) {
            return Err(error(format!(
                "the certificate of {} is not valid yet",
                self.subject()
            )));
        }
        if now > unix(validity.not_after) {
            return Err(error(format!(
                "the certificate of {} has expired",
                self.subject()
            )));
        }
        Ok(())
    }

    /// Whether it signed itself.
    fn self_issued(&self) -> bool {
        self.issued_by(self).is_ok()
    }
}

fn unix(time: x509_cert::time::Time) -> i64 {
    i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// A certificate chain, the end-entity's certificate first, each certified by the next.
#[derive(Debug, Clone)]
pub struct Chain(Vec<Cert>);

impl Chain {
    /// Reads an `x5c` JOSE header: standard base64 DER, the leaf first (RFC 7515 §4.1.6).
    pub fn from_x5c(x5c: &Value) -> Result<Self, X509Error> {
        let items = x5c
            .as_array()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| error("x5c must be a non-empty array of certificates"))?;
        let certs = items
            .iter()
            .map(|item| {
                let der = item
                    .as_str()
                    .and_then(|b| STANDARD.decode(b).ok())
                    .ok_or_else(|| error("an x5c item is not standard base64"))?;
                Cert::from_der(&der)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self(certs))
    }

    /// Reads PEM text: one or more `CERTIFICATE` blocks, the leaf first.
    pub fn from_pem(text: &str) -> Result<Self, X509Error> {
        let certs = certificates_in(text)?;
        if certs.is_empty() {
            return Err(error("no PEM CERTIFICATE block found"));
        }
        Ok(Self(certs))
    }

    /// The end-entity's certificate.
    pub fn leaf(&self) -> &Cert {
        &self.0[0]
    }

    /// The certificates, the leaf first.
    pub fn certs(&self) -> &[Cert] {
        &self.0
    }

    /// As an `x5c` JOSE header.
    pub fn x5c(&self) -> Value {
        json!(self
            .0
            .iter()
            .map(|c| STANDARD.encode(&c.der))
            .collect::<Vec<_>>())
    }

    /// As PEM text.
    pub fn pem(&self) -> String {
        self.0.iter().map(|c| pem(&c.der)).collect()
    }

    /// Checks the chain holds together at `now` (seconds since the epoch): every
    /// certificate valid, each signed by the next, which is a CA; the last, when it signed
    /// itself, by its own key. Which root to trust is the reader's call ([`Self::verify`]).
    pub fn check(&self, now: i64) -> Result<(), X509Error> {
        for cert in &self.0 {
            cert.check_time(now)?;
        }
        for pair in self.0.windows(2) {
            pair[0].issued_by(&pair[1])?;
            if !pair[1].is_ca() {
                return Err(error(format!(
                    "the certificate of {} certifies another key but is not a CA's",
                    pair[1].subject()
                )));
            }
        }
        let last = &self.0[self.0.len() - 1];
        if last.cert.tbs_certificate.issuer == last.cert.tbs_certificate.subject
            && !last.self_issued()
        {
            return Err(error(format!(
                "the certificate of {} names itself its issuer but is not signed by its key",
                last.subject()
            )));
        }
        self.leaf().public_key().map(|_| ())
    }

    /// Checks the chain at `now` and that it leads to one of `anchors`: one of its
    /// certificates is an anchor, or its last is signed by one (a CA valid at `now`).
    pub fn verify(&self, anchors: &[Cert], now: i64) -> Result<(), X509Error> {
        self.check(now)?;
        if self
            .0
            .iter()
            .any(|c| anchors.iter().any(|a| a.der == c.der))
        {
            return Ok(());
        }
        let last = &self.0[self.0.len() - 1];
        let trusted = anchors.iter().any(|anchor| {
            anchor.is_ca() && anchor.check_time(now).is_ok() && last.issued_by(anchor).is_ok()
        });
        if trusted {
            Ok(())
        } else {
            Err(error(format!(
                "the certificate chain of {} leads to no trusted root",
                self.leaf().subject()
            )))
        }
    }
}

/// The certificates of PEM text (none when it has no `CERTIFICATE` block).
pub fn certificates_in(text: &str) -> Result<Vec<Cert>, X509Error> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut certs = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let end = rest[start..]
            .find(END)
            .map(|e| start + e + END.len())
            .ok_or_else(|| error("a PEM CERTIFICATE block has no end line"))?;
        let cert = Certificate::from_pem(&rest[start..end])
            .map_err(|e| error(format!("a PEM block is not an X.509 certificate: {e}")))?;
        let der = cert.to_der().map_err(|e| error(e.to_string()))?;
        certs.push(Cert { der, cert });
        rest = &rest[end..];
    }
    Ok(certs)
}

/// PEM text of a DER certificate.
pub fn pem(der: &[u8]) -> String {
    pem_block("CERTIFICATE", der)
}

/// PEM text of DER bytes under `label`, in lines of 64 characters (RFC 7468).
pub fn pem_block(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// Checks a verifier's request object (its JOSE `header`, its `client_id`, and its
/// `response_uri`) names the key of its `x5c` chain as the client identifier asks
/// (OpenID4VP 1.0 §5.9.3), the chain leading to one of `anchors` at `now`: for
/// `x509_san_dns`, the leaf names the DNS name, which is the response URI's host; for
/// `x509_hash`, the leaf's hash is the identifier. The leaf, whose key checks the
/// object's signature; `None` when the client identifier has another prefix.
pub fn verifier_certificate(
    header: &Value,
    client_id: &str,
    response_uri: &str,
    anchors: &[Cert],
    now: i64,
) -> Result<Option<Cert>, X509Error> {
    let (dns, hash) = match (
        client_id.strip_prefix(SAN_DNS_PREFIX),
        client_id.strip_prefix(HASH_PREFIX),
    ) {
        (None, None) => return Ok(None),
        names => names,
    };
    let chain = Chain::from_x5c(&header["x5c"]).map_err(|e| {
        error(format!(
            "a request of an X.509 verifier carries its chain: {e}"
        ))
    })?;
    let leaf = chain.leaf();
    if let Some(dns) = dns {
        if !leaf.dns_names().iter().any(|n| n == dns) {
            return Err(error(format!(
                "the verifier's certificate does not name {dns}"
            )));
        }
        if host_of(response_uri) != Some(dns) {
            return Err(error(format!(
                "the request's response_uri is not at {dns}, the host its client identifier names"
            )));
        }
    }
    if hash.is_some_and(|h| h != leaf.hash()) {
        return Err(error(
            "the client identifier is not the hash of the request's certificate",
        ));
    }
    chain.verify(anchors, now)?;
    leaf.public_key()?;
    Ok(Some(leaf.clone()))
}

/// The host of an `http(s)` URL.
pub fn host_of(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    Some(match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    })
}

/// Whether `name` is a DNS name a certificate can carry: labels of letters, digits and
/// hyphens, 1 to 63 characters, not starting or ending with a hyphen; 253 characters in all.
pub fn is_dns_name(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_are_labels_of_letters_digits_and_hyphens() {
        for good in [
            "certus.test",
            "verifier.bank-a.example",
            "localhost",
            "127.0.0.1",
        ] {
            assert!(is_dns_name(good), "{good}");
        }
        for bad in [
            "", "a..b", "-a.test", "a-.test", "a b.test", "a_b.test", "ä.test", "a.test.",
        ] {
            assert!(!is_dns_name(bad), "{bad}");
        }
        assert!(!is_dns_name(&format!("{}.test", "a".repeat(64))));
    }

    #[test]
    fn the_host_of_a_url_leaves_out_port_path_and_user() {
        assert_eq!(
            host_of("https://certus.test/openid4vp/responses/1"),
            Some("certus.test")
        );
        assert_eq!(host_of("http://127.0.0.1:8080/x?y#z"), Some("127.0.0.1"));
        assert_eq!(host_of("https://user@certus.test:443"), Some("certus.test"));
        assert_eq!(host_of("openid4vp://certus.test"), None);
    }

    #[test]
    fn an_x5c_that_is_not_certificates_is_refused_by_name() {
        let refused = |x5c: Value| Chain::from_x5c(&x5c).expect_err("refused").0;
        assert!(refused(json!([])).contains("non-empty array"));
        assert!(refused(json!("MIIB")).contains("non-empty array"));
        assert!(refused(json!(["***"])).contains("standard base64"));
        assert!(refused(json!(["AAAA"])).contains("not a DER X.509 certificate"));
        assert!(Chain::from_pem("no PEM here").is_err());
        assert!(certificates_in("-----BEGIN CERTIFICATE-----\nAAAA")
            .expect_err("unterminated")
            .0
            .contains("no end line"));
    }

    #[test]
    fn a_request_of_another_prefix_is_left_to_its_own_check() {
        let other = verifier_certificate(
            &json!({}),
            "decentralized_identifier:did:key:z6Mk",
            "https://v.test/r",
            &[],
            0,
        );
        assert!(matches!(other, Ok(None)), "{other:?}");
        let missing = verifier_certificate(&json!({}), "x509_hash:abc", "https://v.test/r", &[], 0)
            .expect_err("no x5c");
        assert!(missing.0.contains("carries its chain"), "{missing}");
    }
}
