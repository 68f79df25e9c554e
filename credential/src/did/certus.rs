//! `did:certus`: institution DIDs whose whole history is on the chain.
//!
//! A DID is `did:certus:` and 32 hex digits (16 random bytes). Its history is a sequence
//! of operations — `create`, `addKey`, `removeKey`, `compromise`, `deactivate` — each a
//! compact JWS over the operation's JSON, signed by a key the DID holds at that point (a
//! `create` by the key it creates), numbered and chained to the previous one by hash.
//! Operations carry public keys and service endpoints only. Each is a `didOperation`
//! transaction of the chain, so every node replays the same history in chain order.
//!
//! This module is pure: it checks operations and folds them into a [`DidState`], which
//! answers "which keys did this DID hold at a point of the chain" — what verification
//! asks for a credential anchored at that point.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ssi::jwk::JWK;

use crate::jose;
use certus_ledger::Digest;

/// The method prefix.
pub const PREFIX: &str = "did:certus:";

/// A new random `did:certus` DID.
pub fn new_did() -> String {
    format!("{PREFIX}{}", hex::encode(rand::random::<[u8; 16]>()))
}

/// True for a well-formed `did:certus` DID.
pub fn is_certus(did: &str) -> bool {
    did.strip_prefix(PREFIX).is_some_and(|id| {
        id.len() == 32
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

pub use certus_ledger::transaction::did_operation_hash as operation_hash;

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Op {
    Create,
    AddKey,
    RemoveKey,
    Compromise,
    Deactivate,
}

/// A public key of a DID: its fragment (`key-1`) and JWK.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublicKey {
    pub id: String,
    pub public_key_jwk: JWK,
}

/// A service endpoint of a DID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Service {
    pub id: String,
    #[serde(rename = "type")]
    pub service_type: String,
    pub service_endpoint: String,
}

/// One operation, as signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Operation {
    pub did: String,
    pub op: Op,
    /// 0 for `create`, then one more each time.
    pub sequence: u64,
    /// Hex [`operation_hash`] of the previous operation; absent for `create`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// The key a `create` or `addKey` adds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<PublicKey>,
    /// The key a `removeKey` or `compromise` is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// For `compromise`: from when the key is to be distrusted (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// For `create`: the DID's service endpoints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
}

/// Where an operation (or a credential) stands in chain order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum At {
    /// In block `height` at `position`, sealed at `time_ms`.
    Anchored {
        height: u64,
        position: u64,
        time_ms: i64,
    },
    /// Waiting for the next block since `at_ms`: after everything anchored.
    Pending { at_ms: i64 },
}

impl At {
    /// The time of this point: the block's, or the submission's while pending.
    pub fn time_ms(&self) -> i64 {
        match self {
            Self::Anchored { time_ms, .. } => *time_ms,
            Self::Pending { at_ms } => *at_ms,
        }
    }
}

/// Why an operation is refused, or a key is not valid at a point.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DidError {
    #[error("the operation is not a well-formed signed did:certus operation: {0}")]
    Malformed(String),
    #[error("the operation does not follow the DID's last operation")]
    OutOfOrder,
    #[error("the operation is not signed by a current key of the DID")]
    BadSigner,
    #[error("the DID is deactivated")]
    Deactivated,
    #[error("{0}")]
    Refused(String),
    #[error("the key `{0}` is not a key of the DID at that point")]
    UnknownKey(String),
    #[error("the key `{0}` was removed from the DID before that point")]
    KeyRemoved(String),
    #[error("the key `{key}` is marked compromised since {since}")]
    KeyCompromised { key: String, since: String },
}

impl DidError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "DID_OPERATION_MALFORMED",
            Self::OutOfOrder => "DID_OPERATION_OUT_OF_ORDER",
            Self::BadSigner => "DID_OPERATION_BAD_SIGNER",
            Self::Deactivated => "DID_DEACTIVATED",
            Self::Refused(_) => "DID_OPERATION_REFUSED",
            Self::UnknownKey(_) | Self::KeyRemoved(_) => "KEY_NOT_AUTHORISED",
            Self::KeyCompromised { .. } => "KEY_COMPROMISED",
        }
    }
}

/// One key's life in a DID.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyState {
    pub id: String,
    pub jwk: JWK,
    pub added: At,
    pub removed: Option<At>,
    pub compromised_since: Option<DateTime<Utc>>,
}

/// A DID's state after some of its operations.
#[derive(Debug, Clone, PartialEq)]
pub struct DidState {
    pub did: String,
    pub keys: Vec<KeyState>,
    pub services: Vec<Service>,
    pub created: At,
    pub updated: At,
    pub deactivated: Option<At>,
    /// The sequence number of the last operation.
    pub sequence: u64,
    /// The hash of the last operation.
    pub head: Digest,
}

/// Decodes a signed operation; its signer's key fragment and the operation.
pub fn decode(jws: &str) -> Result<(String, Operation), DidError> {
    let decoded = jose::decode(jws).map_err(|e| DidError::Malformed(e.to_string()))?;
    let operation: Operation = serde_json::from_value(decoded.payload.clone())
        .map_err(|e| DidError::Malformed(e.to_string()))?;
    if !is_certus(&operation.did) {
        return Err(DidError::Malformed(format!(
            "`{}` is not a did:certus DID",
            operation.did
        )));
    }
    let kid = decoded
        .header_str("kid")
        .and_then(|k| k.strip_prefix(&operation.did))
        .and_then(|k| k.strip_prefix('#'))
        .ok_or_else(|| DidError::Malformed("`kid` is not a key of the operation's DID".into()))?
        .to_owned();
    Ok((kid, operation))
}

fn verify_signature(jws: &str, key: &JWK) -> Result<(), DidError> {
    jose::decode(jws)
        .map_err(|e| DidError::Malformed(e.to_string()))?
        .verify(key)
        .map_err(|_| DidError::BadSigner)
}

fn key_id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn public_only(key: &PublicKey) -> Result<(), DidError> {
    if !key_id_ok(&key.id) {
        return Err(DidError::Malformed(format!("key id `{}`", key.id)));
    }
    if key.public_key_jwk.to_public() != key.public_key_jwk {
        return Err(DidError::Malformed(
            "a DID operation carries public keys only".into(),
        ));
    }
    Ok(())
}

impl DidState {
    /// The state a signed `create` operation starts.
    pub fn create(jws: &str, at: At) -> Result<Self, DidError> {
        let (signer, op) = decode(jws)?;
        let key = match (&op.op, op.sequence, &op.previous, &op.key) {
            (Op::Create, 0, None, Some(key)) => key,
            _ => return Err(DidError::OutOfOrder),
        };
        public_only(key)?;
        if signer != key.id {
            return Err(DidError::BadSigner);
        }
        verify_signature(jws, &key.public_key_jwk)?;
        Ok(Self {
            did: op.did.clone(),
            keys: vec![KeyState {
                id: key.id.clone(),
                jwk: key.public_key_jwk.clone(),
                added: at,
                removed: None,
                compromised_since: None,
            }],
            services: op.services.clone(),
            created: at,
            updated: at,
            deactivated: None,
            sequence: 0,
            head: operation_hash(jws),
        })
    }

    /// The keys not removed, in order of addition.
    pub fn current_keys(&self) -> impl Iterator<Item = &KeyState> {
        self.keys.iter().filter(|k| k.removed.is_none())
    }

    /// Applies the next signed operation.
    pub fn apply(&mut self, jws: &str, at: At) -> Result<(), DidError> {
        let (signer, op) = decode(jws)?;
        if op.did != self.did
            || op.sequence != self.sequence + 1
            || op.previous.as_deref() != Some(self.head.to_hex().as_str())
        {
            return Err(DidError::OutOfOrder);
        }
        if self.deactivated.is_some() {
            return Err(DidError::Deactivated);
        }
        let signing_key = self
            .current_keys()
            .find(|k| k.id == signer)
            .ok_or(DidError::BadSigner)?;
        // A key marked compromised may still report its own compromise, nothing else.
        if signing_key.compromised_since.is_some() && op.op != Op::Compromise {
            return Err(DidError::BadSigner);
        }
        verify_signature(jws, &signing_key.jwk)?;
        match op.op {
            Op::Create => return Err(DidError::OutOfOrder),
            Op::AddKey => {
                let key = op
                    .key
                    .as_ref()
                    .ok_or_else(|| DidError::Malformed("addKey needs `key`".into()))?;
                public_only(key)?;
                if self.keys.iter().any(|k| k.id == key.id) {
                    return Err(DidError::Refused(format!("key id `{}` was used", key.id)));
                }
                self.keys.push(KeyState {
                    id: key.id.clone(),
                    jwk: key.public_key_jwk.clone(),
                    added: at,
                    removed: None,
                    compromised_since: None,
                });
            }
            Op::RemoveKey => {
                let id = op
                    .key_id
                    .as_deref()
                    .ok_or_else(|| DidError::Malformed("removeKey needs `keyId`".into()))?;
                if self.current_keys().count() < 2 {
                    return Err(DidError::Refused(
                        "a DID keeps at least one key; add the next key first".into(),
                    ));
                }
                let key = self
                    .keys
                    .iter_mut()
                    .find(|k| k.id == id && k.removed.is_none())
                    .ok_or_else(|| DidError::UnknownKey(id.to_owned()))?;
                key.removed = Some(at);
            }
            Op::Compromise => {
                let id = op
                    .key_id
                    .as_deref()
                    .ok_or_else(|| DidError::Malformed("compromise needs `keyId`".into()))?;
                let since = op
                    .since
                    .as_deref()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .map(|s| s.with_timezone(&Utc))
                    .ok_or_else(|| {
                        DidError::Malformed("compromise needs `since` (RFC 3339)".into())
                    })?;
                let key = self
                    .keys
                    .iter_mut()
                    .find(|k| k.id == id)
                    .ok_or_else(|| DidError::UnknownKey(id.to_owned()))?;
                // An earlier report wins: a later one can only move the cut-off back.
                key.compromised_since = Some(key.compromised_since.map_or(since, |s| s.min(since)));
            }
            Op::Deactivate => self.deactivated = Some(at),
        }
        self.sequence = op.sequence;
        self.head = operation_hash(jws);
        self.updated = at;
        Ok(())
    }

    /// The public key `key_id` if the DID held it, uncompromised, at `at` — for a
    /// credential anchored (or, pending, submitted) at that point.
    pub fn key_at(&self, key_id: &str, at: At) -> Result<&JWK, DidError> {
        if self.deactivated.is_some_and(|d| d <= at) {
            return Err(DidError::Deactivated);
        }
        let key = self
            .keys
            .iter()
            .find(|k| k.id == key_id && k.added <= at)
            .ok_or_else(|| DidError::UnknownKey(key_id.to_owned()))?;
        if key.removed.is_some_and(|r| r <= at) {
            return Err(DidError::KeyRemoved(key_id.to_owned()));
        }
        if let Some(since) = key.compromised_since {
            if at.time_ms() >= since.timestamp_millis() {
                return Err(DidError::KeyCompromised {
                    key: key_id.to_owned(),
                    since: since.to_rfc3339_opts(SecondsFormat::Secs, true),
                });
            }
        }
        Ok(&key.jwk)
    }

    /// The DID document: the current keys (uncompromised ones authorised for assertion
    /// and authentication) and services. With `history`, every key it ever held is listed
    /// as a verification method (authorised for nothing new), so proofs made before a
    /// rotation can still find their key; whether that key was valid then is
    /// [`DidState::key_at`]'s question.
    pub fn document(&self, history: bool) -> Value {
        let listed: Vec<&KeyState> = if history {
            self.keys.iter().collect()
        } else {
            self.current_keys().collect()
        };
        let method = |k: &KeyState| {
            let mut vm = json!({
                "id": format!("{}#{}", self.did, k.id),
                "type": "JsonWebKey",
                "controller": self.did,
                "publicKeyJwk": k.jwk,
            });
            if let Some(multibase) = multikey(&k.jwk) {
                vm["type"] = json!("Multikey");
                vm["publicKeyMultibase"] = json!(multibase);
                vm.as_object_mut().map(|o| o.remove("publicKeyJwk"));
            }
            vm
        };
        let authorised: Vec<String> = self
            .current_keys()
            .filter(|k| k.compromised_since.is_none() && self.deactivated.is_none())
            .map(|k| format!("{}#{}", self.did, k.id))
            .collect();
        let all: Vec<String> = listed
            .iter()
            .map(|k| format!("{}#{}", self.did, k.id))
            .collect();
        let mut document = json!({
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": self.did,
            "verificationMethod": listed.into_iter().map(method).collect::<Vec<_>>(),
            "assertionMethod": if history { all.clone() } else { authorised.clone() },
            "authentication": if history { all } else { authorised },
        });
        if !self.services.is_empty() {
            document["service"] = json!(self.services);
        }
        document
    }

    /// DID Resolution document metadata.
    pub fn metadata(&self) -> Value {
        let time = |at: At| crate::time::xsd_millis(at.time_ms());
        json!({
            "created": time(self.created),
            "updated": time(self.updated),
            "deactivated": self.deactivated.is_some(),
            "versionId": self.sequence.to_string(),
        })
    }
}

/// The Multikey (`z6Mk…`) form of an Ed25519 public key; `None` for other keys.
fn multikey(jwk: &JWK) -> Option<String> {
    let (did, _) = crate::did::did_key_for(jwk).ok()?;
    let id = did.strip_prefix("did:key:")?;
    id.starts_with("z6Mk").then(|| id.to_owned())
}

#[cfg(test)]
mod tests {

    use super::*;

    fn sign(op: &Operation, key: &JWK, key_id: &str) -> String {
        let header = json!({"typ": "did-operation+jwt", "kid": format!("{}#{key_id}", op.did)});
        jose::sign(
            header.as_object().cloned().expect("object"),
            &serde_json::to_value(op).expect("json"),
            key,
        )
        .expect("signs")
    }

    fn op(did: &str, kind: Op, state: Option<&DidState>) -> Operation {
        Operation {
            did: did.to_owned(),
            op: kind,
            sequence: state.map_or(0, |s| s.sequence + 1),
            previous: state.map(|s| s.head.to_hex()),
            key: None,
            key_id: None,
            since: None,
            services: Vec::new(),
        }
    }

    fn at(height: u64) -> At {
        At::Anchored {
            height,
            position: 0,
            time_ms: height as i64 * 1_000,
        }
    }

    fn created() -> (DidState, JWK) {
        let did = new_did();
        let key = JWK::generate_ed25519().expect("key");
        let mut create = op(&did, Op::Create, None);
        create.key = Some(PublicKey {
            id: "key-1".into(),
            public_key_jwk: key.to_public(),
        });
        let state = DidState::create(&sign(&create, &key, "key-1"), at(1)).expect("created");
        (state, key)
    }

    #[test]
    fn a_rotated_key_is_valid_before_the_rotation_only() {
        let (mut state, first) = created();
        let second = JWK::generate_ed25519().expect("key");
        let mut add = op(&state.did, Op::AddKey, Some(&state));
        add.key = Some(PublicKey {
            id: "key-2".into(),
            public_key_jwk: second.to_public(),
        });
        state
            .apply(&sign(&add, &first, "key-1"), at(5))
            .expect("added");
        let mut remove = op(&state.did, Op::RemoveKey, Some(&state));
        remove.key_id = Some("key-1".into());
        state
            .apply(&sign(&remove, &second, "key-2"), at(6))
            .expect("removed");

        assert!(state.key_at("key-1", at(3)).is_ok(), "before the rotation");
        assert_eq!(
            state.key_at("key-1", at(7)),
            Err(DidError::KeyRemoved("key-1".into()))
        );
        assert_eq!(
            state.key_at("key-2", at(3)),
            Err(DidError::UnknownKey("key-2".into()))
        );
        assert!(state.key_at("key-2", at(7)).is_ok());
        assert!(
            state.key_at("key-2", At::Pending { at_ms: 0 }).is_ok(),
            "pending is last"
        );
        let current = state.document(false);
        assert_eq!(
            current["assertionMethod"],
            json!([format!("{}#key-2", state.did)])
        );
        assert_eq!(
            state.document(true)["verificationMethod"]
                .as_array()
                .map(Vec::len),
            Some(2)
        );
    }

    #[test]
    fn a_compromise_cuts_off_at_its_time_and_a_removed_key_signs_nothing() {
        let (mut state, first) = created();
        let mut compromise = op(&state.did, Op::Compromise, Some(&state));
        compromise.key_id = Some("key-1".into());
        compromise.since = Some("1970-01-01T00:00:04Z".into());
        state
            .apply(&sign(&compromise, &first, "key-1"), at(9))
            .expect("reported");
        assert!(
            state.key_at("key-1", at(3)).is_ok(),
            "anchored before the cut-off"
        );
        assert_eq!(
            state.key_at("key-1", at(4)).map_err(|e| e.code()),
            Err("KEY_COMPROMISED")
        );
        // The compromised key can do nothing else.
        let mut add = op(&state.did, Op::AddKey, Some(&state));
        add.key = Some(PublicKey {
            id: "key-2".into(),
            public_key_jwk: JWK::generate_ed25519().expect("key").to_public(),
        });
        assert_eq!(
            state.apply(&sign(&add, &first, "key-1"), at(10)),
            Err(DidError::BadSigner)
        );
    }

    #[test]
    fn forged_replayed_and_private_operations_are_refused() {
        let (mut state, first) = created();
        let stranger = JWK::generate_ed25519().expect("key");
        let deactivate = op(&state.did, Op::Deactivate, Some(&state));
        assert_eq!(
            state
                .clone()
                .apply(&sign(&deactivate, &stranger, "key-1"), at(2)),
            Err(DidError::BadSigner)
        );
        let mut stale = deactivate.clone();
        stale.sequence = 5;
        assert_eq!(
            state.clone().apply(&sign(&stale, &first, "key-1"), at(2)),
            Err(DidError::OutOfOrder)
        );
        let mut leaking = op(&state.did, Op::AddKey, Some(&state));
        leaking.key = Some(PublicKey {
            id: "key-2".into(),
            public_key_jwk: JWK::generate_ed25519().expect("key"),
        });
        assert!(matches!(
            state.clone().apply(&sign(&leaking, &first, "key-1"), at(2)),
            Err(DidError::Malformed(_))
        ));
        let signed = sign(&deactivate, &first, "key-1");
        let mut tampered = signed.clone();
        tampered.pop();
        tampered.push(if signed.ends_with('A') { 'B' } else { 'A' });
        assert!(state.clone().apply(&tampered, at(2)).is_err());
        state.apply(&signed, at(2)).expect("deactivated");
        assert_eq!(state.key_at("key-1", at(3)), Err(DidError::Deactivated));
        assert!(
            state.key_at("key-1", at(1)).is_ok(),
            "valid before the deactivation"
        );
    }
}
