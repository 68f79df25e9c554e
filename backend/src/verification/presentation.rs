//! Verifying a presentation: the holder's proof (Data Integrity or `vp+jwt`), its binding
//! to the verifier's challenge and domain, and every credential it carries. An SD-JWT with
//! a key-binding JWT is a presentation too.

use certus_schemas::wire::{Verdict, VerificationResult};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::credential::credential_of_jwt;
use super::report::Report;
use super::{
    check_contexts, check_jws_signature, checks, types_of, Binding, UnrecognisedInput, Verifier,
};
use certus_credential::data_integrity;
use certus_credential::did::Relationship;
use certus_credential::envelope::{self, MediaType};
use certus_credential::jose;

impl Verifier {
    /// Verifies a presentation, requiring it to be bound to `binding` where given.
    pub async fn verify_presentation(
        &self,
        input: &Value,
        binding: Binding<'_>,
        now: DateTime<Utc>,
    ) -> Result<VerificationResult, UnrecognisedInput> {
        match input {
            Value::String(token) if token.contains('~') => {
                return self.verify_credential(input, binding, now).await;
            }
            Value::String(token) => return Ok(self.vp_jwt(token, binding, now).await),
            Value::Object(_) if envelope::is_enveloped(input) => {
                return match envelope::open(input) {
                    Some((MediaType::VpJwt, token)) => Ok(self.vp_jwt(token, binding, now).await),
                    Some((MediaType::DcSdJwt, token)) => {
                        self.verify_credential(&Value::String(token.to_owned()), binding, now)
                            .await
                    }
                    _ => Err(UnrecognisedInput(
                        "the enveloped presentation's id is not a data: URL of vp+jwt or dc+sd-jwt"
                            .into(),
                    )),
                };
            }
            Value::Object(_) => {}
            _ => {
                return Err(UnrecognisedInput(
                    "verifiablePresentation must be a JSON object or a JWT string".into(),
                ))
            }
        }
        let mut report = Report::default();
        if !types_of(input).contains(&"VerifiablePresentation") {
            report.fail(
                checks::FORMAT,
                "MALFORMED_PRESENTATION",
                "type must include VerifiablePresentation",
            );
            return Ok(report.finish(Vec::new()));
        }
        let proofs = data_integrity::proofs(input);
        let Some(proof) = proofs.first() else {
            report.fail(
                checks::FORMAT,
                "PROOF_MISSING",
                "the presentation has no proof",
            );
            return Ok(report.finish(Vec::new()));
        };
        report.pass(checks::FORMAT);
        if check_contexts(&mut report, input, &self.contexts) {
            if proof.get("proofPurpose").and_then(Value::as_str) != Some("authentication") {
                report.fail(
                    checks::HOLDER,
                    "PROOF_PURPOSE",
                    "a presentation proof must have proofPurpose authentication",
                );
            } else {
                let vm = proof.get("verificationMethod").and_then(Value::as_str);
                let holder = holder_of(input).or_else(|| vm.and_then(|v| v.split('#').next()));
                self.authorised_key(
                    &mut report,
                    checks::HOLDER,
                    holder,
                    vm,
                    Relationship::Authentication,
                )
                .await;
            }
            self.data_integrity_signature(&mut report, input).await;
        }
        check_bound(
            &mut report,
            checks::CHALLENGE,
            binding.challenge,
            proof.get("challenge"),
        );
        check_bound(
            &mut report,
            checks::DOMAIN,
            binding.domain,
            proof.get("domain"),
        );
        let credentials = self
            .embedded(&mut report, input, holder_of(input), now)
            .await;
        Ok(report.finish(credentials))
    }

    async fn vp_jwt(
        &self,
        token: &str,
        binding: Binding<'_>,
        now: DateTime<Utc>,
    ) -> VerificationResult {
        let mut report = Report::default();
        let decoded = match jose::decode(token) {
            Ok(d) => d,
            Err(e) => {
                report.fail(checks::FORMAT, e.code(), &e);
                return report.finish(Vec::new());
            }
        };
        let payload = &decoded.payload;
        // VC 1.1: the presentation is the `vp` claim; the JWT's `iss`, `nonce` and `aud`
        // are its holder, challenge and domain.
        let presentation = match payload.get("vp") {
            Some(vp @ Value::Object(_)) => vp,
            _ => payload,
        };
        let typ_ok = matches!(
            decoded.header_str("typ"),
            None | Some("vp+jwt" | "vp-ld+jwt" | "JWT")
        );
        if !typ_ok || !types_of(presentation).contains(&"VerifiablePresentation") {
            report.fail(
                checks::FORMAT,
                "MALFORMED_PRESENTATION",
                "expected a vp+jwt whose payload (or, VC 1.1, whose vp claim) is a VerifiablePresentation",
            );
            return report.finish(Vec::new());
        }
        let iss = payload.get("iss").and_then(Value::as_str);
        if let (Some(holder), Some(iss)) = (holder_of(presentation), iss) {
            if holder != iss {
                report.fail(
                    checks::FORMAT,
                    "MALFORMED_PRESENTATION",
                    "the JWT's iss and the presentation's holder differ",
                );
                return report.finish(Vec::new());
            }
        }
        report.pass(checks::FORMAT);
        check_contexts(&mut report, presentation, &self.contexts);
        let holder = holder_of(presentation).or(iss);
        let key = self
            .authorised_key(
                &mut report,
                checks::HOLDER,
                holder,
                decoded.header_str("kid"),
                Relationship::Authentication,
            )
            .await;
        check_jws_signature(&mut report, &decoded, key.as_ref());
        check_bound(
            &mut report,
            checks::CHALLENGE,
            binding.challenge,
            payload.get("nonce"),
        );
        check_bound(
            &mut report,
            checks::DOMAIN,
            binding.domain,
            payload.get("aud"),
        );
        let credentials = self.embedded(&mut report, presentation, holder, now).await;
        report.finish(credentials)
    }

    /// Verifies every embedded credential and reports the `credentials` and
    /// `holderBinding` checks.
    async fn embedded(
        &self,
        report: &mut Report,
        presentation: &Value,
        holder: Option<&str>,
        now: DateTime<Utc>,
    ) -> Vec<VerificationResult> {
        let embedded: Vec<&Value> = match presentation.get("verifiableCredential") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one) => vec![one],
            None => Vec::new(),
        };
        if embedded.is_empty() {
            report.skip(
                checks::CREDENTIALS,
                "the presentation carries no credential",
            );
            report.skip(
                checks::HOLDER_BINDING,
                "the presentation carries no credential",
            );
            return Vec::new();
        }
        let mut results = Vec::with_capacity(embedded.len());
        let mut subjects_match = true;
        for credential in &embedded {
            let result = match self
                .verify_credential(credential, Binding::default(), now)
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    let mut r = Report::default();
                    r.fail(checks::FORMAT, "MALFORMED_CREDENTIAL", e);
                    r.finish(Vec::new())
                }
            };
            results.push(result);
            if let (Some(holder), Some(subject)) = (holder, subject_id(credential)) {
                subjects_match &= subject == holder;
            }
        }
        if results.iter().any(|r| r.verdict == Verdict::Invalid) {
            report.fail(
                checks::CREDENTIALS,
                "CREDENTIAL_INVALID",
                "an embedded credential is not valid",
            );
        } else if results.iter().any(|r| r.verdict == Verdict::Indeterminate) {
            report.error(
                checks::CREDENTIALS,
                "CREDENTIAL_UNCHECKABLE",
                "an embedded credential could not be fully checked",
            );
        } else {
            report.pass(checks::CREDENTIALS);
        }
        // A holder may present credentials about someone else (a parent, an employer's
        // certificate): the mismatch is reported, and refuses the presentation only where
        // a policy requires `holderBinding` (OpenID4VP requires it where its query does).
        if subjects_match {
            report.pass(checks::HOLDER_BINDING);
        } else {
            report.skip(
                checks::HOLDER_BINDING,
                "a credential's subject is not the presentation's holder",
            );
            report.warn(
                checks::HOLDER_BINDING,
                HOLDER_MISMATCH,
                "a credential's subject is not the presentation's holder; require the holderBinding check in a policy to refuse such presentations",
            );
        }
        results
    }
}

/// The warning code of a presentation whose holder is not its credentials' subject.
pub const HOLDER_MISMATCH: &str = "HOLDER_MISMATCH";

fn holder_of(presentation: &Value) -> Option<&str> {
    let holder = presentation.get("holder")?;
    holder
        .as_str()
        .or_else(|| holder.get("id").and_then(Value::as_str))
}

/// The subject id of a credential: in clear for Data Integrity, in the payload of an
/// enveloped `vc+jwt` (an SD-JWT binds its holder by key instead).
fn subject_id(credential: &Value) -> Option<String> {
    let id_of = |c: &Value| {
        c.get("credentialSubject")?
            .get("id")?
            .as_str()
            .map(str::to_owned)
    };
    let of_jwt = |token: &str| {
        let payload = jose::decode(token).ok()?.payload;
        id_of(credential_of_jwt(&payload).ok()?.as_ref())
    };
    match envelope::open(credential) {
        Some((MediaType::VcJwt, token)) => of_jwt(token),
        Some(_) => None,
        // A VC 1.1 JWT, as a string.
        None if credential.is_string() => credential
            .as_str()
            .and_then(|t| (!t.contains('~')).then(|| of_jwt(t)).flatten()),
        None => id_of(credential),
    }
}

/// Reports whether a presentation is bound to what the verifier expects. `actual` is the
/// presentation's value: a string, or an array of strings (a JWT `aud`, a proof `domain`).
fn check_bound(report: &mut Report, check: &str, expected: Option<&str>, actual: Option<&Value>) {
    let code = if check == checks::CHALLENGE {
        "CHALLENGE_MISMATCH"
    } else {
        "DOMAIN_MISMATCH"
    };
    let Some(want) = expected else {
        return report.skip(check, format!("no {check} was asked for"));
    };
    let matches = match actual {
        None => {
            return report.fail(
                check,
                code,
                format!("the presentation is not bound to a {check}"),
            )
        }
        Some(Value::String(got)) => got == want,
        Some(Value::Array(items)) => items.iter().any(|g| g.as_str() == Some(want)),
        Some(_) => false,
    };
    if matches {
        report.pass(check);
    } else {
        report.fail(
            check,
            code,
            format!("the presentation is bound to another {check}"),
        );
    }
}
