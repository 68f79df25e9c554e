//! The token and credential endpoints, for offers of either flow.
//!
//! Wallets of OpenID4VCI 1.0 send `credential_configuration_id` and `proofs`; wallets of
//! draft 13 send `format` (with `vct` or `credential_definition`) and one `proof`, and read
//! `c_nonce` from the token response and `credential` from the credential response. Both
//! are answered in their own shape.

use certus_schemas::wire::CredentialFormat;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::metadata::{paths, VciFormat, BATCH_SIZE, PRE_AUTHORIZED_GRANT};
use super::offers::{check_tx_code, opened, status_of, Approval, TxCode};
use super::proof::{self, Proofs};
use super::OpenId;
use super::{authorization, client_attestation, dpop, nonces, OAuthError, OAuthErrorKind};
use crate::auth::{random_token, token_hash};
use crate::issuance::{self, IssueError, Securing};
use crate::privacy::DataSubject;
use crate::store::entities::credential_offers;
use certus_credential::envelope;
use certus_schemas::openid::{NotificationEvent, OfferStatus, AUTHORIZATION_CODE_GRANT};

/// Why an offer whose data subject was erased gives nothing.
const WITHDRAWN: &str = "the offer was withdrawn: its personal data was erased";

/// How long an access token is valid.
pub const ACCESS_TOKEN_SECS: i64 = 600;

/// The token request (form-encoded), of either grant.
#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    #[serde(rename = "pre-authorized_code")]
    pub pre_authorized_code: Option<String>,
    pub tx_code: Option<String>,
    /// The authorization code grant's code, PKCE verifier, redirect URI and client.
    pub code: Option<String>,
    pub code_verifier: Option<String>,
    pub redirect_uri: Option<String>,
    pub client_id: Option<String>,
    /// RFC 8707: when given, this credential issuer.
    pub resource: Option<String>,
}

fn error(kind: OAuthErrorKind, description: impl Into<String>) -> OAuthError {
    OAuthError::new(kind, description)
}

/// Exchanges an offer's grant — a pre-authorized code (and transaction code), or an
/// authorization code with its PKCE verifier — for an access token, once. With a DPoP
/// proof (the `DPoP` header), the token is bound to the proof's key. A wallet
/// attestation (`wallet`) is checked when it comes, and required when the institution
/// requires it.
pub async fn token(
    openid: &OpenId,
    request: TokenRequest,
    dpop_proof: Option<&str>,
    wallet: client_attestation::Presented<'_>,
    now: DateTime<Utc>,
) -> Result<Value, OAuthError> {
    use OAuthErrorKind::*;
    check_resource(openid, request.resource.as_deref())?;
    let (offer, bound_to) = match request.grant_type.as_deref() {
        Some(PRE_AUTHORIZED_GRANT) => {
            pre_authorized(openid, request, dpop_proof, wallet, now).await?
        }
        Some(AUTHORIZATION_CODE_GRANT) => {
            authorization::exchange(openid, &request, dpop_proof, wallet, now).await?
        }
        Some(other) => {
            return Err(error(
                UnsupportedGrantType,
                format!(
                    "grant type `{other}` is not supported; use {PRE_AUTHORIZED_GRANT} or \
                     {AUTHORIZATION_CODE_GRANT}"
                ),
            ))
        }
        None => return Err(error(InvalidRequest, "grant_type is required")),
    };
    grant_access(openid, &offer, bound_to, now).await
}

/// Checks a request's `resource` (RFC 8707), when it names one, is this credential issuer.
pub(super) fn check_resource(openid: &OpenId, resource: Option<&str>) -> Result<(), OAuthError> {
    match resource {
        Some(resource) if resource != &*openid.public_url => Err(error(
            OAuthErrorKind::InvalidTarget,
            format!(
                "this server issues access tokens for {} only",
                openid.public_url
            ),
        )),
        _ => Ok(()),
    }
}

/// Whether `offer` can still be exchanged for an access token at `now`.
pub(super) fn exchangeable(
    offer: &credential_offers::Model,
    now: DateTime<Utc>,
) -> Result<(), OAuthError> {
    use OAuthErrorKind::InvalidGrant;
    match status_of(offer, now) {
        OfferStatus::Pending if offer.access_token.is_none() => Ok(()),
        OfferStatus::Pending
        | OfferStatus::Redeemed
        | OfferStatus::Requested
        | OfferStatus::Approved
        | OfferStatus::Refused => Err(error(
            InvalidGrant,
            "the offer's code was already used for an access token",
        )),
        OfferStatus::Expired => Err(error(InvalidGrant, "the offer has expired")),
        OfferStatus::Blocked => Err(error(
            InvalidGrant,
            "the offer is blocked after too many wrong transaction codes",
        )),
        OfferStatus::Erased => Err(error(InvalidGrant, WITHDRAWN)),
    }
}

/// Refuses a token request without a DPoP proof for an offer of an institution that
/// requires DPoP-bound tokens (HAIP).
pub(super) async fn dpop_unless_required(
    openid: &OpenId,
    offer: &credential_offers::Model,
    dpop_proof: Option<&str>,
) -> Result<(), OAuthError> {
    if dpop_proof.is_none()
        && openid
            .issuer
            .settings()
            .require_dpop(&offer.tenant_id)
            .await?
    {
        return Err(error(
            OAuthErrorKind::InvalidDpopProof,
            "this institution requires access tokens bound to the wallet's key: send a DPoP \
             proof (RFC 9449)",
        ));
    }
    Ok(())
}

/// The pre-authorized code grant: the offer it names, checked with its transaction code
/// and wallet attestation, and the DPoP key to bind the token to.
async fn pre_authorized(
    openid: &OpenId,
    request: TokenRequest,
    dpop_proof: Option<&str>,
    wallet: client_attestation::Presented<'_>,
    now: DateTime<Utc>,
) -> Result<(credential_offers::Model, Option<dpop::Thumbprint>), OAuthError> {
    use OAuthErrorKind::*;
    let code = request
        .pre_authorized_code
        .ok_or_else(|| error(InvalidRequest, "pre-authorized_code is required"))?;
    let offer = credential_offers::Entity::find()
        .filter(credential_offers::Column::Code.eq(token_hash(&code)))
        .filter(credential_offers::Column::GrantType.eq(PRE_AUTHORIZED_GRANT))
        .one(&openid.db)
        .await?
        .ok_or_else(|| error(InvalidGrant, "unknown pre-authorized code"))?;
    exchangeable(&offer, now)?;
    dpop_unless_required(openid, &offer, dpop_proof).await?;
    let client_id = request.client_id.as_deref();
    client_attestation::check(openid, &offer.tenant_id, wallet, client_id, now).await?;
    let bound_to = match dpop_proof {
        Some(proof) => Some(dpop::for_post(openid, proof, paths::TOKEN, None, now).await?),
        None => None,
    };
    if offer.tx_code.is_some() {
        let Some(given) = request.tx_code else {
            return Err(error(InvalidRequest, "this offer requires a tx_code"));
        };
        if let TxCode::Wrong { attempts_left } = check_tx_code(openid, &offer, &given).await? {
            return Err(error(
                InvalidGrant,
                format!("wrong tx_code; {attempts_left} attempt(s) left"),
            ));
        }
    }
    Ok((offer, bound_to))
}

/// Gives out the access token of `offer`, bound to `bound_to` when DPoP was used: once,
/// even when two requests race.
async fn grant_access(
    openid: &OpenId,
    offer: &credential_offers::Model,
    bound_to: Option<dpop::Thumbprint>,
    now: DateTime<Utc>,
) -> Result<Value, OAuthError> {
    let access_token = random_token();
    let claimed = credential_offers::Entity::update_many()
        .col_expr(
            credential_offers::Column::AccessToken,
            Expr::value(token_hash(&access_token)),
        )
        .col_expr(
            credential_offers::Column::AccessTokenExpiresAt,
            Expr::value(now + Duration::seconds(ACCESS_TOKEN_SECS)),
        )
        .col_expr(
            credential_offers::Column::AccessTokenJkt,
            Expr::value(bound_to.clone()),
        )
        .filter(credential_offers::Column::Id.eq(&offer.id))
        .filter(credential_offers::Column::AccessToken.is_null())
        .exec(&openid.db)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(error(
            OAuthErrorKind::InvalidGrant,
            "the offer's code was already used for an access token",
        ));
    }
    let format = parse_format(&offer.format)?;
    let authorization_details: Vec<Value> =
        VciFormat::configuration_ids(format, &offer.credential_type)
            .into_iter()
            .map(|configuration| {
                json!({
                    "type": "openid_credential",
                    "credential_configuration_id": configuration,
                    "credential_identifiers": [configuration],
                })
            })
            .collect();
    let c_nonce = openid.nonces.issue(now);
    Ok(json!({
        "access_token": access_token,
        "token_type": if bound_to.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": ACCESS_TOKEN_SECS,
        "authorization_details": authorization_details,
        "c_nonce": c_nonce,
        "c_nonce_expires_in": nonces::LIFETIME_SECS,
    }))
}

pub(super) fn parse_format(name: &str) -> Result<CredentialFormat, OAuthError> {
    serde_json::from_value(json!(name)).map_err(OAuthError::internal)
}

/// The shape a wallet speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// OpenID4VCI 1.0: `proofs`, answered with `credentials`.
    Final,
    /// Draft 13: `proof`, answered with `credential` and a fresh `c_nonce`.
    Draft13,
}

/// How a credential request presents its access token: the `Authorization` header's
/// scheme and token, and the `DPoP` header.
#[derive(Debug, Clone, Copy)]
pub struct Presented<'a> {
    /// `Authorization: Bearer <token>` or `Authorization: DPoP <token>`.
    pub authorization: Option<&'a str>,
    /// The `DPoP` header: a proof for this request and token.
    pub dpop_proof: Option<&'a str>,
}

/// The offer whose access token `presented` carries to the endpoint at `path`, checked:
/// unexpired, and — for a token bound by DPoP — presented with the `DPoP` scheme and a
/// fresh proof of its key for this request.
async fn authorised(
    openid: &OpenId,
    presented: Presented<'_>,
    path: &str,
    now: DateTime<Utc>,
) -> Result<credential_offers::Model, OAuthError> {
    use OAuthErrorKind::*;
    let authorization = presented
        .authorization
        .ok_or_else(|| error(InvalidToken, "an access token is required"))?;
    let (scheme, token) = authorization.split_once(' ').ok_or_else(|| {
        error(
            InvalidToken,
            "the Authorization header must be `Bearer <token>` or `DPoP <token>`",
        )
    })?;
    let offer = credential_offers::Entity::find()
        .filter(credential_offers::Column::AccessToken.eq(token_hash(token)))
        .one(&openid.db)
        .await?
        .ok_or_else(|| error(InvalidToken, "unknown access token"))?;
    if offer.access_token_expires_at.is_none_or(|t| t <= now) {
        return Err(error(InvalidToken, "the access token has expired"));
    }
    match (&offer.access_token_jkt, scheme) {
        (None, s) if s.eq_ignore_ascii_case("Bearer") => Ok(offer),
        (None, _) => Err(error(
            InvalidToken,
            "this access token is a bearer token: send it as `Authorization: Bearer`",
        )),
        (Some(jkt), s) if s.eq_ignore_ascii_case("DPoP") => {
            let proof = presented.dpop_proof.ok_or_else(|| {
                error(
                    InvalidDpopProof,
                    "this access token is bound by DPoP: send a DPoP proof",
                )
            })?;
            if dpop::for_post(openid, proof, path, Some(token), now).await? != *jkt {
                return Err(error(
                    InvalidDpopProof,
                    "the DPoP proof is made with another key than the one the access token is bound to",
                ));
            }
            Ok(offer)
        }
        (Some(_), _) => Err(error(
            InvalidToken,
            "this access token is bound by DPoP: send it as `Authorization: DPoP` with a proof",
        )),
    }
}

/// What the credential and deferred credential endpoints answer.
#[derive(Debug)]
pub enum Answer {
    /// The credentials (200).
    Issued(Value),
    /// Come back later, to the deferred credential endpoint (202).
    Deferred(Value),
}

/// How long a wallet may come back for a credential the institution is to approve: its
/// access token then lives as long, usable only there and at the notification endpoint.
pub const DEFERRED_SECS: i64 = 14 * 24 * 3600;
/// How long a wallet waits between two visits to the deferred credential endpoint.
pub const DEFERRED_INTERVAL_SECS: u64 = 5;

/// Issues the offered credential to the holder of the proofs' keys — a copy per key
/// (batch issuance) — once per offer; or, for an offer the institution approves first,
/// keeps the request and tells the wallet to come back (deferred issuance).
pub async fn credential(
    openid: &OpenId,
    presented: Presented<'_>,
    request: &Value,
    now: DateTime<Utc>,
) -> Result<Answer, OAuthError> {
    use OAuthErrorKind::*;
    let offer = authorised(openid, presented, paths::CREDENTIAL, now).await?;
    if offer.redeemed_at.is_some() {
        return Err(error(
            InvalidToken,
            "the access token was already used to receive its credential",
        ));
    }
    if offer.requested_at.is_some() {
        return Err(error(
            InvalidCredentialRequest,
            "the credential was already asked for with this access token: collect it at the \
             deferred credential endpoint with its transaction_id",
        ));
    }
    let format = parse_format(&offer.format)?;
    let (dialect, chosen, proofs) = requested_proofs(request, &offer.credential_type, format)?;
    let settings = openid.issuer.settings().of(&offer.tenant_id).await?;
    let attestation = proof::AttestationPolicy {
        required: settings.require_key_attestation,
        providers: settings.wallet_providers,
    };
    let holders = match proof::check(
        &openid.db,
        &openid.nonces,
        &proofs,
        &openid.public_url,
        &attestation,
        now,
    )
    .await
    {
        Ok(holders) => holders,
        Err(mut e) => {
            e.c_nonce = Some(openid.nonces.issue(now));
            return Err(e);
        }
    };
    let holders: Vec<String> = holders.into_iter().map(|h| h.did).collect();
    if Approval::of(&offer) == Some(Approval::Required) {
        return defer(openid, &offer, dialect, chosen, holders, now).await;
    }
    let (credentials, notification_id) = deliver(openid, &offer, &holders, chosen, now).await?;
    Ok(Answer::Issued(match dialect {
        Dialect::Final => json!({
            "credentials": credentials,
            "notification_id": notification_id,
        }),
        Dialect::Draft13 => json!({
            "credential": credentials.into_iter().next().map(|c| c["credential"].clone()),
            "notification_id": notification_id,
            "format": chosen.name(),
            "c_nonce": openid.nonces.issue(now),
            "c_nonce_expires_in": nonces::LIFETIME_SECS,
        }),
    }))
}

/// The request of a wallet kept while the institution decides (deferred issuance).
#[derive(Debug, Serialize, Deserialize)]
struct DeferredRequest {
    /// The DIDs of the keys the copies are to be bound to.
    holders: Vec<String>,
    /// The `format` of the configuration asked for.
    configuration: String,
}

/// Keeps the request for `offer`, which the institution approves first, and answers the
/// `transaction_id` the wallet comes back with. The access token then lives
/// [`DEFERRED_SECS`].
async fn defer(
    openid: &OpenId,
    offer: &credential_offers::Model,
    dialect: Dialect,
    chosen: VciFormat,
    holders: Vec<String>,
    now: DateTime<Utc>,
) -> Result<Answer, OAuthError> {
    use OAuthErrorKind::*;
    if dialect == Dialect::Draft13 {
        return Err(error(
            InvalidCredentialRequest,
            "this credential is issued once the institution approves it, which needs a wallet \
             of OpenID4VCI 1.0 (deferred issuance): send `proofs`",
        ));
    }
    if offer.document.is_none() {
        return Err(error(CredentialRequestDenied, WITHDRAWN));
    }
    let transaction_id = random_token();
    let kept = serde_json::to_string(&DeferredRequest {
        holders,
        configuration: chosen.name().to_owned(),
    })
    .map_err(OAuthError::internal)?;
    let claimed = credential_offers::Entity::update_many()
        .col_expr(
            credential_offers::Column::TransactionId,
            Expr::value(token_hash(&transaction_id)),
        )
        .col_expr(
            credential_offers::Column::DeferredRequest,
            Expr::value(kept),
        )
        .col_expr(credential_offers::Column::RequestedAt, Expr::value(now))
        .col_expr(
            credential_offers::Column::AccessTokenExpiresAt,
            Expr::value(now + Duration::seconds(DEFERRED_SECS)),
        )
        .filter(credential_offers::Column::Id.eq(&offer.id))
        .filter(credential_offers::Column::RequestedAt.is_null())
        .filter(credential_offers::Column::RedeemedAt.is_null())
        .exec(&openid.db)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(error(
            InvalidToken,
            "the access token was already used to ask for its credential",
        ));
    }
    Ok(Answer::Deferred(pending(&transaction_id)))
}

/// The answer that tells the wallet to come back.
fn pending(transaction_id: &str) -> Value {
    json!({"transaction_id": transaction_id, "interval": DEFERRED_INTERVAL_SECS})
}

/// The deferred credential endpoint (OpenID4VCI §9): the credentials of a request kept
/// for the institution's approval, once approved; until then, come back later.
///
/// The answer carries no `notification_id`: Animo's `@openid4vc/openid4vci` (0.4) refuses
/// a deferred answer that has one beside `credentials`, which the specification allows.
pub async fn deferred(
    openid: &OpenId,
    presented: Presented<'_>,
    request: &Value,
    now: DateTime<Utc>,
) -> Result<Answer, OAuthError> {
    use OAuthErrorKind::*;
    let offer = authorised(openid, presented, paths::DEFERRED, now).await?;
    let given = request
        .get("transaction_id")
        .and_then(Value::as_str)
        .ok_or_else(|| error(InvalidCredentialRequest, "transaction_id is required"))?;
    if offer.transaction_id.as_deref() != Some(token_hash(given).as_str()) {
        return Err(error(
            InvalidTransactionId,
            "transaction_id names no deferred request of this access token",
        ));
    }
    match status_of(&offer, now) {
        OfferStatus::Requested => Ok(Answer::Deferred(pending(given))),
        OfferStatus::Approved => {
            let kept: DeferredRequest =
                serde_json::from_str(offer.deferred_request.as_deref().unwrap_or_default())
                    .map_err(OAuthError::internal)?;
            let chosen = VciFormat::named(&kept.configuration)
                .ok_or_else(|| OAuthError::internal("a deferred request of no known format"))?;
            let (credentials, _) = deliver(openid, &offer, &kept.holders, chosen, now).await?;
            Ok(Answer::Issued(json!({ "credentials": credentials })))
        }
        OfferStatus::Refused => Err(error(
            CredentialRequestDenied,
            "the institution refused to issue this credential",
        )),
        OfferStatus::Erased => Err(error(CredentialRequestDenied, WITHDRAWN)),
        _ => Err(error(
            InvalidTransactionId,
            "the credential of this transaction_id was already collected",
        )),
    }
}

/// Issues `offer`'s credential to `holders` (a copy for each) and closes the offer, once
/// even when two requests race; the credentials as the answer lists them
/// (`{"credential": …}`), and the `notification_id` the wallet tells what it did with
/// them by.
async fn deliver(
    openid: &OpenId,
    offer: &credential_offers::Model,
    holders: &[String],
    chosen: VciFormat,
    now: DateTime<Utc>,
) -> Result<(Vec<Value>, String), OAuthError> {
    use OAuthErrorKind::*;
    // Claim the offer first: two requests racing with one token get one credential.
    if offer.document.is_none() {
        return Err(match status_of(offer, now) {
            OfferStatus::Erased => error(CredentialRequestDenied, WITHDRAWN),
            _ => error(InvalidToken, "the offer was already redeemed"),
        });
    }
    let claimed = credential_offers::Entity::update_many()
        .col_expr(credential_offers::Column::RedeemedAt, Expr::value(now))
        .filter(credential_offers::Column::Id.eq(&offer.id))
        .filter(credential_offers::Column::RedeemedAt.is_null())
        .exec(&openid.db)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(error(
            InvalidToken,
            "the access token was already used to receive its credential",
        ));
    }
    let issued = match redeem(openid, offer, holders, chosen, now).await {
        Ok(issued) => issued,
        Err(e) => {
            // Nothing was issued: the offer waits again.
            credential_offers::Entity::update_many()
                .col_expr(
                    credential_offers::Column::RedeemedAt,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .filter(credential_offers::Column::Id.eq(&offer.id))
                .exec(&openid.db)
                .await?;
            return Err(e);
        }
    };
    // The wallet tells what it did with the credentials by this id (the notification
    // endpoint).
    let notification_id = random_token();
    let first = issued.first().map(|i| i.credential_id.clone());
    credential_offers::Entity::update_many()
        .col_expr(credential_offers::Column::CredentialId, Expr::value(first))
        .col_expr(
            credential_offers::Column::Copies,
            Expr::value(i32::try_from(issued.len()).unwrap_or(i32::MAX)),
        )
        .col_expr(
            credential_offers::Column::NotificationId,
            Expr::value(token_hash(&notification_id)),
        )
        .col_expr(
            credential_offers::Column::Document,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            credential_offers::Column::DeferredRequest,
            Expr::value(Option::<String>::None),
        )
        .filter(credential_offers::Column::Id.eq(&offer.id))
        .exec(&openid.db)
        .await?;
    let credentials = issued
        .into_iter()
        .map(|issued| {
            let credential = match envelope::open(&issued.secured) {
                Some((_, token)) => json!(token),
                None => issued.secured,
            };
            json!({ "credential": credential })
        })
        .collect();
    Ok((credentials, notification_id))
}

/// Records what the wallet notified it did with the credential it received with the access
/// token `presented` carries (OpenID4VCI §11): `notification_id` from the credential
/// answer, and an `event`. The wallet's `event_description` is not kept. A later event
/// replaces an earlier one (stored, then deleted).
pub async fn notify(
    openid: &OpenId,
    presented: Presented<'_>,
    request: &Value,
    now: DateTime<Utc>,
) -> Result<(), OAuthError> {
    use OAuthErrorKind::*;
    let offer = authorised(openid, presented, paths::NOTIFICATION, now).await?;
    let notification_id = request["notification_id"]
        .as_str()
        .ok_or_else(|| error(InvalidNotificationRequest, "notification_id is required"))?;
    let event: NotificationEvent =
        serde_json::from_value(request["event"].clone()).map_err(|_| {
            error(
                InvalidNotificationRequest,
                "event must be credential_accepted, credential_failure or credential_deleted",
            )
        })?;
    if offer.notification_id.as_deref() != Some(token_hash(notification_id).as_str()) {
        return Err(error(
            InvalidNotificationId,
            "notification_id names no credential received with this access token",
        ));
    }
    credential_offers::Entity::update_many()
        .col_expr(
            credential_offers::Column::NotificationEvent,
            Expr::value(event.as_str()),
        )
        .col_expr(credential_offers::Column::NotifiedAt, Expr::value(now))
        .filter(credential_offers::Column::Id.eq(&offer.id))
        .exec(&openid.db)
        .await?;
    Ok(())
}

/// Issues the offered credential to `holders`: a copy bound to each key, recorded together
/// — or, when the certifier gave the credential its own `id`, which names one credential,
/// to the first key only.
async fn redeem(
    openid: &OpenId,
    offer: &credential_offers::Model,
    holders: &[String],
    format: VciFormat,
    now: DateTime<Utc>,
) -> Result<Vec<issuance::Issued>, OAuthError> {
    let (subject, document) = opened(openid, offer)
        .await
        .map_err(OAuthError::internal)?
        .ok_or_else(|| error(OAuthErrorKind::CredentialRequestDenied, WITHDRAWN))?;
    let mut credential = document["credential"].clone();
    if format == VciFormat::JwtVcJson {
        credential = as_vc_1_1(credential);
    }
    let holders = match credential.get("id") {
        Some(_) => &holders[..holders.len().min(1)],
        None => holders,
    };
    let copies = holders
        .iter()
        .map(|holder| {
            let mut copy = credential.clone();
            copy["credentialSubject"]["id"] = json!(holder);
            copy
        })
        .collect();
    let disclosable: Option<Vec<String>> =
        serde_json::from_value(document["selectivelyDisclosable"].clone())
            .map_err(OAuthError::internal)?;
    openid
        .issuer
        .issue_copies(
            &offer.tenant_id,
            &offer.created_by,
            copies,
            Securing {
                disclosable: disclosable.as_deref(),
                ..Securing::format(format.format())
            },
            DataSubject::Stored(Box::new(subject)),
            now,
        )
        .await
        .map_err(|e| match e {
            IssueError::Internal(cause) => OAuthError::internal(format_args!("{cause:#}")),
            refused => error(OAuthErrorKind::CredentialRequestDenied, refused.to_string()),
        })
}

/// `credential` (as the certifier gave it, VC 2.0) in the VC Data Model 1.1: the v1 context
/// first, and its dates under their 1.1 names. (Issuance adds the contexts 1.1 needs.)
fn as_vc_1_1(mut credential: Value) -> Value {
    let Value::Object(vc) = &mut credential else {
        return credential;
    };
    if let Some(Value::Array(contexts)) = vc.get_mut("@context") {
        for context in contexts.iter_mut() {
            if context == certus_credential::VC_V2_CONTEXT {
                *context = json!(certus_credential::VC_V1_CONTEXT);
            }
        }
    }
    for (v2, v1) in [
        ("validFrom", "issuanceDate"),
        ("validUntil", "expirationDate"),
    ] {
        if let Some(date) = vc.remove(v2) {
            vc.insert(v1.into(), date);
        }
    }
    credential
}

/// Reads a credential request (its JSON body) for an offer of `type_name` in `format`: the
/// dialect it speaks, the offered configuration it asks for, and its proofs of possession
/// — a JWT per key of a batch, or a key attestation for all.
pub fn requested_proofs<'a>(
    request: &'a Value,
    type_name: &str,
    format: CredentialFormat,
) -> Result<(Dialect, VciFormat, Proofs<'a>), OAuthError> {
    let (dialect, chosen) = check_request(request, type_name, format)?;
    Ok((dialect, chosen, proofs_of(request, dialect)?))
}

/// Checks the request names one of the offered configurations; the dialect it speaks and
/// the configuration's format.
fn check_request(
    request: &Value,
    type_name: &str,
    format: CredentialFormat,
) -> Result<(Dialect, VciFormat), OAuthError> {
    use OAuthErrorKind::*;
    if !request.is_object() {
        return Err(error(
            InvalidCredentialRequest,
            "the body must be a JSON object",
        ));
    }
    let dialect = match (request.get("proofs"), request.get("proof")) {
        (Some(_), Some(_)) => {
            return Err(error(
                InvalidCredentialRequest,
                "send `proofs` or `proof`, not both",
            ))
        }
        (_, Some(_)) => Dialect::Draft13,
        _ => Dialect::Final,
    };
    let offered = VciFormat::offered(format);
    let configurations = VciFormat::configuration_ids(format, type_name);
    let not_offered = |what: String| {
        error(
            UnknownCredentialConfiguration,
            format!(
                "this access token is for `{}`, not {what}",
                configurations.join("` or `")
            ),
        )
    };
    let named = request
        .get("credential_configuration_id")
        .or(request.get("credential_identifier"))
        .and_then(Value::as_str);
    if let Some(named) = named {
        return offered
            .iter()
            .zip(&configurations)
            .find(|(_, id)| *id == named)
            .map(|(f, _)| (dialect, *f))
            .ok_or_else(|| not_offered(format!("`{named}`")));
    }
    let Some(requested) = request.get("format").and_then(Value::as_str) else {
        return Err(error(
            InvalidCredentialRequest,
            "credential_configuration_id is required",
        ));
    };
    let types_match = |v: Option<&Value>| {
        v.and_then(Value::as_array)
            .is_some_and(|ts| ts.iter().any(|t| t.as_str() == Some(type_name)))
    };
    let same_type = match format {
        CredentialFormat::DcSdJwt => request.get("vct").and_then(Value::as_str).is_some(),
        _ => types_match(request.pointer("/credential_definition/type")),
    };
    // Draft-13 wallets name SD-JWT VC by its earlier media type.
    let requested = match requested {
        "vc+sd-jwt" => "dc+sd-jwt",
        other => other,
    };
    offered
        .iter()
        .find(|f| f.name() == requested && same_type)
        .map(|f| (dialect, *f))
        .ok_or_else(|| not_offered(format!("a `{requested}` credential of another type")))
}

/// The proofs of the request: draft 13's one `jwt` `proof`, or 1.0's `proofs` — `jwt`
/// proofs, at most [`BATCH_SIZE`], or one `attestation`.
fn proofs_of(request: &Value, dialect: Dialect) -> Result<Proofs<'_>, OAuthError> {
    use OAuthErrorKind::*;
    let missing = || {
        error(
            InvalidProof,
            "a proof of possession of the holder key is required",
        )
    };
    fn text(proof: &Value) -> Result<&str, OAuthError> {
        proof.as_str().ok_or_else(|| {
            error(
                OAuthErrorKind::InvalidProof,
                "each proof must be a JWT string",
            )
        })
    }
    match dialect {
        Dialect::Draft13 => {
            let proof = &request["proof"];
            if proof["proof_type"] != "jwt" {
                return Err(error(InvalidProof, "proof_type must be `jwt`"));
            }
            Ok(Proofs::Jwt(vec![text(&proof["jwt"])?]))
        }
        Dialect::Final => {
            let proofs = request
                .get("proofs")
                .and_then(Value::as_object)
                .ok_or_else(missing)?;
            let (kind, list) = match proofs.iter().collect::<Vec<_>>().as_slice() {
                [(kind, Value::Array(list))] => (kind.as_str(), list),
                [] => return Err(missing()),
                _ => {
                    return Err(error(
                        InvalidProof,
                        "proofs must hold one proof type: a `jwt` or an `attestation` array",
                    ))
                }
            };
            match (kind, list.as_slice()) {
                (_, []) => Err(missing()),
                ("attestation", [attestation]) => Ok(Proofs::Attestation(text(attestation)?)),
                ("attestation", _) => Err(error(
                    InvalidProof,
                    "`attestation` holds one key attestation, for all the keys it attests",
                )),
                ("jwt", jwts) if jwts.len() > BATCH_SIZE => Err(error(
                    InvalidProof,
                    format!(
                        "at most {BATCH_SIZE} proofs (batch_size): one credential is issued per \
                         key"
                    ),
                )),
                ("jwt", jwts) => Ok(Proofs::Jwt(
                    jwts.iter().map(text).collect::<Result<_, _>>()?,
                )),
                (other, _) => Err(error(
                    InvalidProof,
                    format!("proof type `{other}` is not supported; use `jwt` or `attestation`"),
                )),
            }
        }
    }
}
