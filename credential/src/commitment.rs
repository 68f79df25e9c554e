//! The commitment under which a secured credential is anchored on the chain.
//!
//! It is computed from what the holder presents, so any verifier can recompute it:
//! - Data Integrity: the credential with its proof, canonicalised with JCS (RFC 8785), so
//!   key order and whitespace do not matter;
//! - `vc+jwt`: the compact JWS;
//! - `dc+sd-jwt`: the issuer-signed JWT (before the first `~`), so the commitment is the
//!   same whichever disclosures a presentation carries.
//!
//! Each credential carries a random `id`, so the commitment cannot be guessed from the
//! claims nor linked to the credential's id.

use serde_json::Value;

use super::envelope;
use certus_ledger::transaction::credential_commitment;
use certus_ledger::Digest;

/// The commitment of a secured credential (a Data Integrity document, an enveloped
/// credential, or a bare JWT / SD-JWT string); `None` for anything else.
pub fn commitment(secured: &Value) -> Option<Digest> {
    match secured {
        Value::String(token) => Some(of_token(token)),
        Value::Object(_) if envelope::is_enveloped(secured) => {
            envelope::open(secured).map(|(_, token)| of_token(token))
        }
        Value::Object(_) => {
            let mut canonical = String::new();
            jcs(secured, &mut canonical);
            Some(credential_commitment(canonical.as_bytes()))
        }
        _ => None,
    }
}

/// Appends the JSON Canonicalization Scheme (RFC 8785) form of `value`: object members
/// sorted by their UTF-16 code units, no whitespace, strings escaped as ECMAScript does,
/// numbers in ECMAScript form. (Integers are exact; a non-integral number uses Rust's
/// shortest round-trip form, which is ECMAScript's except for exponents beyond ±21,
/// values credentials do not carry.)
fn jcs(value: &Value, out: &mut String) {
    match value {
        Value::Null | Value::Bool(_) | Value::String(_) => out.push_str(&value.to_string()),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => out.push_str(&i.to_string()),
            (_, Some(u), _) => out.push_str(&u.to_string()),
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 1e21 => {
                out.push_str(&format!("{f:.0}"))
            }
            (_, _, Some(f)) => out.push_str(&f.to_string()),
            _ => out.push_str(&n.to_string()),
        },
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                jcs(item, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<_> = members.iter().collect();
            sorted.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                jcs(item, out);
            }
            out.push('}');
        }
    }
}

fn of_token(token: &str) -> Digest {
    let issuer_signed = token.split('~').next().unwrap_or(token);
    credential_commitment(issuer_signed.as_bytes())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::envelope::{envelop_credential, MediaType};

    #[test]
    fn key_order_does_not_change_a_data_integrity_commitment() {
        let a = json!({"id": "urn:uuid:1", "proof": {"type": "DataIntegrityProof"}});
        let b: Value = serde_json::from_str(
            r#"{ "proof": {"type":"DataIntegrityProof"}, "id":"urn:uuid:1" }"#,
        )
        .expect("json");
        assert_eq!(commitment(&a), commitment(&b));
        assert_ne!(commitment(&a), commitment(&json!({"id": "urn:uuid:2"})));
    }

    #[test]
    fn jcs_matches_the_rfc_8785_example_shapes() {
        let value: Value = serde_json::from_str(
            r#"{"b": [1, 2.5, -0.5, 1e3, true, null], "a": "\u00e9\n\"", "\u20ac": {}, "A": 10000000000}"#,
        )
        .expect("json");
        let mut out = String::new();
        jcs(&value, &mut out);
        assert_eq!(
            out,
            r#"{"A":10000000000,"a":"é\n\"","b":[1,2.5,-0.5,1000,true,null],"€":{}}"#
        );
    }

    #[test]
    fn an_sd_jwt_commits_to_its_issuer_jwt_whatever_is_disclosed() {
        let all = "eyJ.issuer.sig~disclosure1~disclosure2~";
        let some = "eyJ.issuer.sig~disclosure2~";
        assert_eq!(commitment(&json!(all)), commitment(&json!(some)));
        let enveloped = envelop_credential(MediaType::DcSdJwt, all);
        assert_eq!(commitment(&enveloped), commitment(&json!("eyJ.issuer.sig")));
        assert!(commitment(&json!(42)).is_none());
    }
}
