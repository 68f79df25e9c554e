//! Status lists of issuers outside the consortium. No chain anchors them, so they are
//! believed only as their issuers signed them, and fetched only where the operator said
//! (decision 20): from the origins of `CERTUS_STATUS_LIST_ORIGINS`, never by default. Each
//! fetch has the members' timeout and size limit and follows no redirect; a list is kept
//! for as long as its server's `Cache-Control: max-age` says (at most [`MAX_FRESH`]), then
//! asked for again with its `ETag` (`If-None-Match`: a 304 keeps it). A list is a W3C
//! Bitstring Status List credential secured with Data Integrity; its proof is verified
//! (its issuer's DID resolved as for credentials) before its bits are read.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use certus_credential::contexts::Contexts;
use certus_credential::data_integrity;
use certus_credential::did::Resolver;

use super::{CheckError, Published, StatusLists};
use crate::ledger::hash::Digest;
use crate::ledger::transaction::ListId;

/// The longest a stranger's list is used without asking its server again.
pub const MAX_FRESH: Duration = Duration::from_secs(300);

/// The origins strangers' lists may be fetched from (checked when configured: `https`, or
/// `http` to a loopback host), what resolves their issuers, and what was fetched.
pub struct Strangers {
    origins: Vec<url::Origin>,
    resolver: Resolver,
    cache: RwLock<HashMap<String, Cached>>,
}

struct Cached {
    published: Arc<Published>,
    etag: Option<String>,
    fresh_until: Instant,
}

impl Strangers {
    /// Lists fetched only from `origins`, their issuers resolved with `resolver`.
    pub fn new(origins: Vec<url::Origin>, resolver: Resolver) -> Self {
        Self {
            origins,
            resolver,
            cache: Default::default(),
        }
    }

    /// Whether `url` is under an allowed origin.
    fn allows(&self, url: &str) -> bool {
        url::Url::parse(url).is_ok_and(|u| self.origins.contains(&u.origin()))
    }
}

/// A fetched body, or that the cached one still holds.
pub(super) enum Fetched {
    Body {
        bytes: Vec<u8>,
        etag: Option<String>,
        max_age: Option<Duration>,
    },
    NotModified {
        max_age: Option<Duration>,
    },
}

impl StatusLists {
    /// Whether the list at `url` is a stranger's this node may fetch.
    pub(super) fn stranger_allowed(&self, url: &str) -> bool {
        self.strangers.as_ref().is_some_and(|s| s.allows(url))
    }

    /// A stranger's list at `url` (allowed: [`StatusLists::stranger_allowed`]), from the
    /// cache while fresh, else fetched (or revalidated) and its proof verified.
    pub(super) async fn stranger_list(&self, url: &str) -> Result<Arc<Published>, CheckError> {
        let Some(strangers) = &self.strangers else {
            return Err(CheckError::NotLocal(url.to_owned()));
        };
        let cached = {
            let cache = strangers.cache.read().unwrap_or_else(|e| e.into_inner());
            cache
                .get(url)
                .map(|c| (c.published.clone(), c.etag.clone(), c.fresh_until))
        };
        if let Some((published, _, fresh_until)) = &cached {
            if Instant::now() < *fresh_until {
                return Ok(published.clone());
            }
        }
        let etag = cached.as_ref().and_then(|(_, etag, _)| etag.as_deref());
        let unreachable = |why: String| CheckError::Unreachable {
            url: url.to_owned(),
            why,
        };
        let fresh_until = |max_age: Option<Duration>| {
            Instant::now() + max_age.unwrap_or(Duration::ZERO).min(MAX_FRESH)
        };
        let (published, etag, max_age) = match self.fetch(url, etag).await.map_err(unreachable)? {
            Fetched::NotModified { max_age } => match cached {
                Some((published, etag, _)) => (published, etag, max_age),
                None => return Err(unreachable("304 to an unconditional request".into())),
            },
            Fetched::Body {
                bytes,
                etag,
                max_age,
            } => (
                Arc::new(verified(url, bytes, &strangers.resolver, &self.contexts).await?),
                etag,
                max_age,
            ),
        };
        strangers
            .cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                url.to_owned(),
                Cached {
                    published: published.clone(),
                    etag,
                    fresh_until: fresh_until(max_age),
                },
            );
        Ok(published)
    }
}

/// A stranger's list credential whose Data Integrity proof holds, read as a list.
async fn verified(
    url: &str,
    bytes: Vec<u8>,
    resolver: &Resolver,
    contexts: &Contexts,
) -> Result<Published, CheckError> {
    let unverified = |why: String| CheckError::Unverified {
        url: url.to_owned(),
        why,
    };
    let text = String::from_utf8(bytes).map_err(|_| unverified("not UTF-8".into()))?;
    let document: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| unverified("not a JSON list credential".into()))?;
    data_integrity::verify(&document, resolver, contexts)
        .await
        .map_err(|e| unverified(e.to_string()))?;
    // Named here by its URL: it is no list of this chain.
    let digest = Digest::of(&[url.as_bytes()]);
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest.as_bytes()[..16]);
    Published::parse(ListId(id), 0, text)
        .ok_or_else(|| unverified("not a Bitstring Status List credential".into()))
}
