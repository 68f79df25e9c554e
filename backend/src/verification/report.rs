//! Building a [`VerificationResult`] check by check.

use certus_credential::did::certus::At;
use certus_schemas::wire::{
    AnchorInfo, Check, CredentialSummary, Outcome, Problem, PublishedList, Verdict,
    VerificationResult,
};

/// The checks of one verification, in the order they ran.
#[derive(Debug, Default)]
pub struct Report {
    results: Vec<Check>,
    warnings: Vec<Problem>,
    anchor: Option<AnchorInfo>,
    status_lists: Vec<PublishedList>,
    summary: Option<CredentialSummary>,
    /// Where the verified credential stands on the chain: issuer keys are judged there.
    key_point: Option<At>,
}

impl Report {
    fn push(&mut self, check: &str, outcome: Outcome, code: Option<&str>, message: Option<String>) {
        self.results.push(Check {
            check: check.to_owned(),
            outcome,
            code: code.map(str::to_owned),
            message,
        });
    }

    /// The check held.
    pub fn pass(&mut self, check: &str) {
        self.push(check, Outcome::Passed, None, None);
    }

    /// The check held, with what it found.
    pub fn pass_with(&mut self, check: &str, message: String) {
        self.push(check, Outcome::Passed, None, Some(message));
    }

    /// The `anchored` check held: the credential is in a sealed block — issued, when its
    /// status lists (checked before) are another member's, at that member's node.
    pub fn anchored(&mut self, check: &str, mut anchor: AnchorInfo) {
        anchor.member = self.status_lists.iter().find_map(|l| l.member.clone());
        let mut message = format!(
            "anchored in block {} of chain `{}` at {}",
            anchor.height, anchor.chain_id, anchor.time
        );
        if let Some(member) = &anchor.member {
            message.push_str(&format!(", issued by member {member}"));
        }
        self.push(check, Outcome::Passed, None, Some(message));
        self.anchor = Some(anchor);
    }

    /// Sets the point of the chain issuer keys are judged at.
    pub fn judge_keys_at(&mut self, at: At) {
        self.key_point = Some(at);
    }

    /// The point of the chain issuer keys are judged at (`None`: now).
    pub fn key_point(&self) -> Option<At> {
        self.key_point
    }

    /// Records what the credential says about itself.
    pub fn summarise(&mut self, summary: CredentialSummary) {
        self.summary = Some(summary);
    }

    /// Records a status-list version a check read.
    pub fn saw_status_list(&mut self, list: PublishedList) {
        self.status_lists.push(list);
    }

    /// The check was carried out and does not hold.
    pub fn fail(&mut self, check: &str, code: &str, message: impl ToString) {
        self.push(
            check,
            Outcome::Failed,
            Some(code),
            Some(message.to_string()),
        );
    }

    /// The check could not be carried out.
    pub fn error(&mut self, check: &str, code: &str, message: impl ToString) {
        self.push(check, Outcome::Error, Some(code), Some(message.to_string()));
    }

    /// The check does not apply.
    pub fn skip(&mut self, check: &str, message: impl ToString) {
        self.push(check, Outcome::Skipped, None, Some(message.to_string()));
    }

    /// Something worth knowing that does not change the verdict.
    pub fn warn(&mut self, check: &str, code: &str, message: impl ToString) {
        self.warnings.push(Problem {
            check: check.to_owned(),
            code: code.to_owned(),
            message: message.to_string(),
        });
    }

    /// The result, with the embedded credentials' results (presentations).
    pub fn finish(self, credentials: Vec<VerificationResult>) -> VerificationResult {
        let mut result = VerificationResult {
            verified: false,
            verdict: Verdict::Indeterminate,
            checks: Vec::new(),
            errors: Vec::new(),
            warnings: self.warnings,
            results: self.results,
            credentials,
            anchor: self.anchor,
            status_lists: self.status_lists,
            credential: self.summary,
            policy: None,
        };
        conclude(&mut result);
        result
    }
}

/// Adds a check to a finished result and concludes it again.
pub fn amend(result: &mut VerificationResult, check: Check) {
    result.results.push(check);
    conclude(result);
}

/// The verdict, the names of the checks carried out and the problems, from the checks: a
/// failure outweighs an error, and an error outweighs passes.
fn conclude(result: &mut VerificationResult) {
    let results = &result.results;
    result.verdict = if results.iter().any(|c| c.outcome == Outcome::Failed) {
        Verdict::Invalid
    } else if results.iter().any(|c| c.outcome == Outcome::Error) {
        Verdict::Indeterminate
    } else {
        Verdict::Valid
    };
    result.verified = result.verdict == Verdict::Valid;
    result.checks = results
        .iter()
        .filter(|c| c.outcome != Outcome::Skipped)
        .map(|c| c.check.clone())
        .collect();
    result.errors = results
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Failed | Outcome::Error))
        .map(|c| Problem {
            check: c.check.clone(),
            code: c.code.clone().unwrap_or_default(),
            message: c.message.clone().unwrap_or_default(),
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_outweighs_an_error_and_an_error_outweighs_passes() {
        let mut r = Report::default();
        r.pass("signature");
        r.error("issuer", "DID_UNRESOLVABLE", "x");
        assert_eq!(r.finish(vec![]).verdict, Verdict::Indeterminate);

        let mut r = Report::default();
        r.error("issuer", "DID_UNRESOLVABLE", "x");
        r.fail("validity", "EXPIRED", "y");
        let result = r.finish(vec![]);
        assert_eq!(result.verdict, Verdict::Invalid);
        assert!(!result.verified);
        assert_eq!(result.errors.len(), 2);

        let mut r = Report::default();
        r.pass("signature");
        r.skip("schema", "unknown type");
        let result = r.finish(vec![]);
        assert!(result.verified);
        assert_eq!(result.checks, vec!["signature"]);
    }
}
