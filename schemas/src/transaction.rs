//! Transaction data (OpenID4VP 1.0 §8.4, with its SD-JWT VC profile): what a verifier asks
//! the holder to authorize with a presentation. Each transaction travels base64url-encoded
//! JSON in the request's `transaction_data`; the holder's key-binding JWT carries the
//! SHA-256 of each string it authorizes (`transaction_data_hashes`). Shared by the verifier
//! and both wallets.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The transaction type Certus's wallets know: the holder approves a statement, shown to
/// them word for word (`text`), e.g. "Open savings account 4411 under the terms of 2026-11".
pub const APPROVAL_TYPE: &str = "https://w3id.org/certus/transaction-data/approval/v1";
/// The one hash algorithm used for `transaction_data_hashes`.
pub const HASH_ALG: &str = "sha-256";

/// A transaction as a request carries it, and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    /// The string in the request: what is hashed.
    pub encoded: String,
    pub kind: String,
    /// The credential queries whose credential may authorize it.
    pub credential_ids: Vec<String>,
    /// For an approval: the statement approved.
    pub text: Option<String>,
}

/// A transaction's JSON as it travels.
pub fn encode(data: &Map<String, Value>) -> String {
    URL_SAFE_NO_PAD.encode(Value::Object(data.clone()).to_string())
}

/// The hash a key-binding JWT carries for the transaction sent as `encoded` (its string as
/// sent, not decoded).
pub fn hash(encoded: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(encoded.as_bytes()))
}

/// A transaction string's JSON object.
pub fn data(encoded: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// What a transaction string says.
pub fn decode(encoded: &str) -> Result<Transaction, String> {
    let data = data(encoded).ok_or("a transaction_data entry is not base64url-encoded JSON")?;
    let kind = data
        .get("type")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or("a transaction_data entry has no type")?;
    let credential_ids: Vec<String> = data
        .get("credential_ids")
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .filter(|ids: &Vec<String>| !ids.is_empty())
        .ok_or("a transaction_data entry names no credential_ids")?;
    if let Some(algs) = data.get("transaction_data_hashes_alg") {
        if !algs
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == HASH_ALG))
        {
            return Err(format!("transaction_data_hashes_alg must offer {HASH_ALG}"));
        }
    }
    Ok(Transaction {
        encoded: encoded.to_owned(),
        kind: kind.to_owned(),
        credential_ids,
        text: data.get("text").and_then(Value::as_str).map(str::to_owned),
    })
}

/// The transactions a request object asks the holder to authorize, for a wallet that
/// knows [`APPROVAL_TYPE`] only: any other type, or an approval without its text, is an
/// error the wallet answers `invalid_transaction_data` (OpenID4VP 1.0 §8.5).
pub fn requested(request: &Value) -> Result<Vec<Transaction>, String> {
    let Some(entries) = request.get("transaction_data") else {
        return Ok(Vec::new());
    };
    let entries = entries
        .as_array()
        .filter(|e| !e.is_empty())
        .ok_or("transaction_data must be a non-empty array")?;
    entries
        .iter()
        .map(|entry| {
            let transaction = decode(
                entry
                    .as_str()
                    .ok_or("a transaction_data entry is not a string")?,
            )?;
            if transaction.kind != APPROVAL_TYPE {
                return Err(format!(
                    "this wallet does not know transactions of type {}",
                    transaction.kind
                ));
            }
            if transaction
                .text
                .as_deref()
                .is_none_or(|t| t.trim().is_empty())
            {
                return Err("an approval transaction has no text to show".into());
            }
            Ok(transaction)
        })
        .collect()
}

/// The hashes a presentation for credential query `query_id` carries: of each transaction
/// that query's credential may authorize.
pub fn hashes_for(transactions: &[Transaction], query_id: &str) -> Vec<String> {
    transactions
        .iter()
        .filter(|t| t.credential_ids.iter().any(|id| id == query_id))
        .map(|t| hash(&t.encoded))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn approval(text: &str) -> String {
        encode(
            json!({"type": APPROVAL_TYPE, "credential_ids": ["id"], "text": text})
                .as_object()
                .unwrap(),
        )
    }

    #[test]
    fn a_wallet_reads_the_approvals_it_knows_and_hashes_the_strings_as_sent() {
        let request = json!({"transaction_data": [approval("Open account 4411")]});
        let read = requested(&request).unwrap();
        assert_eq!(read[0].text.as_deref(), Some("Open account 4411"));
        assert_eq!(hashes_for(&read, "id"), vec![hash(&read[0].encoded)]);
        assert!(hashes_for(&read, "other").is_empty());
        // SHA-256 of the ASCII string, base64url.
        assert_eq!(hash("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
        assert_eq!(requested(&json!({})), Ok(Vec::new()));
        let unknown = encode(
            json!({"type": "urn:x", "credential_ids": ["id"]})
                .as_object()
                .unwrap(),
        );
        assert!(requested(&json!({"transaction_data": [unknown]}))
            .unwrap_err()
            .contains("urn:x"));
        assert!(requested(&json!({"transaction_data": [approval(" ")]})).is_err());
        assert!(requested(&json!({"transaction_data": []})).is_err());
        assert!(requested(&json!({"transaction_data": ["%%"]})).is_err());
        let sha512_only = encode(
            json!({"type": APPROVAL_TYPE, "credential_ids": ["id"], "text": "t", "transaction_data_hashes_alg": ["sha-512"]})
                .as_object()
                .unwrap(),
        );
        assert!(decode(&sha512_only).unwrap_err().contains("sha-256"));
    }
}
