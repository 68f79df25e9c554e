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
        Value::Object(_) => crate::data_integrity::jcs::canonical(secured)
            .ok()
            .map(|canonical| credential_commitment(&canonical)),
        _ => None,
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
    fn an_sd_jwt_commits_to_its_issuer_jwt_whatever_is_disclosed() {
        let all = "eyJ.issuer.sig~disclosure1~disclosure2~";
        let some = "eyJ.issuer.sig~disclosure2~";
        assert_eq!(commitment(&json!(all)), commitment(&json!(some)));
        let enveloped = envelop_credential(MediaType::DcSdJwt, all);
        assert_eq!(commitment(&enveloped), commitment(&json!("eyJ.issuer.sig")));
        assert!(commitment(&json!(42)).is_none());
    }
}
