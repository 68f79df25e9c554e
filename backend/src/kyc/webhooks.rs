//! Webhooks: a relying institution is told when a credential it relies on (and whose
//! status entries the holder let it keep) is suspended, reinstated or revoked.
//!
//! Each event is a Security Event Token (RFC 8417) signed by the institution's own key
//! (`typ: secevent+jwt`), delivered by HTTP POST as RFC 8935 push delivery
//! (`Content-Type: application/secevent+jwt`; the receiver answers 202). Events are written
//! to an outbox in the database transaction of the status change, so a change is never
//! acknowledged without its events; a background task sends them, retrying with growing
//! delays, and records each delivery.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use certus_schemas::kyc::WebhookDelivery;
use certus_schemas::wire::StatusPurpose;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::{json, Value};

use super::{Kyc, StatusRef};
use crate::auth::Principal;
use crate::status::event::{StatusChanged, StatusListener};
use crate::store::entities::{reliance_records, status_watches, webhook_deliveries, webhooks};
use crate::work::Work;
use certus_credential::jose;
use certus_credential::time::xsd_now;

/// The event type of a status change of a relied-on credential.
pub const STATUS_EVENT: &str = "https://w3id.org/certus/secevent/credential-status";
/// `typ` of the tokens sent.
pub const SET_TYP: &str = "secevent+jwt";
/// Deliveries tried before one is given up.
pub const MAX_ATTEMPTS: i32 = 8;
/// Deliveries sent per round.
const BATCH: u64 = 50;
/// Deliveries written per INSERT (12 columns, well under SQLite's parameter limit).
const INSERT_CHUNK: usize = 500;

/// Why an endpoint was refused.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidEndpoint(String);

/// Checks an endpoint URL: `https`, or `http` to a loopback host (for a receiver on the
/// same machine); no credentials or fragment in it.
pub fn check_endpoint(url: &str) -> Result<(), InvalidEndpoint> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| InvalidEndpoint(format!("`url` is not an absolute URL: {e}")))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(InvalidEndpoint("`url` must not carry credentials".into()));
    }
    if parsed.fragment().is_some() {
        return Err(InvalidEndpoint("`url` must not have a fragment".into()));
    }
    if parsed.host().is_none() {
        return Err(InvalidEndpoint("`url` has no host".into()));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if crate::uri::is_loopback(&parsed) => Ok(()),
        _ => Err(InvalidEndpoint(
            "`url` must be https (http only to a loopback host)".into(),
        )),
    }
}

/// The tenant's endpoint.
pub async fn endpoint(kyc: &Kyc, tenant_id: &str) -> Result<Option<String>, DbErr> {
    let db = &kyc.db;
    Ok(webhooks::Entity::find_by_id(tenant_id)
        .one(db)
        .await?
        .map(|w| w.url))
}

/// Sets the endpoint of `principal`'s institution (checked with [`check_endpoint`]
/// first), with its audit entry.
pub async fn set_endpoint(
    kyc: &Kyc,
    principal: &Principal,
    url: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut work = Work::begin(&kyc.db, now).await?;
    webhooks::Entity::insert(webhooks::ActiveModel {
        tenant_id: Set(principal.tenant_id.clone()),
        url: Set(url.to_owned()),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(webhooks::Column::TenantId)
            .update_columns([webhooks::Column::Url, webhooks::Column::UpdatedAt])
            .to_owned(),
    )
    .exec_without_returning(work.conn())
    .await?;
    work.audit_by(principal, "webhook.set", url);
    work.commit().await
}

/// The KYC reliance watches as a listener of status changes: each change's webhook events
/// are queued in its transaction.
#[derive(Debug, Clone, Copy, Default)]
pub struct WatchedStatus;

impl StatusListener for WatchedStatus {
    fn status_changed<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        change: &'a StatusChanged<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<(), DbErr>> + Send + 'a>> {
        Box::pin(enqueue(txn, change.entries, change.set, change.at))
    }
}

/// Queues the events of a status change — `set` (or cleared) bits at `changed` — for
/// every institution watching one of them, in the change's transaction `conn`.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    changed: &[StatusRef],
    set: bool,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if changed.is_empty() {
        return Ok(());
    }
    let urls: Vec<String> = changed.iter().map(|c| c.url.clone()).collect();
    let indexes: Vec<i64> = changed.iter().map(|c| c.index as i64).collect();
    let watches = status_watches::Entity::find()
        .filter(status_watches::Column::ListUrl.is_in(urls))
        .filter(status_watches::Column::StatusIndex.is_in(indexes))
        .all(conn)
        .await?;
    let watched: Vec<(status_watches::Model, &StatusRef)> = watches
        .into_iter()
        .filter_map(|w| {
            let change = changed
                .iter()
                .find(|c| c.url == w.list_url && c.index as i64 == w.status_index)?;
            Some((w, change))
        })
        .collect();
    if watched.is_empty() {
        return Ok(());
    }
    let tenants: BTreeSet<&str> = watched.iter().map(|(w, _)| w.tenant_id.as_str()).collect();
    let endpoints: HashMap<String, String> = webhooks::Entity::find()
        .filter(webhooks::Column::TenantId.is_in(tenants))
        .all(conn)
        .await?
        .into_iter()
        .map(|w| (w.tenant_id, w.url))
        .collect();
    let reliances: BTreeSet<&str> = watched
        .iter()
        .map(|(w, _)| w.reliance_id.as_str())
        .collect();
    let issuers: HashMap<String, String> = reliance_records::Entity::find()
        .filter(reliance_records::Column::Id.is_in(reliances))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.kyc_issuer))
        .collect();
    let deliveries: Vec<webhook_deliveries::ActiveModel> = watched
        .into_iter()
        .filter_map(|(watch, change)| {
            let url = endpoints.get(&watch.tenant_id)?;
            let event = match (change.purpose, set) {
                (StatusPurpose::Revocation, _) => "revoked",
                (StatusPurpose::Suspension, true) => "suspended",
                (StatusPurpose::Suspension, false) => "reinstated",
            };
            let payload = json!({
                "reliance": watch.reliance_id,
                "kycIssuer": issuers.get(&watch.reliance_id),
                "event": event,
                "statusPurpose": change.purpose,
                "statusListCredential": change.url,
                "changedAt": xsd_now(now),
            });
            Some(webhook_deliveries::ActiveModel {
                id: Set(format!("urn:uuid:{}", uuid::Uuid::new_v4())),
                tenant_id: Set(watch.tenant_id),
                reliance_id: Set(watch.reliance_id),
                event: Set(event.to_owned()),
                url: Set(url.clone()),
                payload: Set(payload.to_string()),
                state: Set("pending".into()),
                attempts: Set(0),
                next_attempt_at: Set(now),
                last_error: Set(None),
                created_at: Set(now),
                delivered_at: Set(None),
            })
        })
        .collect();
    for chunk in deliveries.chunks(INSERT_CHUNK) {
        webhook_deliveries::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// The HTTP client deliveries use: short timeouts, no redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// The signed token of a delivery.
fn token(
    kyc: &Kyc,
    delivery: &webhook_deliveries::Model,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let key = kyc
        .keys
        .default_key(&delivery.tenant_id)
        .ok_or_else(|| anyhow::anyhow!("the institution has no key to sign with"))?;
    let event: Value = serde_json::from_str(&delivery.payload)?;
    let claims = json!({
        "iss": key.did,
        "aud": delivery.url,
        "iat": now.timestamp(),
        "jti": delivery.id,
        "events": {STATUS_EVENT: event},
    });
    let header = jose::header(&[("typ", SET_TYP), ("kid", &key.verification_method)]);
    Ok(jose::sign(header, &claims, key.signer.as_ref())?)
}

/// Sends one delivery: `Ok` once the receiver took it (2xx); `Err((permanent, why))`.
async fn send(
    kyc: &Kyc,
    client: &reqwest::Client,
    delivery: &webhook_deliveries::Model,
    now: DateTime<Utc>,
) -> Result<(), (bool, String)> {
    let token = token(kyc, delivery, now).map_err(|e| (true, e.to_string()))?;
    let response = client
        .post(&delivery.url)
        .header(reqwest::header::CONTENT_TYPE, "application/secevent+jwt")
        .header(reqwest::header::ACCEPT, "application/json")
        .body(token)
        .send()
        .await
        .map_err(|e| (false, format!("not delivered: {e}")))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    // RFC 8935 §2.4: a 400 with an error code means the receiver refuses this token.
    let body = response.text().await.unwrap_or_default();
    let permanent = status == reqwest::StatusCode::BAD_REQUEST;
    let detail: String = body.chars().take(200).collect();
    Err((
        permanent,
        format!("the receiver answered {status}: {detail}"),
    ))
}

/// Delay before attempt `attempts + 1`: 5 s, doubling, at most 15 minutes.
fn backoff(attempts: i32) -> chrono::Duration {
    let seconds = 5i64.saturating_mul(1 << attempts.clamp(0, 20)).min(900);
    chrono::Duration::seconds(seconds)
}

/// Sends the deliveries that are due; how many were delivered.
pub async fn deliver_due(kyc: &Kyc, client: &reqwest::Client, now: DateTime<Utc>) -> usize {
    let due = match webhook_deliveries::Entity::find()
        .filter(webhook_deliveries::Column::State.eq("pending"))
        .filter(webhook_deliveries::Column::NextAttemptAt.lte(now))
        .order_by_asc(webhook_deliveries::Column::NextAttemptAt)
        .limit(BATCH)
        .all(&kyc.db)
        .await
    {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "reading webhook deliveries");
            return 0;
        }
    };
    let mut delivered = 0;
    for delivery in due {
        let attempts = delivery.attempts + 1;
        let mut update = webhook_deliveries::ActiveModel {
            id: Set(delivery.id.clone()),
            attempts: Set(attempts),
            ..Default::default()
        };
        match send(kyc, client, &delivery, now).await {
            Ok(()) => {
                delivered += 1;
                update.state = Set("delivered".into());
                update.delivered_at = Set(Some(now));
                update.last_error = Set(None);
            }
            Err((permanent, why)) => {
                let give_up = permanent || attempts >= MAX_ATTEMPTS;
                tracing::warn!(delivery = %delivery.id, attempts, give_up, "webhook delivery failed: {why}");
                update.state = Set(if give_up { "failed" } else { "pending" }.into());
                update.next_attempt_at = Set(now + backoff(attempts));
                update.last_error = Set(Some(why));
            }
        }
        if let Err(e) = webhook_deliveries::Entity::update(update)
            .exec(&kyc.db)
            .await
        {
            tracing::warn!(error = %e, "recording a webhook delivery");
        }
    }
    delivered
}

/// Runs [`deliver_due`] every `interval`.
pub fn spawn(kyc: Kyc, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = client();
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            deliver_due(&kyc, &client, kyc.clock.now()).await;
        }
    })
}

/// The tenant's deliveries, newest first.
pub async fn deliveries(kyc: &Kyc, tenant_id: &str) -> Result<Vec<WebhookDelivery>, DbErr> {
    let db = &kyc.db;
    Ok(webhook_deliveries::Entity::find()
        .filter(webhook_deliveries::Column::TenantId.eq(tenant_id))
        .order_by_desc(webhook_deliveries::Column::CreatedAt)
        .limit(200)
        .all(db)
        .await?
        .into_iter()
        .map(|d| WebhookDelivery {
            id: d.id,
            reliance_id: d.reliance_id,
            event: d.event,
            url: d.url,
            state: d.state,
            attempts: d.attempts.max(0) as u32,
            last_error: d.last_error,
            created_at: xsd_now(d.created_at),
            delivered_at: d.delivered_at.map(xsd_now),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_https_or_loopback_http() {
        for good in [
            "https://bank-b.example/hooks/kyc",
            "http://127.0.0.1:9000/hook",
            "http://localhost/hook",
            "http://[::1]:8080/",
        ] {
            assert!(check_endpoint(good).is_ok(), "{good}");
        }
        for bad in [
            "http://bank-b.example/hook",
            "ftp://127.0.0.1/",
            "https://user:pw@bank-b.example/",
            "https://bank-b.example/#x",
            "/relative",
            "http://10.0.0.1/",
        ] {
            assert!(check_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn retries_back_off_to_a_ceiling() {
        assert_eq!(backoff(1).num_seconds(), 10);
        assert_eq!(backoff(2).num_seconds(), 20);
        assert_eq!(backoff(7).num_seconds(), 640);
        assert_eq!(backoff(8).num_seconds(), 900);
        assert_eq!(backoff(60).num_seconds(), 900);
    }
}
