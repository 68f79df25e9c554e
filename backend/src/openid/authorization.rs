//! The authorization code flow of OpenID4VCI (decision 26): a wallet pushes its
//! authorization request (PAR, RFC 9126) naming the offer by its `issuer_state`, with a
//! PKCE challenge (RFC 7636, S256 only) and optionally a DPoP key (RFC 9449 §10); the
//! holder's browser opens the issuer's page at the authorization endpoint and enters the
//! offer's one-time code; the page sends the browser back to the wallet with a one-time
//! authorization code (with `state` and `iss`, RFC 9207), which the token endpoint
//! exchanges once for an access token — against the PKCE verifier, the same client and
//! redirect URI, and a proof by the pushed DPoP key.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde::Deserialize;
use serde_json::{json, Value};
use url::Url;

use super::issuer::{
    check_resource, dpop_unless_required, exchangeable, parse_format, TokenRequest,
};
use super::metadata::{paths, VciFormat, AUTHORIZATION_CODE_GRANT};
use super::offers::{check_tx_code, TxCode};
use super::{client_attestation, dpop, OAuthError, OAuthErrorKind, OpenId};
use crate::auth::{random_token, token_hash};
use crate::store::entities::{authorization_requests, credential_offers, tenants};
use certus_schemas::holder::pkce_challenge;

/// What a `request_uri` starts with (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// How long a pushed request waits for the holder's browser to open it.
pub const REQUEST_URI_SECS: i64 = 60;
/// How long the holder has to enter the code once the page is open.
pub const PAGE_SECS: i64 = 600;
/// How long an authorization code can be exchanged.
pub const CODE_SECS: i64 = 60;
/// Requests of one offer that may wait at once: a wallet that retries gets a few, nobody
/// gets a table full.
const MAX_WAITING_REQUESTS: u64 = 10;

fn refused(kind: OAuthErrorKind, description: impl Into<String>) -> OAuthError {
    OAuthError::new(kind, description)
}

fn invalid_request(description: impl Into<String>) -> OAuthError {
    refused(OAuthErrorKind::InvalidRequest, description)
}

/// A pushed authorization request (form-encoded, RFC 9126 §2.1).
#[derive(Debug, Default, Deserialize)]
pub struct PushedRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub state: Option<String>,
    /// The offer's `issuer_state`.
    pub issuer_state: Option<String>,
    /// Space-separated scopes: each a credential configuration's `scope`.
    pub scope: Option<String>,
    /// RFC 9396 authorization details, as JSON.
    pub authorization_details: Option<String>,
    /// RFC 8707: when given, this credential issuer.
    pub resource: Option<String>,
    /// RFC 9449 §10: the thumbprint of the DPoP key the token will be asked with.
    pub dpop_jkt: Option<String>,
    /// A request object (RFC 9101): not taken.
    pub request: Option<String>,
    /// Not taken in a pushed request (RFC 9126 §2.1).
    pub request_uri: Option<String>,
}

/// Takes a pushed authorization request for an offer of the authorization code flow; the
/// `request_uri` the wallet sends the holder's browser with, and its lifetime.
pub async fn push(
    openid: &OpenId,
    request: PushedRequest,
    dpop_proof: Option<&str>,
    wallet: client_attestation::Presented<'_>,
    now: DateTime<Utc>,
) -> Result<Value, OAuthError> {
    use OAuthErrorKind::*;
    if request.request.is_some() {
        return Err(invalid_request(
            "request objects are not taken: push the parameters themselves",
        ));
    }
    if request.request_uri.is_some() {
        return Err(invalid_request(
            "a pushed request cannot name a request_uri",
        ));
    }
    match request.response_type.as_deref() {
        Some("code") => {}
        Some(other) => {
            return Err(refused(
                UnsupportedResponseType,
                format!("response_type `{other}` is not supported; use `code`"),
            ))
        }
        None => return Err(invalid_request("response_type is required")),
    }
    let client_id = required(request.client_id, "client_id")?;
    let redirect_uri = required(request.redirect_uri, "redirect_uri")?;
    redirect_target(&redirect_uri)?;
    let code_challenge = required(request.code_challenge, "code_challenge")?;
    if request.code_challenge_method.as_deref() != Some("S256") {
        return Err(invalid_request(
            "code_challenge_method must be S256: PKCE with `plain` is not taken",
        ));
    }
    if code_challenge.len() != 43 || !is_base64url(&code_challenge) {
        return Err(invalid_request(
            "code_challenge must be the base64url SHA-256 of the code verifier (43 characters)",
        ));
    }
    check_resource(openid, request.resource.as_deref())?;
    let issuer_state = required(request.issuer_state, "issuer_state").map_err(|_| {
        invalid_request(
            "issuer_state is required: this issuer authorizes the credentials it offered, \
             named by the offer's issuer_state",
        )
    })?;
    let offer = credential_offers::Entity::find()
        .filter(credential_offers::Column::Code.eq(token_hash(&issuer_state)))
        .filter(credential_offers::Column::GrantType.eq(AUTHORIZATION_CODE_GRANT))
        .one(&openid.db)
        .await?
        .ok_or_else(|| invalid_request("unknown issuer_state"))?;
    exchangeable(&offer, now).map_err(|e| invalid_request(e.description))?;
    check_asked_for(
        &offer,
        request.scope.as_deref(),
        request.authorization_details.as_deref(),
    )?;
    client_attestation::check(openid, &offer.tenant_id, wallet, Some(&client_id), now).await?;
    let dpop_jkt = match (dpop_proof, request.dpop_jkt) {
        (Some(proof), named) => {
            let jkt = dpop::for_post(openid, proof, paths::PAR, None, now).await?;
            if named.is_some_and(|named| named != jkt) {
                return Err(refused(
                    InvalidDpopProof,
                    "dpop_jkt is not the thumbprint of the DPoP proof's key",
                ));
            }
            Some(jkt)
        }
        (None, named) => named,
    };
    let waiting = authorization_requests::Entity::find()
        .filter(authorization_requests::Column::OfferId.eq(&offer.id))
        .filter(authorization_requests::Column::ExpiresAt.gt(now))
        .filter(authorization_requests::Column::Code.is_null())
        .count(&openid.db)
        .await?;
    if waiting >= MAX_WAITING_REQUESTS {
        return Err(invalid_request(format!(
            "{MAX_WAITING_REQUESTS} authorization requests for this offer already wait; \
             try again in a minute"
        )));
    }
    let reference = random_token();
    authorization_requests::Entity::insert(authorization_requests::ActiveModel {
        id: Set(uuid::Uuid::new_v4().simple().to_string()),
        offer_id: Set(offer.id.clone()),
        request_uri: Set(token_hash(&reference)),
        client_id: Set(client_id),
        redirect_uri: Set(redirect_uri),
        state: Set(request.state),
        code_challenge: Set(code_challenge),
        dpop_jkt: Set(dpop_jkt),
        created_at: Set(now),
        expires_at: Set(now + Duration::seconds(REQUEST_URI_SECS)),
        opened_at: Set(None),
        code: Set(None),
        code_expires_at: Set(None),
        code_used_at: Set(None),
    })
    .exec_without_returning(&openid.db)
    .await?;
    Ok(json!({
        "request_uri": format!("{REQUEST_URI_PREFIX}{reference}"),
        "expires_in": REQUEST_URI_SECS,
    }))
}

fn required(value: Option<String>, name: &str) -> Result<String, OAuthError> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| invalid_request(format!("{name} is required")))
}

fn is_base64url(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Where the holder's browser may be sent back to: an absolute URI without a fragment
/// (RFC 6749 §3.1.2) that is https, http on a loopback address (RFC 8252 §7.3), or a
/// wallet app's private-use scheme (RFC 8252 §7.1) — never a scheme that runs or reads
/// something in the browser.
pub fn redirect_target(redirect_uri: &str) -> Result<Url, OAuthError> {
    let url = Url::parse(redirect_uri)
        .map_err(|_| invalid_request("redirect_uri must be an absolute URI"))?;
    if url.fragment().is_some() {
        return Err(invalid_request("redirect_uri must not have a fragment"));
    }
    let loopback = matches!(
        url.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    );
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(invalid_request(
            "an http redirect_uri must be a loopback address; use https",
        )),
        "javascript" | "data" | "file" | "blob" | "about" | "vbscript" | "filesystem" | "ws"
        | "wss" | "ftp" => Err(invalid_request(format!(
            "redirect_uri cannot be a `{}:` URI",
            url.scheme()
        ))),
        _ => Ok(url),
    }
}

/// Checks that `scope` and `authorization_details`, when given, ask for the offer's
/// credential.
fn check_asked_for(
    offer: &credential_offers::Model,
    scope: Option<&str>,
    authorization_details: Option<&str>,
) -> Result<(), OAuthError> {
    use OAuthErrorKind::*;
    if let Some(scope) = scope {
        if let Some(other) = scope
            .split(' ')
            .find(|s| !s.is_empty() && *s != offer.credential_type)
        {
            return Err(refused(
                InvalidScope,
                format!(
                    "scope `{other}` is not offered; the offer's scope is `{}`",
                    offer.credential_type
                ),
            ));
        }
    }
    let Some(details) = authorization_details else {
        return Ok(());
    };
    let wrong = |why: &str| refused(InvalidAuthorizationDetails, why.to_owned());
    let details: Vec<Value> = serde_json::from_str(details)
        .map_err(|_| wrong("authorization_details must be a JSON array"))?;
    let offered =
        VciFormat::configuration_ids(parse_format(&offer.format)?, &offer.credential_type);
    for detail in &details {
        if detail["type"] != "openid_credential" {
            return Err(wrong(
                "each authorization detail must be of type openid_credential",
            ));
        }
        let named = detail["credential_configuration_id"]
            .as_str()
            .unwrap_or_default();
        if !offered.iter().any(|o| o == named) {
            return Err(wrong(&format!(
                "credential_configuration_id `{named}` is not offered; the offer has `{}`",
                offered.join("`, `")
            )));
        }
    }
    Ok(())
}

/// The authorization endpoint's query (and its form): the pushed request's reference and
/// the client that pushed it.
#[derive(Debug, Default, Deserialize)]
pub struct Authorization {
    pub client_id: Option<String>,
    pub request_uri: Option<String>,
}

/// The holder's answer on the page, as its form posts it.
#[derive(Debug, Default, Deserialize)]
pub struct Answer {
    #[serde(flatten)]
    pub authorization: Authorization,
    /// The offer's one-time code.
    pub tx_code: Option<String>,
    /// Present when the holder declined.
    pub decline: Option<String>,
}

/// The page that asks the holder for the offer's code.
#[derive(Debug, Clone)]
pub struct Page {
    /// The institution offering the credential.
    pub institution: String,
    /// The credential's title.
    pub credential: String,
    /// Where the browser goes afterwards.
    pub redirect_uri: Url,
    /// The request the page answers.
    pub request_uri: String,
    pub client_id: String,
    /// Wrong codes the holder can still give before the offer is blocked.
    pub attempts_left: i32,
    /// Why the last answer was not taken.
    pub problem: Option<String>,
}

/// What the authorization endpoint does next.
#[derive(Debug, Clone)]
pub enum Step {
    /// Show the page.
    Page(Page),
    /// Send the browser back to the wallet: with a code, or an error.
    Redirect(Url),
}

/// The request a browser brings, checked: pushed, by this client, not expired and not
/// answered yet. Errors here are shown, not redirected: the redirect URI is not yet known
/// to be the wallet's (RFC 6749 §4.1.2.1).
async fn pushed(
    openid: &OpenId,
    authorization: &Authorization,
    now: DateTime<Utc>,
) -> Result<authorization_requests::Model, OAuthError> {
    let reference = authorization
        .request_uri
        .as_deref()
        .ok_or_else(|| {
            invalid_request(
                "this issuer takes pushed authorization requests only (RFC 9126): the wallet \
                 must push its request and send the browser here with its request_uri",
            )
        })?
        .strip_prefix(REQUEST_URI_PREFIX)
        .ok_or_else(|| invalid_request("request_uri is not one this issuer gave out"))?;
    let request = authorization_requests::Entity::find()
        .filter(authorization_requests::Column::RequestUri.eq(token_hash(reference)))
        .one(&openid.db)
        .await?
        .ok_or_else(|| invalid_request("request_uri is not one this issuer gave out"))?;
    if authorization.client_id.as_deref() != Some(request.client_id.as_str()) {
        return Err(invalid_request(
            "client_id is not the client that pushed this request",
        ));
    }
    if request.code.is_some() {
        return Err(invalid_request(
            "this request was answered already: go back to your wallet",
        ));
    }
    if request.expires_at <= now {
        return Err(invalid_request(
            "this request has expired: start again from your wallet",
        ));
    }
    Ok(request)
}

/// `uri` with the answer's parameters, and `state` and `iss` (RFC 9207).
fn answer_uri(
    openid: &OpenId,
    request: &authorization_requests::Model,
    params: &[(&str, &str)],
) -> Result<Url, OAuthError> {
    let mut uri = redirect_target(&request.redirect_uri)?;
    {
        let mut query = uri.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
        if let Some(state) = &request.state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", &openid.public_url);
    }
    Ok(uri)
}

/// The wallet's error redirect: `access_denied` with `description`.
fn denied(
    openid: &OpenId,
    request: &authorization_requests::Model,
    description: &str,
) -> Result<Step, OAuthError> {
    answer_uri(
        openid,
        request,
        &[
            ("error", "access_denied"),
            ("error_description", description),
        ],
    )
    .map(Step::Redirect)
}

/// The offer a pushed request is for, if it can still be redeemed; otherwise the reason.
async fn offer_of(
    openid: &OpenId,
    request: &authorization_requests::Model,
    now: DateTime<Utc>,
) -> Result<Result<credential_offers::Model, String>, OAuthError> {
    let offer = credential_offers::Entity::find_by_id(&request.offer_id)
        .one(&openid.db)
        .await?
        .ok_or_else(|| OAuthError::internal("an authorization request without its offer"))?;
    Ok(exchangeable(&offer, now)
        .map(|()| offer)
        .map_err(|e| e.description))
}

/// The page for a pushed request (`GET` of the authorization endpoint). Opening it starts
/// the holder's [`PAGE_SECS`]; opening it again (a reload) shows it again.
pub async fn open(
    openid: &OpenId,
    authorization: Authorization,
    now: DateTime<Utc>,
) -> Result<Step, OAuthError> {
    let request = pushed(openid, &authorization, now).await?;
    let offer = match offer_of(openid, &request, now).await? {
        Ok(offer) => offer,
        Err(why) => return denied(openid, &request, &why),
    };
    if request.opened_at.is_none() {
        authorization_requests::Entity::update_many()
            .col_expr(authorization_requests::Column::OpenedAt, Expr::value(now))
            .col_expr(
                authorization_requests::Column::ExpiresAt,
                Expr::value(now + Duration::seconds(PAGE_SECS)),
            )
            .filter(authorization_requests::Column::Id.eq(&request.id))
            .filter(authorization_requests::Column::OpenedAt.is_null())
            .exec(&openid.db)
            .await?;
    }
    page(openid, &authorization, &request, &offer, None)
        .await
        .map(Step::Page)
}

async fn page(
    openid: &OpenId,
    authorization: &Authorization,
    request: &authorization_requests::Model,
    offer: &credential_offers::Model,
    problem: Option<String>,
) -> Result<Page, OAuthError> {
    let institution = tenants::Entity::find_by_id(&offer.tenant_id)
        .one(&openid.db)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    let credential = openid
        .catalog
        .get(&offer.credential_type)
        .map(|t| t.title.clone())
        .unwrap_or_else(|| offer.credential_type.clone());
    Ok(Page {
        institution,
        credential,
        redirect_uri: redirect_target(&request.redirect_uri)?,
        request_uri: authorization.request_uri.clone().unwrap_or_default(),
        client_id: request.client_id.clone(),
        attempts_left: super::offers::MAX_TX_CODE_FAILURES - offer.failed_tx_codes,
        problem,
    })
}

/// The holder's answer on the page (`POST` of the authorization endpoint): the offer's
/// code — right, and the browser goes back to the wallet with an authorization code;
/// wrong, and the page asks again (five wrong codes block the offer, wherever they were
/// given) — or a refusal.
pub async fn answer(
    openid: &OpenId,
    answer: Answer,
    now: DateTime<Utc>,
) -> Result<Step, OAuthError> {
    let authorization = answer.authorization;
    let request = pushed(openid, &authorization, now).await?;
    if answer.decline.is_some() {
        return denied(openid, &request, "the holder declined");
    }
    let offer = match offer_of(openid, &request, now).await? {
        Ok(offer) => offer,
        Err(why) => return denied(openid, &request, &why),
    };
    let given = answer.tx_code.unwrap_or_default();
    let given = given.trim();
    if given.is_empty() {
        let problem = "Enter the code.".to_owned();
        return page(openid, &authorization, &request, &offer, Some(problem))
            .await
            .map(Step::Page);
    }
    if offer.tx_code.is_some() {
        if let TxCode::Wrong { attempts_left } = check_tx_code(openid, &offer, given).await? {
            if attempts_left == 0 {
                return denied(
                    openid,
                    &request,
                    "the offer is blocked after too many wrong codes",
                );
            }
            let problem = format!("That code is not right. {attempts_left} attempt(s) left.");
            let mut shown = page(openid, &authorization, &request, &offer, Some(problem)).await?;
            shown.attempts_left = attempts_left;
            return Ok(Step::Page(shown));
        }
    }
    let code = random_token();
    let given_out = authorization_requests::Entity::update_many()
        .col_expr(
            authorization_requests::Column::Code,
            Expr::value(token_hash(&code)),
        )
        .col_expr(
            authorization_requests::Column::CodeExpiresAt,
            Expr::value(now + Duration::seconds(CODE_SECS)),
        )
        .filter(authorization_requests::Column::Id.eq(&request.id))
        .filter(authorization_requests::Column::Code.is_null())
        .exec(&openid.db)
        .await?;
    if given_out.rows_affected != 1 {
        return Err(invalid_request(
            "this request was answered already: go back to your wallet",
        ));
    }
    answer_uri(openid, &request, &[("code", &code)]).map(Step::Redirect)
}

/// The authorization code grant: the offer the code was given for, checked against the
/// PKCE verifier, client, redirect URI, pushed DPoP key and wallet attestation; and the
/// DPoP key to bind the token to. The code is used up; a code used twice also ends the token it gave
/// (RFC 6749 §4.1.2).
pub(super) async fn exchange(
    openid: &OpenId,
    token: &TokenRequest,
    dpop_proof: Option<&str>,
    wallet: client_attestation::Presented<'_>,
    now: DateTime<Utc>,
) -> Result<(credential_offers::Model, Option<dpop::Thumbprint>), OAuthError> {
    use OAuthErrorKind::*;
    let code = required(token.code.clone(), "code")?;
    let verifier = required(token.code_verifier.clone(), "code_verifier")?;
    // A wallet that authenticates by attestation is named by it (its `sub`).
    let client_id = token.client_id.clone().filter(|c| !c.is_empty());
    if client_id.is_none() && wallet.attestation.is_none() {
        return Err(invalid_request("client_id is required"));
    }
    let redirect_uri = required(token.redirect_uri.clone(), "redirect_uri")?;
    if !(43..=128).contains(&verifier.len())
        || !verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    {
        return Err(invalid_request(
            "code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, `-`, `.`, `_`, `~`",
        ));
    }
    let request = authorization_requests::Entity::find()
        .filter(authorization_requests::Column::Code.eq(token_hash(&code)))
        .one(&openid.db)
        .await?
        .ok_or_else(|| refused(InvalidGrant, "unknown authorization code"))?;
    if request.code_used_at.is_some() {
        revoke_token_of(openid, &request, now).await?;
        return Err(refused(
            InvalidGrant,
            "the authorization code was already used; the token it gave is revoked",
        ));
    }
    if request.code_expires_at.is_none_or(|t| t <= now) {
        return Err(refused(InvalidGrant, "the authorization code has expired"));
    }
    if client_id.is_some_and(|c| c != request.client_id) {
        return Err(refused(
            InvalidGrant,
            "the authorization code was given to another client",
        ));
    }
    if redirect_uri != request.redirect_uri {
        return Err(refused(
            InvalidGrant,
            "redirect_uri is not the one of the authorization request",
        ));
    }
    if pkce_challenge(&verifier) != request.code_challenge {
        return Err(refused(
            InvalidGrant,
            "code_verifier does not match the code_challenge (PKCE, S256)",
        ));
    }
    let bound_to = match (dpop_proof, &request.dpop_jkt) {
        (Some(proof), pushed) => {
            let jkt = dpop::for_post(openid, proof, paths::TOKEN, None, now).await?;
            if pushed.as_ref().is_some_and(|pushed| *pushed != jkt) {
                return Err(refused(
                    InvalidDpopProof,
                    "the DPoP proof is made with another key than the authorization request's",
                ));
            }
            Some(jkt)
        }
        (None, Some(_)) => {
            return Err(refused(
                InvalidDpopProof,
                "the authorization request was bound to a DPoP key: send a proof made with it",
            ))
        }
        (None, None) => None,
    };
    let offer = offer_of(openid, &request, now)
        .await?
        .map_err(|why| refused(InvalidGrant, why))?;
    dpop_unless_required(openid, &offer, dpop_proof).await?;
    let pushed_by = Some(request.client_id.as_str());
    client_attestation::check(openid, &offer.tenant_id, wallet, pushed_by, now).await?;
    let used = authorization_requests::Entity::update_many()
        .col_expr(authorization_requests::Column::CodeUsedAt, Expr::value(now))
        .filter(authorization_requests::Column::Id.eq(&request.id))
        .filter(authorization_requests::Column::CodeUsedAt.is_null())
        .exec(&openid.db)
        .await?;
    if used.rows_affected != 1 {
        return Err(refused(
            InvalidGrant,
            "the authorization code was already used",
        ));
    }
    Ok((offer, bound_to))
}

/// Ends the access token an authorization code gave, unless its credential was received.
async fn revoke_token_of(
    openid: &OpenId,
    request: &authorization_requests::Model,
    now: DateTime<Utc>,
) -> Result<(), OAuthError> {
    credential_offers::Entity::update_many()
        .col_expr(
            credential_offers::Column::AccessTokenExpiresAt,
            Expr::value(now),
        )
        .filter(credential_offers::Column::Id.eq(&request.offer_id))
        .filter(credential_offers::Column::AccessToken.is_not_null())
        .filter(credential_offers::Column::RedeemedAt.is_null())
        .exec(&openid.db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_a_wallet_may_name() {
        for taken in [
            "https://wallet.example/callback?x=1",
            "http://127.0.0.1:8123/cb",
            "http://localhost:9/cb",
            "http://[::1]:9/cb",
            "eudi-openid4ci://authorize",
            "com.example.wallet:/oauth",
        ] {
            assert!(redirect_target(taken).is_ok(), "{taken}");
        }
        for refused in [
            "/relative",
            "https://wallet.example/cb#fragment",
            "http://wallet.example/cb",
            "javascript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
        ] {
            assert!(redirect_target(refused).is_err(), "{refused}");
        }
    }
}
