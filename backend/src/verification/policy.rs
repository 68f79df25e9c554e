//! Verification policies: what a verifier requires beyond a valid credential — checks that
//! must have passed, accepted issuers, a maximum age, required types and claims. A policy
//! is applied to a finished result, adding a `policy` check and the outcome of each
//! requirement; a presentation satisfies a policy when every credential in it does.

use certus_schemas::kyc::{Assurance, KycRequirements};
use certus_schemas::wire::{
    Check, Outcome, PolicyOutcome, PolicyRequirement, VerificationPolicy, VerificationResult,
};
use chrono::{DateTime, NaiveDate, Utc};

use super::checks;
use super::report::amend;

/// The checks a policy may require.
const KNOWN_CHECKS: &[&str] = &[
    checks::FORMAT,
    checks::CONTEXTS,
    checks::ISSUER,
    checks::HOLDER,
    checks::SIGNATURE,
    checks::DISCLOSURES,
    checks::VALIDITY,
    checks::SCHEMA,
    checks::HOLDER_BINDING,
    checks::CHALLENGE,
    checks::DOMAIN,
    checks::CREDENTIALS,
    checks::ANCHORED,
    checks::STATUS,
    checks::ACCREDITATION,
];

/// Most entries of each list of a policy.
pub const MAX_ENTRIES: usize = 64;
/// Longest entry of a policy's lists, in bytes.
pub const MAX_ENTRY_LEN: usize = 512;

/// Refuses a policy with lists over the bounds, or that names a check no verification
/// carries out (a typo would otherwise make every credential fail, or worse, be ignored).
pub fn validate(policy: &VerificationPolicy) -> Result<(), (String, &'static str)> {
    // Each entry becomes a requirement in the answer: bounded, so a request cannot make
    // an answer many times its size.
    for (name, list) in [
        ("requiredChecks", &policy.required_checks),
        ("acceptedIssuers", &policy.accepted_issuers),
        ("requiredTypes", &policy.required_types),
        ("requiredClaims", &policy.required_claims),
    ] {
        if list.len() > MAX_ENTRIES || list.iter().any(|e| e.len() > MAX_ENTRY_LEN) {
            return Err((
                format!(
                    "{name} holds at most {MAX_ENTRIES} entries of at most {MAX_ENTRY_LEN} bytes"
                ),
                name,
            ));
        }
    }
    match policy
        .required_checks
        .iter()
        .find(|c| !KNOWN_CHECKS.contains(&c.as_str()))
    {
        Some(unknown) => Err((
            format!(
                "requiredChecks names `{unknown}`, which is not a check; known: {}",
                KNOWN_CHECKS.join(", ")
            ),
            "requiredChecks",
        )),
        None => Ok(()),
    }
}

fn requirement(name: String, satisfied: bool, message: String) -> PolicyRequirement {
    PolicyRequirement {
        requirement: name,
        satisfied,
        message,
    }
}

/// The requirements of `policy` for one credential's result.
fn evaluate(
    policy: &VerificationPolicy,
    result: &VerificationResult,
    now: DateTime<Utc>,
) -> Vec<PolicyRequirement> {
    let summary = result.credential.clone().unwrap_or_default();
    let mut requirements = Vec::new();
    for name in &policy.required_checks {
        let outcome = result
            .results
            .iter()
            .find(|c| &c.check == name)
            .map(|c| c.outcome);
        requirements.push(requirement(
            format!("requiredChecks: {name}"),
            outcome == Some(Outcome::Passed),
            match outcome {
                Some(Outcome::Passed) => format!("{name} passed"),
                Some(other) => format!("{name} was {}", outcome_name(other)),
                None => format!("{name} does not apply to this credential"),
            },
        ));
    }
    if !policy.accepted_issuers.is_empty() {
        let issuer = summary.issuer.as_deref().unwrap_or_default();
        requirements.push(requirement(
            "acceptedIssuers".into(),
            policy.accepted_issuers.iter().any(|i| i == issuer),
            format!("issued by `{issuer}`"),
        ));
    }
    if let Some(max_age) = policy.max_age_seconds {
        let valid_from = summary
            .valid_from
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        let (satisfied, message) = match valid_from {
            Some(from) => {
                let age = (now - from).num_seconds();
                (
                    age <= max_age as i64,
                    format!("{age} s old; at most {max_age} s accepted"),
                )
            }
            None => (
                false,
                "the credential states no time it became valid".into(),
            ),
        };
        requirements.push(requirement("maxAgeSeconds".into(), satisfied, message));
    }
    for wanted in &policy.required_types {
        requirements.push(requirement(
            format!("requiredTypes: {wanted}"),
            summary.types.contains(wanted),
            format!("types: {}", summary.types.join(", ")),
        ));
    }
    if let Some(kyc) = &policy.kyc {
        requirements.extend(evaluate_kyc(kyc, summary.assurance.as_ref(), now));
    }
    for claim in &policy.required_claims {
        let present = summary.claims.contains(claim);
        requirements.push(requirement(
            format!("requiredClaims: {claim}"),
            present,
            if present {
                format!("`{claim}` is present")
            } else {
                format!("`{claim}` is not present (or not disclosed)")
            },
        ));
    }
    requirements
}

/// The KYC requirements: the level of assurance, and the age of the check in days (a
/// check dated after today fails too).
fn evaluate_kyc(
    kyc: &KycRequirements,
    assurance: Option<&Assurance>,
    now: DateTime<Utc>,
) -> Vec<PolicyRequirement> {
    let mut requirements = Vec::new();
    if let Some(min) = kyc.min_assurance {
        let (satisfied, message) = match assurance {
            Some(a) => (
                a.level >= min,
                format!(
                    "assurance `{}`; `{}` or higher accepted",
                    a.level.as_str(),
                    min.as_str()
                ),
            ),
            None => (false, "the credential discloses no assuranceLevel".into()),
        };
        requirements.push(requirement("kyc.minAssurance".into(), satisfied, message));
    }
    if let Some(max_days) = kyc.max_check_age_days {
        let checked = assurance
            .and_then(|a| a.check_date.as_deref())
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        let (satisfied, message) = match checked {
            Some(date) => {
                let age = (now.date_naive() - date).num_days();
                if age < 0 {
                    (false, format!("the check is dated {date}, after today"))
                } else {
                    (
                        age <= i64::from(max_days),
                        format!("checked {age} days ago; at most {max_days} accepted"),
                    )
                }
            }
            None => (false, "the credential discloses no checkDate".into()),
        };
        requirements.push(requirement(
            "kyc.maxCheckAgeDays".into(),
            satisfied,
            message,
        ));
    }
    requirements
}

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::Error => "not checkable",
        Outcome::Skipped => "skipped",
    }
}

fn conclude(
    result: &mut VerificationResult,
    policy_id: Option<&str>,
    requirements: Vec<PolicyRequirement>,
) {
    let unmet: Vec<String> = requirements
        .iter()
        .filter(|r| !r.satisfied)
        .map(|r| format!("{} ({})", r.requirement, r.message))
        .collect();
    let satisfied = unmet.is_empty();
    let check = Check {
        check: checks::POLICY.to_owned(),
        outcome: if satisfied {
            Outcome::Passed
        } else {
            Outcome::Failed
        },
        code: (!satisfied).then(|| "POLICY_NOT_SATISFIED".to_owned()),
        message: Some(if satisfied {
            "every requirement of the policy holds".to_owned()
        } else {
            format!("unmet: {}", unmet.join("; "))
        }),
    };
    result.policy = Some(PolicyOutcome {
        policy_id: policy_id.map(str::to_owned),
        satisfied,
        requirements,
    });
    amend(result, check);
}

/// Applies `policy` to a credential's result.
pub fn apply_to_credential(
    result: &mut VerificationResult,
    policy: &VerificationPolicy,
    policy_id: Option<&str>,
    now: DateTime<Utc>,
) {
    let requirements = evaluate(policy, result, now);
    conclude(result, policy_id, requirements);
}

/// Applies `policy` to every credential of a presentation's result, and to the
/// presentation: it holds when the presentation carries credentials and each holds.
pub fn apply_to_presentation(
    result: &mut VerificationResult,
    policy: &VerificationPolicy,
    policy_id: Option<&str>,
    now: DateTime<Utc>,
) {
    for credential in &mut result.credentials {
        apply_to_credential(credential, policy, policy_id, now);
    }
    let mut requirements: Vec<PolicyRequirement> = result
        .credentials
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let satisfied = c.policy.as_ref().is_some_and(|p| p.satisfied);
            requirement(
                format!("credential {i}"),
                satisfied,
                if satisfied {
                    "satisfies the policy".into()
                } else {
                    "does not satisfy the policy".into()
                },
            )
        })
        .collect();
    if requirements.is_empty() {
        requirements.push(requirement(
            "credentials".into(),
            false,
            "the presentation carries no credential".into(),
        ));
    }
    conclude(result, policy_id, requirements);
}

#[cfg(test)]
mod tests {
    use super::*;
    use certus_schemas::kyc::AssuranceLevel;

    fn assurance(level: AssuranceLevel, date: Option<&str>) -> Assurance {
        Assurance {
            level,
            check_date: date.map(str::to_owned),
            check_method: None,
        }
    }

    fn verdicts(kyc: &KycRequirements, a: Option<&Assurance>) -> Vec<(String, bool)> {
        let now = DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        evaluate_kyc(kyc, a, now)
            .into_iter()
            .map(|r| (r.requirement, r.satisfied))
            .collect()
    }

    #[test]
    fn assurance_must_reach_the_minimum() {
        let kyc = KycRequirements {
            min_assurance: Some(AssuranceLevel::Substantial),
            ..Default::default()
        };
        let at = |level| verdicts(&kyc, Some(&assurance(level, None)))[0].1;
        assert!(!at(AssuranceLevel::Low));
        assert!(at(AssuranceLevel::Substantial));
        assert!(at(AssuranceLevel::High));
        assert_eq!(
            verdicts(&kyc, None),
            vec![("kyc.minAssurance".to_owned(), false)]
        );
    }

    #[test]
    fn the_check_must_be_recent_and_not_in_the_future() {
        let kyc = KycRequirements {
            max_check_age_days: Some(30),
            ..Default::default()
        };
        let on =
            |date: &str| verdicts(&kyc, Some(&assurance(AssuranceLevel::High, Some(date))))[0].1;
        assert!(on("2026-11-21"));
        assert!(on("2026-10-22"));
        assert!(!on("2026-10-21"));
        assert!(!on("2026-11-22"));
        assert!(!on("21/11/2026"));
        assert!(!verdicts(&kyc, Some(&assurance(AssuranceLevel::High, None)))[0].1);
    }
}
