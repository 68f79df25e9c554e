//! Verifying one credential: Data Integrity, VC-JOSE (`vc+jwt`) or SD-JWT VC.

use certus_schemas::holder::sd_jwt_subject;
use certus_schemas::kyc::Assurance;
use certus_schemas::wire::{CredentialSummary, VerificationResult};
use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::Arc;

use super::report::Report;
use super::{
    check_contexts, check_jws_signature, check_schema, check_validity, check_window, checks,
    issuer_of, summary_of, types_of, Binding, UnrecognisedInput, Verifier,
};
use certus_credential::catalog::CredentialType;
use certus_credential::contexts::context_urls;
use certus_credential::data_integrity::{self, DataIntegrityError};
use certus_credential::did::{authorised_key, AuthorisedKey, Relationship};
use certus_credential::envelope::{self, MediaType};
use certus_credential::jose;
use certus_credential::sd_jwt::{self, BindingExpectations, SdJwtError};
use certus_credential::VC_V1_CONTEXT;

/// A credential in one of the securing formats.
enum Secured<'a> {
    DataIntegrity(&'a Value),
    VcJwt(&'a str),
    SdJwt(&'a str),
}

fn classify(input: &Value) -> Result<Secured<'_>, UnrecognisedInput> {
    match input {
        Value::String(token) if token.contains('~') => Ok(Secured::SdJwt(token)),
        Value::String(token) => Ok(Secured::VcJwt(token)),
        Value::Object(_) if envelope::is_enveloped(input) => match envelope::open(input) {
            Some((MediaType::VcJwt, token)) => Ok(Secured::VcJwt(token)),
            Some((MediaType::DcSdJwt, token)) => Ok(Secured::SdJwt(token)),
            Some((MediaType::VpJwt, _)) => Err(UnrecognisedInput(
                "this is a presentation: use /presentations/verify".into(),
            )),
            None => Err(UnrecognisedInput(
                "the enveloped credential's id is not a data: URL of vc+jwt or dc+sd-jwt".into(),
            )),
        },
        Value::Object(_) => Ok(Secured::DataIntegrity(input)),
        _ => Err(UnrecognisedInput(
            "verifiableCredential must be a JSON object or a JWT string".into(),
        )),
    }
}

/// The credential a JWT secures: the payload itself (VC-JOSE-COSE, VC 2.0), or its `vc`
/// claim (VC Data Model 1.1 §6.3.1) with the JWT claims mapped onto it — `iss` the issuer,
/// `nbf` `issuanceDate`, `exp` `expirationDate`, `jti` the id, `sub` the subject's id. A
/// claim that names another issuer, id or subject than the credential is an error.
pub fn credential_of_jwt(payload: &Value) -> Result<Cow<'_, Value>, String> {
    let Some(vc) = payload.get("vc") else {
        return Ok(Cow::Borrowed(payload));
    };
    let Value::Object(mut credential) = vc.clone() else {
        return Err("the vc claim is not an object".into());
    };
    if context_urls(&credential).first() != Some(&VC_V1_CONTEXT) {
        return Err(
            "a vc claim holds a VC 1.1 credential; a VC 2.0 credential is the JWT payload itself"
                .into(),
        );
    }
    let time = |claim: &str| -> Result<Option<String>, String> {
        payload
            .get(claim)
            .map(|v| {
                v.as_i64()
                    .and_then(|s| Utc.timestamp_opt(s, 0).single())
                    .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
                    .ok_or_else(|| format!("`{claim}` is not a NumericDate"))
            })
            .transpose()
    };
    let agree = |credential: &mut Map<String, Value>, key: &str, claim: &str| {
        let Some(value) = payload.get(claim) else {
            return Ok(());
        };
        let current = credential.get(key).map(|c| c.get("id").unwrap_or(c));
        match current {
            None => {
                credential.insert(key.into(), value.clone());
                Ok(())
            }
            Some(current) if current == value => Ok(()),
            Some(_) => Err(format!(
                "the JWT's `{claim}` and the credential's `{key}` differ"
            )),
        }
    };
    agree(&mut credential, "issuer", "iss")?;
    agree(&mut credential, "id", "jti")?;
    if let Some(Value::Object(subject)) = credential.get_mut("credentialSubject") {
        agree(subject, "id", "sub")?;
    }
    if let Some(from) = time("nbf")? {
        credential.insert("issuanceDate".into(), Value::String(from));
    }
    if let Some(until) = time("exp")? {
        credential.insert("expirationDate".into(), Value::String(until));
    }
    Ok(Cow::Owned(Value::Object(credential)))
}

impl Verifier {
    /// Verifies a credential in any supported form. `binding` applies to SD-JWT key binding.
    pub async fn verify_credential(
        &self,
        input: &Value,
        binding: Binding<'_>,
        now: DateTime<Utc>,
    ) -> Result<VerificationResult, UnrecognisedInput> {
        let mut report = Report::default();
        let secured = classify(input)?;
        let located = self.locate(input).await;
        if let Some(at) = located.point(now) {
            report.judge_keys_at(at);
        }
        match secured {
            Secured::DataIntegrity(doc) => self.data_integrity(&mut report, doc, now).await,
            Secured::VcJwt(token) => self.vc_jwt(&mut report, token, now).await,
            Secured::SdJwt(token) => self.sd_jwt(&mut report, token, binding, now).await,
        }
        self.check_anchor(&mut report, located);
        Ok(report.finish(Vec::new()))
    }

    /// The type version `credential` was issued under (by its `type` and `@context`).
    fn type_of(&self, credential: &Value) -> Option<Arc<CredentialType>> {
        let contexts = credential.as_object().map(context_urls).unwrap_or_default();
        self.catalog.of_credential(&types_of(credential), &contexts)
    }

    /// Reports the `issuer` check; the key when it passed.
    pub(super) async fn authorised_key(
        &self,
        report: &mut Report,
        check: &str,
        controller: Option<&str>,
        key_id: Option<&str>,
        relationship: Relationship,
    ) -> Option<AuthorisedKey> {
        let Some(controller) = controller else {
            report.fail(check, "MISSING_ISSUER", "no issuer (or holder) is named");
            return None;
        };
        let at = report.key_point();
        match authorised_key(&self.resolver, controller, key_id, relationship, at).await {
            Ok(key) => {
                report.pass(check);
                Some(key)
            }
            Err(e) if e.is_indeterminate() => {
                report.error(check, e.code(), &e);
                None
            }
            Err(e) => {
                report.fail(check, e.code(), &e);
                None
            }
        }
    }

    async fn data_integrity(&self, report: &mut Report, doc: &Value, now: DateTime<Utc>) {
        if !types_of(doc).contains(&"VerifiableCredential") {
            report.fail(
                checks::FORMAT,
                "MALFORMED_CREDENTIAL",
                "type must include VerifiableCredential",
            );
            return;
        }
        let proofs = data_integrity::proofs(doc);
        let Some(proof) = proofs.first() else {
            report.fail(
                checks::FORMAT,
                "PROOF_MISSING",
                "the credential has no proof",
            );
            return;
        };
        report.pass(checks::FORMAT);
        report.summarise(summary_of(doc));
        if !check_contexts(report, doc, &self.contexts) {
            return;
        }
        if proof.get("proofPurpose").and_then(Value::as_str) != Some("assertionMethod") {
            report.fail(
                checks::ISSUER,
                "PROOF_PURPOSE",
                "a credential proof must have proofPurpose assertionMethod",
            );
        } else {
            let vm = proof.get("verificationMethod").and_then(Value::as_str);
            self.authorised_key(
                report,
                checks::ISSUER,
                issuer_of(doc),
                vm,
                Relationship::AssertionMethod,
            )
            .await;
        }
        self.data_integrity_signature(report, doc).await;
        check_validity(report, doc, now);
        let credential_type = self.type_of(doc);
        check_schema(
            report,
            credential_type.as_deref(),
            doc.get("credentialSubject"),
            false,
        );
        self.check_status(report, doc.get("credentialStatus"), issuer_of(doc))
            .await;
        self.check_accreditation(report, issuer_of(doc), credential_type.as_deref(), now)
            .await;
    }

    /// Reports the `signature` check of a Data Integrity document.
    pub(super) async fn data_integrity_signature(&self, report: &mut Report, doc: &Value) {
        match data_integrity::verify(doc, &self.resolver, &self.contexts).await {
            Ok(()) => report.pass(checks::SIGNATURE),
            Err(e @ DataIntegrityError::CouldNotCheck(_)) => {
                report.error(checks::SIGNATURE, e.code(), &e)
            }
            Err(e) => report.fail(checks::SIGNATURE, e.code(), &e),
        }
    }

    async fn vc_jwt(&self, report: &mut Report, token: &str, now: DateTime<Utc>) {
        let decoded = match jose::decode(token) {
            Ok(d) => d,
            Err(e) => return report.fail(checks::FORMAT, e.code(), &e),
        };
        if let Some(typ) = decoded.header_str("typ") {
            if !matches!(typ, "vc+jwt" | "vc-ld+jwt" | "JWT") {
                return report.fail(
                    checks::FORMAT,
                    "WRONG_TYP",
                    format!("`typ` is `{typ}`, expected vc+jwt"),
                );
            }
        }
        let payload = match credential_of_jwt(&decoded.payload) {
            Ok(credential) => credential,
            Err(message) => return report.fail(checks::FORMAT, "MALFORMED_CREDENTIAL", message),
        };
        let payload = payload.as_ref();
        if !types_of(payload).contains(&"VerifiableCredential") {
            return report.fail(
                checks::FORMAT,
                "MALFORMED_CREDENTIAL",
                "the JWT carries no verifiable credential",
            );
        }
        report.pass(checks::FORMAT);
        report.summarise(summary_of(payload));
        check_contexts(report, payload, &self.contexts);
        let key = self
            .authorised_key(
                report,
                checks::ISSUER,
                issuer_of(payload),
                decoded.header_str("kid"),
                Relationship::AssertionMethod,
            )
            .await;
        check_jws_signature(report, &decoded, key.as_ref());
        check_validity(report, payload, now);
        let credential_type = self.type_of(payload);
        check_schema(
            report,
            credential_type.as_deref(),
            payload.get("credentialSubject"),
            false,
        );
        self.check_status(report, payload.get("credentialStatus"), issuer_of(payload))
            .await;
        self.check_accreditation(report, issuer_of(payload), credential_type.as_deref(), now)
            .await;
    }

    async fn sd_jwt(
        &self,
        report: &mut Report,
        token: &str,
        binding: Binding<'_>,
        now: DateTime<Utc>,
    ) {
        let decoded = match sd_jwt::decode(token) {
            Ok(d) => d,
            Err(e @ SdJwtError::Disclosure(_)) => {
                return report.fail(checks::DISCLOSURES, e.code(), &e)
            }
            Err(e) => return report.fail(checks::FORMAT, e.code(), &e),
        };
        match decoded.issuer_jwt.header_str("typ") {
            Some("dc+sd-jwt" | "vc+sd-jwt") => report.pass(checks::FORMAT),
            other => {
                return report.fail(
                    checks::FORMAT,
                    "WRONG_TYP",
                    format!("`typ` is {other:?}, expected dc+sd-jwt"),
                )
            }
        }
        // Digests are checked against the signed payload, so they count only once the
        // signature holds; until then they are reported after it.
        let iss = decoded.claims.get("iss").and_then(Value::as_str);
        let key = self
            .authorised_key(
                report,
                checks::ISSUER,
                iss,
                decoded.issuer_jwt.header_str("kid"),
                Relationship::AssertionMethod,
            )
            .await;
        check_jws_signature(report, &decoded.issuer_jwt, key.as_ref());
        report.pass(checks::DISCLOSURES);
        let time = |name: &str| {
            decoded
                .claims
                .get(name)
                .and_then(Value::as_i64)
                .and_then(|t| Utc.timestamp_opt(t, 0).single())
        };
        check_window(report, time("nbf"), time("exp"), now);
        self.key_binding(report, &decoded, binding, now);
        let vct = decoded
            .claims
            .get("vct")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let credential_type = self.catalog.by_vct(vct);
        let type_name = credential_type.as_ref().map(|t| t.name.as_str());
        let subject = Value::Object(sd_jwt_subject(&decoded.claims));
        report.summarise(CredentialSummary {
            issuer: iss.map(str::to_owned),
            types: vec![type_name.unwrap_or(vct).to_owned()],
            valid_from: time("nbf")
                .or(time("iat"))
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            claims: subject
                .as_object()
                .map(|c| c.keys().cloned().collect())
                .unwrap_or_default(),
            assurance: subject.as_object().and_then(Assurance::of),
        });
        check_schema(report, credential_type.as_deref(), Some(&subject), true);
        self.check_token_status(report, decoded.claims.get("status"), iss)
            .await;
        self.check_accreditation(report, iss, credential_type.as_deref(), now)
            .await;
    }

    fn key_binding(
        &self,
        report: &mut Report,
        decoded: &sd_jwt::Decoded<'_>,
        binding: Binding<'_>,
        now: DateTime<Utc>,
    ) {
        let holder = match decoded.holder_key() {
            None => {
                if binding.challenge.is_some() {
                    report.fail(
                        checks::HOLDER_BINDING,
                        "NO_HOLDER_KEY",
                        "a challenge was given but the credential is not bound to a holder key",
                    );
                } else {
                    report.skip(
                        checks::HOLDER_BINDING,
                        "the credential is not bound to a holder key",
                    );
                }
                return;
            }
            Some(Err(e)) => return report.fail(checks::HOLDER_BINDING, e.code(), &e),
            Some(Ok(jwk)) => jwk,
        };
        if decoded.key_binding.is_none() && binding.challenge.is_none() {
            report.skip(
                checks::HOLDER_BINDING,
                "no key-binding JWT presented and no challenge given",
            );
            return;
        }
        let expect = BindingExpectations {
            nonce: binding.challenge,
            audience: binding.domain,
            now: now.timestamp(),
            max_age_secs: self.max_key_binding_age_secs,
        };
        match decoded.verify_key_binding(&holder, expect) {
            Ok(()) => {
                report.pass(checks::HOLDER_BINDING);
                if binding.challenge.is_none() {
                    report.warn(
                        checks::HOLDER_BINDING,
                        "NO_CHALLENGE",
                        "no challenge was given, so a replayed presentation would pass",
                    );
                }
            }
            Err(e) => report.fail(checks::HOLDER_BINDING, e.code(), &e),
        }
    }
}
