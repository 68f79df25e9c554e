//! Identifiers parsed once, at the edge: a request's credential `id`, a DID in a path, an
//! institution's id on the command line. Past the edge, code holds the newtype and need
//! not check again.

use core::fmt;

/// Longest credential id or DID accepted, in bytes.
pub const MAX_ID_LEN: usize = 2_048;
/// Longest institution (tenant) id, in bytes.
pub const MAX_TENANT_ID_LEN: usize = 64;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("an id must be a URI (a scheme, `:`, then the rest) of at most {MAX_ID_LEN} bytes, without spaces or control characters")]
    NotUri,
    #[error("a DID is `did:<method>:<method-specific id>` with a lowercase method, at most {MAX_ID_LEN} bytes")]
    NotDid,
    #[error("an institution id is 1 to {MAX_TENANT_ID_LEN} letters, digits and `-`")]
    NotTenantId,
}

/// An RFC 3986 scheme: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
}

fn printable(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

macro_rules! newtype {
    ($name:ident) => {
        impl $name {
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The identifier as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl core::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl core::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

/// A credential's `id`: an absolute URI (`urn:uuid:…`, `https://…`), at most
/// [`MAX_ID_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CredentialId(String);
newtype!(CredentialId);

impl CredentialId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        match s.split_once(':') {
            Some((scheme, rest)) if is_scheme(scheme) && !rest.is_empty() && printable(s) => {
                Ok(Self(s.to_owned()))
            }
            _ => Err(IdError::NotUri),
        }
    }

    /// A fresh id, `urn:uuid:<v7>`: unique (74 random bits beside the millisecond), and
    /// time-ordered, so that the stores indexing credentials by id append to the index
    /// rather than write to a random page of it. The time it tells is the issuance's own,
    /// which the credential states anyway (`validFrom`).
    pub fn fresh() -> Self {
        Self(format!("urn:uuid:{}", uuid::Uuid::now_v7()))
    }
}

/// A DID (W3C DID Core §3.1): `did:`, a method of lowercase letters and digits, `:`, and
/// a method-specific id; at most [`MAX_ID_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Did(String);
newtype!(Did);

impl Did {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let well_formed = s
            .strip_prefix("did:")
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(method, id)| {
                !method.is_empty()
                    && method
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                    && !id.is_empty()
            });
        if well_formed && printable(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::NotDid)
        }
    }

    /// The DID method (`key`, `web`, `certus`, …).
    pub fn method(&self) -> &str {
        self.0[4..].split(':').next().unwrap_or_default()
    }
}

/// An institution's id on this deployment: 1 to [`MAX_TENANT_ID_LEN`] ASCII letters,
/// digits and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);
newtype!(TenantId);

impl TenantId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let valid = (1..=MAX_TENANT_ID_LEN).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::NotTenantId)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_ids_are_bounded_uris() {
        for good in [
            "urn:uuid:6a1f0a3e-8c1b-4c4e-9d1e-2f0a3b4c5d6e",
            "https://example.edu/credentials/3732",
            "did:example:123#vc",
        ] {
            assert_eq!(CredentialId::parse(good).expect(good).as_str(), good);
        }
        for bad in [
            "",
            "no-colon",
            ":nothing",
            "urn:",
            "1urn:x",
            "urn:with space",
            "urn:with\nnewline",
        ] {
            assert_eq!(CredentialId::parse(bad), Err(IdError::NotUri), "{bad:?}");
        }
        let long = format!("urn:{}", "a".repeat(MAX_ID_LEN));
        assert_eq!(CredentialId::parse(&long), Err(IdError::NotUri));
        assert!(CredentialId::fresh().starts_with("urn:uuid:"));
    }

    #[test]
    fn dids_have_a_method_and_an_id() {
        let did = Did::parse("did:certus:z6Mkabc").expect("did");
        assert_eq!(did.method(), "certus");
        for bad in [
            "did:",
            "did:certus",
            "did:certus:",
            "did::x",
            "did:Certus:x",
            "urn:uuid:1",
            "did:key:with space",
        ] {
            assert_eq!(Did::parse(bad), Err(IdError::NotDid), "{bad:?}");
        }
    }

    #[test]
    fn tenant_ids_are_short_and_plain() {
        assert!(TenantId::parse("Bank-a2").is_ok());
        for bad in ["", "a_b", "a b", "a/b", &"a".repeat(MAX_TENANT_ID_LEN + 1)] {
            assert_eq!(TenantId::parse(bad), Err(IdError::NotTenantId), "{bad:?}");
        }
    }
}
