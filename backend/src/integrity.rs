//! What `certus chain verify` checks: the chain itself (every link, root and signature),
//! then every store whose rows must agree with a signed, anchored object, then the audit
//! log. The first store that does not hold stops the check and names the row and why.

use sea_orm::DatabaseConnection;

use crate::issued::RecordSeal;
use crate::ledger::store::Ledger;

/// The outcome of a check: a line for each part that holds, and the first that does not.
#[derive(Debug, Default)]
pub struct Report {
    pub held: Vec<String>,
    pub broken: Option<String>,
}

impl Report {
    fn hold(&mut self, line: String) {
        self.held.push(line);
    }

    fn fail(mut self, line: String) -> Self {
        self.broken = Some(line);
        self
    }
}

/// Checks the chain, every store that derives from it, and the audit log; `seal` is the
/// node's seal of its issued credentials' records.
pub async fn verify(ledger: &Ledger, db: &DatabaseConnection, seal: &RecordSeal) -> Report {
    let mut report = Report::default();
    match ledger.verify_chain().await {
        Ok(head) => report.hold(format!(
            "the chain holds: the genesis and {head} blocks, every link, root and signature \
             checked"
        )),
        Err((height, reason)) => {
            return report.fail(format!("block {height} does not hold: {reason}"))
        }
    }
    let stores = [
        (
            "the pending anchors",
            ledger
                .verify_pending()
                .await
                .map(|n| format!("{n}, each stored as its transaction")),
        ),
        (
            "the status lists",
            crate::status::verify::verify_store(db).await.map(|c| {
                format!(
                    "{} lists and {} versions, each anchored; {} credentials' recorded status \
                     agrees with them",
                    c.lists, c.versions, c.credentials
                )
            }),
        ),
        (
            "the issued credentials' records",
            crate::issued::verify_store(db, seal)
                .await
                .map(|n| format!("{n}, each sealed as issued, each commitment anchored")),
        ),
        (
            "the DID operations",
            crate::did::registry::verify_store(db)
                .await
                .map(|n| format!("{n}, each anchored, every DID replayed from its creation")),
        ),
        (
            "the trust statements and schema registrations",
            crate::trust::verify_store(db)
                .await
                .map(|n| format!("{n} statements and registrations, each anchored and as signed")),
        ),
        (
            "the credential types",
            crate::types::verify_store(db).await.map(|n| {
                format!(
                    "{n} versions, each schema as hashed and pinning its context, each \
                     defined one registered on the chain"
                )
            }),
        ),
        (
            "the reliance records",
            crate::kyc::register::verify_store(db)
                .await
                .map(|n| format!("{n} records, each anchored and as signed")),
        ),
        (
            "the erasure receipts",
            crate::privacy::erasure::verify_store(db)
                .await
                .map(|n| format!("{n} receipts, each anchored")),
        ),
    ];
    for (what, checked) in stores {
        match checked {
            Ok(line) => report.hold(format!("{what} hold: {line}")),
            Err(reason) => return report.fail(format!("{what} do not hold: {reason}")),
        }
    }
    match ledger.verify_audit().await {
        Ok(Some(entries)) => report.hold(format!(
            "the audit log holds: {entries} entries, chained to the head anchored last"
        )),
        Ok(None) => report.hold("this store holds no audit log (an imported chain)".into()),
        Err(reason) => return report.fail(format!("the audit log does not hold: {reason}")),
    }
    report
}
