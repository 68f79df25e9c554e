//! Credential offers (OpenID4VCI §4), redeemed through the pre-authorized code flow or the
//! authorization code flow (`authorization`). A certifier makes an offer
//! of a checked, unsigned credential; it waits, encrypted under its data subject's key
//! (`privacy`), until the holder's wallet redeems it with a key of its own, and is then signed bound to that key.

use std::future::Future;
use std::pin::Pin;

use certus_schemas::openid::{OfferCreated, OfferFlow, OfferInfo, OfferRequest, OfferStatus};
use certus_schemas::wire::CredentialFormat;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{json, Value};

use super::metadata::{paths, VciFormat};
use super::OpenId;
use crate::auth::{random_token, token_hash, Principal};
use crate::issuance::{with_credential_id, IssueError};
use crate::privacy::{vault, ErasureListener, PersonalRows, Subject};
use crate::status::requested::{Requested, RequestedError};
use crate::store::entities::credential_offers;
use crate::store::Inserts;
use crate::uri::percent_encode;
use crate::work::Work;
use certus_credential::time::xsd_now;

/// Default time an offer can be redeemed.
pub const DEFAULT_LIFETIME_SECS: u64 = 7 * 24 * 3600;
/// Longest time an offer can be redeemed.
pub const MAX_LIFETIME_SECS: u64 = 30 * 24 * 3600;
/// Wrong transaction codes after which an offer is blocked.
pub const MAX_TX_CODE_FAILURES: i32 = 5;
/// Digits of a transaction code.
pub const TX_CODE_LENGTH: usize = 6;

fn malformed(message: impl Into<String>, path: &str) -> IssueError {
    IssueError::Malformed {
        message: message.into(),
        path: path.into(),
    }
}

/// Checks the credential as an issuance would and stores the offer; what to give the holder.
pub async fn create(
    openid: &OpenId,
    principal: &Principal,
    request: OfferRequest,
    now: DateTime<Utc>,
) -> Result<OfferCreated, IssueError> {
    let lifetime = request.expires_in.unwrap_or(DEFAULT_LIFETIME_SECS);
    if !(1..=MAX_LIFETIME_SECS).contains(&lifetime) {
        return Err(malformed(
            format!("expiresIn must be between 1 and {MAX_LIFETIME_SECS} seconds"),
            "/expiresIn",
        ));
    }
    if request.credential["credentialSubject"].get("id").is_some() {
        return Err(malformed(
            "credentialSubject.id is set on redemption, to the DID of the wallet's key",
            "/credential/credentialSubject/id",
        ));
    }
    let option = |message: &str, path: &str| IssueError::Option {
        message: message.into(),
        path: path.into(),
    };
    if request.options.mandatory_pointers.is_some() {
        return Err(option(
            "an offer takes selectivelyDisclosable, not mandatoryPointers",
            "/options/mandatoryPointers",
        ));
    }
    let credential =
        with_credential_id(request.credential, request.options.credential_id.as_deref())?;
    // The checks of an issuance, now; redemption makes them again (a mandate may run out
    // or be revoked meanwhile), so the permit is not held while the offer waits.
    let (prepared, permit) = openid
        .issuer
        .authorise(&principal.tenant_id, credential.clone(), now)
        .await?;
    drop(permit);
    if prepared.requested_status != Requested::Any {
        return Err(IssueError::Status(RequestedError::Unsupported(
            "an offered credential gets its status entries when the wallet redeems it: \
             leave credentialStatus out"
                .into(),
        )));
    }
    let format = request.options.format;
    if let Some(names) = &request.options.selectively_disclosable {
        let subject = &prepared.credential["credentialSubject"];
        if format != CredentialFormat::DcSdJwt {
            return Err(malformed(
                "selectivelyDisclosable applies to dc+sd-jwt only",
                "/options/selectivelyDisclosable",
            ));
        }
        if let Some(unknown) = names.iter().find(|n| subject.get(n.as_str()).is_none()) {
            return Err(IssueError::UnknownDisclosable(unknown.clone()));
        }
    }
    let type_name = prepared
        .credential_type
        .as_ref()
        .ok_or_else(|| {
            IssueError::UnknownType(
                "an offer needs a registered credential type: the wallet asks for the \
                 credential by its type's configuration"
                    .into(),
            )
        })?
        .name
        .clone();
    let flow = request.flow;
    // The pre-authorized code, or the authorization code flow's `issuer_state`.
    let code = random_token();
    let tx_code = (request.tx_code || flow == OfferFlow::AuthorizationCode).then(|| {
        let mut rng = rand::rngs::OsRng;
        (0..TX_CODE_LENGTH)
            .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
            .collect::<String>()
    });
    crate::privacy::check(request.options.data_subject.as_ref())?;
    let (mut subject, records) = crate::privacy::subject_of(
        &openid.vault,
        &principal.tenant_id,
        request.options.data_subject.as_ref(),
        &type_name,
        now,
    )
    .await?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let document = subject
        .seal_json(&json!({
            "credential": credential,
            "selectivelyDisclosable": request.options.selectively_disclosable,
            sealed_code_key(flow): code,
        }))
        .map_err(IssueError::Internal)?;
    let expires_at = now + Duration::seconds(lifetime as i64);
    let offer = credential_offers::ActiveModel {
        id: Set(id.clone()),
        tenant_id: Set(principal.tenant_id.clone()),
        credential_type: Set(type_name.clone()),
        format: Set(format.as_str().to_owned()),
        document: Set(Some(document)),
        code: Set(token_hash(&code)),
        tx_code: Set(tx_code.as_deref().map(token_hash)),
        failed_tx_codes: Set(0),
        access_token: Set(None),
        access_token_expires_at: Set(None),
        access_token_jkt: Set(None),
        created_by: Set(principal.actor_id()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        redeemed_at: Set(None),
        credential_id: Set(None),
        subject_id: Set(Some(subject.id.clone())),
        grant_type: Set(flow.grant_type().to_owned()),
        notification_id: Set(None),
        notification_event: Set(None),
        notified_at: Set(None),
        copies: Set(None),
        approval: Set(request
            .approval
            .then(|| Approval::Required.as_str().to_owned())),
        transaction_id: Set(None),
        deferred_request: Set(None),
        requested_at: Set(None),
    };
    let personal = PersonalRows {
        subject: subject.new.take(),
        records,
    };
    let stored: Result<(), sea_orm::DbErr> = async {
        let mut work = Work::begin(&openid.db, now).await?;
        let mut inserts = Inserts::default();
        vault::insert(&mut inserts, [&personal]);
        inserts.execute(work.conn()).await?;
        credential_offers::Entity::insert(offer)
            .exec_without_returning(work.conn())
            .await?;
        work.audit_by(principal, "credential.offer", &id);
        work.commit().await
    }
    .await;
    stored.map_err(|e| IssueError::Internal(e.into()))?;
    let credential_offer = offer_json(
        &openid.public_url,
        &type_name,
        format,
        Grant {
            flow,
            code: &code,
            tx_code: tx_code.is_some(),
        },
    );
    let credential_offer_uri = format!("{}{}/{id}", openid.public_url, paths::OFFERS);
    Ok(OfferCreated {
        offer_uri: offer_uri(&credential_offer_uri),
        qr_code: format!("/credentials/offers/{id}/qr"),
        id,
        credential_offer_uri,
        credential_offer,
        tx_code,
        expires_at: xsd_now(expires_at),
    })
}

/// `openid-credential-offer://?credential_offer_uri=<uri>`.
pub fn offer_uri(credential_offer_uri: &str) -> String {
    format!(
        "openid-credential-offer://?credential_offer_uri={}",
        percent_encode(credential_offer_uri, b"")
    )
}

/// The grant an offer names: its flow, its code, and whether the wallet asks the holder for
/// a transaction code.
#[derive(Debug, Clone, Copy)]
struct Grant<'a> {
    flow: OfferFlow,
    /// The pre-authorized code, or the `issuer_state`.
    code: &'a str,
    tx_code: bool,
}

/// The key of the offer's code in its sealed document.
fn sealed_code_key(flow: OfferFlow) -> &'static str {
    match flow {
        OfferFlow::PreAuthorized => "preAuthorizedCode",
        OfferFlow::AuthorizationCode => "issuerState",
    }
}

/// The credential offer object (OpenID4VCI §4.1.1) of a credential of `type_name` in
/// `format`, with every configuration it may be received in.
fn offer_json(issuer: &str, type_name: &str, format: CredentialFormat, grant: Grant<'_>) -> Value {
    let configurations = VciFormat::configuration_ids(format, type_name);
    let grant_object = match grant.flow {
        OfferFlow::PreAuthorized => {
            let mut object = json!({ "pre-authorized_code": grant.code });
            if grant.tx_code {
                object["tx_code"] = json!({
                    "input_mode": "numeric",
                    "length": TX_CODE_LENGTH,
                    "description": "The code the issuer sent you separately",
                });
            }
            object
        }
        // The holder enters the one-time code on the issuer's page, not in the wallet.
        OfferFlow::AuthorizationCode => json!({ "issuer_state": grant.code }),
    };
    json!({
        "credential_issuer": issuer,
        "credential_configuration_ids": configurations,
        "grants": { grant.flow.grant_type(): grant_object },
    })
}

/// The flow an offer is redeemed through.
pub fn flow_of(offer: &credential_offers::Model) -> OfferFlow {
    OfferFlow::of_grant_type(&offer.grant_type).unwrap_or_default()
}

/// Where the institution's approval of an offer that needs one stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    Required,
    Approved,
    Refused,
}

impl Approval {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Approved => "approved",
            Self::Refused => "refused",
        }
    }

    /// The approval an offer needs or was given; `None` when it needs none.
    pub fn of(offer: &credential_offers::Model) -> Option<Self> {
        let stored = offer.approval.as_deref()?;
        [Self::Required, Self::Approved, Self::Refused]
            .into_iter()
            .find(|a| a.as_str() == stored)
    }
}

/// Where an offer stands at `now`. Once a wallet asked for the credential of an offer
/// that needs approval, the offer waits for the institution, then for the wallet, however
/// late: its expiry is for the wallet's first request.
pub fn status_of(offer: &credential_offers::Model, now: DateTime<Utc>) -> OfferStatus {
    if offer.redeemed_at.is_some() {
        OfferStatus::Redeemed
    } else if Approval::of(offer) == Some(Approval::Refused) {
        OfferStatus::Refused
    } else if offer.document.is_none() {
        OfferStatus::Erased
    } else if offer.requested_at.is_some() {
        match Approval::of(offer) {
            Some(Approval::Approved) => OfferStatus::Approved,
            _ => OfferStatus::Requested,
        }
    } else if offer.failed_tx_codes >= MAX_TX_CODE_FAILURES {
        OfferStatus::Blocked
    } else if offer.expires_at <= now {
        OfferStatus::Expired
    } else {
        OfferStatus::Pending
    }
}

/// What a transaction code given for an offer was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxCode {
    Right,
    /// Counted against the offer, which is blocked after [`MAX_TX_CODE_FAILURES`].
    Wrong {
        attempts_left: i32,
    },
}

/// Checks `given` against the transaction code of `offer` (which has one), counting a
/// wrong one on the offer — the same count wherever the holder gave it.
pub async fn check_tx_code(
    openid: &OpenId,
    offer: &credential_offers::Model,
    given: &str,
) -> Result<TxCode, DbErr> {
    if offer.tx_code.as_deref() == Some(token_hash(given).as_str()) {
        return Ok(TxCode::Right);
    }
    credential_offers::Entity::update_many()
        .col_expr(
            credential_offers::Column::FailedTxCodes,
            Expr::col(credential_offers::Column::FailedTxCodes).add(1),
        )
        .filter(credential_offers::Column::Id.eq(&offer.id))
        .exec(&openid.db)
        .await?;
    Ok(TxCode::Wrong {
        attempts_left: Ord::max(MAX_TX_CODE_FAILURES - offer.failed_tx_codes - 1, 0),
    })
}

/// Offers as a listener of erasures: an erased data subject's offers that still wait for
/// their wallet are withdrawn in the erasure's transaction — their sealed credential is
/// cleared, and they answer `erased`.
#[derive(Debug, Clone, Copy, Default)]
pub struct WithdrawOffers;

impl ErasureListener for WithdrawOffers {
    fn subjects_erased<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        subjects: &'a [&'a str],
    ) -> Pin<Box<dyn Future<Output = Result<(), DbErr>> + Send + 'a>> {
        Box::pin(async move {
            credential_offers::Entity::update_many()
                .col_expr(
                    credential_offers::Column::Document,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    credential_offers::Column::DeferredRequest,
                    Expr::value(Option::<String>::None),
                )
                .filter(credential_offers::Column::SubjectId.is_in(subjects.iter().copied()))
                .filter(credential_offers::Column::RedeemedAt.is_null())
                .exec(txn)
                .await?;
            Ok(())
        })
    }
}

/// Approves or refuses (`approve`) the credential a wallet asked for with offer `id` of the
/// principal's institution, which needs approval; false when the offer is not waiting for
/// it. A refusal drops the offer's credential and the wallet's request: nothing of it is
/// issued, ever.
pub async fn decide(
    openid: &OpenId,
    principal: &Principal,
    id: &str,
    approve: bool,
    now: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    use credential_offers::Column;
    let decision = if approve {
        Approval::Approved
    } else {
        Approval::Refused
    };
    let mut work = Work::begin(&openid.db, now).await?;
    let mut update = credential_offers::Entity::update_many()
        .col_expr(Column::Approval, Expr::value(decision.as_str()))
        .filter(Column::Id.eq(id))
        .filter(Column::TenantId.eq(&principal.tenant_id))
        .filter(Column::Approval.eq(Approval::Required.as_str()))
        .filter(Column::RequestedAt.is_not_null())
        .filter(Column::RedeemedAt.is_null())
        .filter(Column::Document.is_not_null());
    if !approve {
        update = update
            .col_expr(Column::Document, Expr::value(Option::<String>::None))
            .col_expr(Column::DeferredRequest, Expr::value(Option::<String>::None));
    }
    if update.exec(work.conn()).await?.rows_affected != 1 {
        return Ok(false);
    }
    let action = if approve {
        "credential.offer.approve"
    } else {
        "credential.offer.refuse"
    };
    work.audit_by(principal, action, id);
    work.commit().await?;
    Ok(true)
}

/// An offer as its institution sees it.
pub fn info(offer: &credential_offers::Model, now: DateTime<Utc>) -> OfferInfo {
    OfferInfo {
        id: offer.id.clone(),
        credential_type: offer.credential_type.clone(),
        format: offer.format.clone(),
        status: status_of(offer, now),
        flow: flow_of(offer),
        tx_code_required: offer.tx_code.is_some(),
        approval_required: offer.approval.is_some(),
        requested_at: offer.requested_at.map(xsd_now),
        created_by: offer.created_by.clone(),
        created_at: xsd_now(offer.created_at),
        expires_at: xsd_now(offer.expires_at),
        redeemed_at: offer.redeemed_at.map(xsd_now),
        credential_id: offer.credential_id.clone(),
        copies: offer.copies.and_then(|n| u32::try_from(n).ok()),
        notification: offer
            .notification_event
            .as_deref()
            .and_then(|e| serde_json::from_value(json!(e)).ok()),
        notified_at: offer.notified_at.map(xsd_now),
    }
}

/// The offer `id` of `tenant_id`.
pub async fn find(
    openid: &OpenId,
    tenant_id: &str,
    id: &str,
) -> Result<Option<credential_offers::Model>, sea_orm::DbErr> {
    credential_offers::Entity::find_by_id(id)
        .filter(credential_offers::Column::TenantId.eq(tenant_id))
        .one(&openid.db)
        .await
}

/// The latest offers of `tenant_id`, newest first.
pub async fn latest(
    openid: &OpenId,
    tenant_id: &str,
    limit: u64,
) -> Result<Vec<credential_offers::Model>, sea_orm::DbErr> {
    credential_offers::Entity::find()
        .filter(credential_offers::Column::TenantId.eq(tenant_id))
        .order_by_desc(credential_offers::Column::CreatedAt)
        .limit(limit)
        .all(&openid.db)
        .await
}

/// The credential offer object served at its `credential_offer_uri`, while the offer can
/// still be redeemed and its code has not been exchanged; `None` otherwise.
pub async fn published(
    openid: &OpenId,
    id: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Value>> {
    let Some(offer) = credential_offers::Entity::find_by_id(id)
        .one(&openid.db)
        .await?
    else {
        return Ok(None);
    };
    if status_of(&offer, now) != OfferStatus::Pending || offer.access_token.is_some() {
        return Ok(None);
    }
    let Some((_, document)) = opened(openid, &offer).await? else {
        return Ok(None);
    };
    let flow = flow_of(&offer);
    let code = document[sealed_code_key(flow)].as_str().unwrap_or_default();
    let format: CredentialFormat = serde_json::from_value(json!(offer.format))?;
    Ok(Some(offer_json(
        &openid.public_url,
        &offer.credential_type,
        format,
        Grant {
            flow,
            code,
            tx_code: offer.tx_code.is_some(),
        },
    )))
}

/// An offer's data subject and sealed document (its credential, options and
/// pre-authorized code or `issuer_state`), opened with the subject's key; `None` once redeemed or erased.
pub async fn opened(
    openid: &OpenId,
    offer: &credential_offers::Model,
) -> anyhow::Result<Option<(Subject, Value)>> {
    let (Some(document), Some(subject_id)) = (&offer.document, &offer.subject_id) else {
        return Ok(None);
    };
    match openid
        .vault
        .subject(&openid.db, &offer.tenant_id, subject_id)
        .await?
    {
        Some(Ok(subject)) => {
            let document = subject.open_json(document)?;
            Ok(Some((subject, document)))
        }
        Some(Err(_)) | None => Ok(None),
    }
}
