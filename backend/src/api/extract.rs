//! Request extractors that answer bad input with our error body: a bounded JSON body, the
//! caller (API key or session, with CSRF checked), and the client's address.

use axum::body::Bytes;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{
    ConnectInfo, FromRequest, FromRequestParts, OptionalFromRequestParts, Request,
};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::auth::sessions::{self, Session};
use crate::auth::{self, Principal};
use crate::error::ApiError;
use crate::state::AppState;

/// Deepest JSON nesting accepted in a request body.
pub const MAX_JSON_DEPTH: usize = 64;

/// A JSON request body: `application/json` (or `+json`), within the size limit, nested at
/// most [`MAX_JSON_DEPTH`] deep, and of the expected shape.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                let m = m.trim();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "PAYLOAD_TOO_LARGE",
                    "the request body is larger than this server accepts",
                )
            } else {
                ApiError::bad_request("UNREADABLE_BODY", "the request body could not be read")
            }
        })?;
        if nesting_depth(&bytes) > MAX_JSON_DEPTH {
            return Err(ApiError::bad_request(
                "JSON_TOO_DEEP",
                format!("JSON nested deeper than {MAX_JSON_DEPTH} levels"),
            ));
        }
        // Syntax first, in a pass of its own: serde_json reports some shape errors (a number
        // where an enum string belongs) as syntax errors, so the typed pass cannot tell
        // malformed JSON from a wrong shape.
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
            return Err(ApiError::bad_request(
                "MALFORMED_JSON",
                format!("the body is not valid JSON: {e}"),
            ));
        }
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut de)
            .map(JsonBody)
            .map_err(|e| {
                let path = e.path().to_string();
                let pointer = if path == "." {
                    String::new()
                } else {
                    format!("/{}", path.replace('.', "/"))
                };
                ApiError::unprocessable("INVALID_REQUEST", e.inner().to_string()).at(pointer)
            })
    }
}

/// The deepest nesting of arrays and objects in a JSON text, without parsing it.
fn nesting_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    /// A bearer API key when the request has `Authorization`; otherwise the session cookie
    /// of a person, whose one-time password must have been changed.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(header) = parts.headers.get(AUTHORIZATION) {
            let token = header
                .to_str()
                .ok()
                .and_then(|h| h.strip_prefix("Bearer "))
                .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?;
            return state
                .accounts
                .by_api_key(token.trim())
                .await?
                .ok_or_else(|| unauthorized("the API key is unknown or revoked"));
        }
        if session_cookie(parts).is_none() {
            return Err(unauthorized(
                "sign in, or send an API key: Authorization: Bearer <token>",
            ));
        }
        let CurrentSession(session) =
            <CurrentSession as FromRequestParts<AppState>>::from_request_parts(parts, state)
                .await?;
        if session.user.must_change_password {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "PASSWORD_CHANGE_REQUIRED",
                "choose a new password first (POST /session/password)",
            ));
        }
        Ok(auth::of_user(&session.user))
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message.to_owned())
}

/// The value of the session cookie, if the request carries one.
fn session_cookie(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == sessions::COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

/// The live session of the request's cookie. Requests that may change something (any
/// method but GET, HEAD and OPTIONS) must also carry the session's CSRF token in
/// `X-CSRF-Token`.
#[derive(Debug)]
pub struct CurrentSession(pub Session);

impl FromRequestParts<AppState> for CurrentSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if session_cookie(parts).is_none() {
            return Err(unauthorized("not signed in"));
        }
        <Self as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state)
            .await?
            .ok_or_else(|| unauthorized("the session has ended or expired; sign in again"))
    }
}

/// `Option<CurrentSession>`: `None` when the request carries no live session (no cookie,
/// or one whose session has ended). A live session on a change still needs its CSRF token.
impl OptionalFromRequestParts<AppState> for CurrentSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        let Some(token) = session_cookie(parts) else {
            return Ok(None);
        };
        let Some(session) = state.accounts.by_session(&token).await? else {
            return Ok(None);
        };
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let presented = parts
                .headers
                .get(sessions::CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !session.csrf_matches(presented) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "CSRF_TOKEN_INVALID",
                    "a change made with the session cookie must carry the session's X-CSRF-Token",
                ));
            }
        }
        Ok(Some(Self(session)))
    }
}

/// A query string of the expected shape; otherwise 400 `INVALID_QUERY` saying why.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e| ApiError::bad_request("INVALID_QUERY", e.body_text()))
    }
}

/// A page size: `value`, or `default` when absent; 400 `INVALID_QUERY` unless 1 to `max`.
pub fn page_limit(value: Option<u64>, default: u64, max: u64) -> Result<u64, ApiError> {
    match value.unwrap_or(default) {
        limit @ 1.. if limit <= max => Ok(limit),
        _ => Err(
            ApiError::bad_request("INVALID_QUERY", format!("limit must be 1 to {max}")).at("limit"),
        ),
    }
}

/// A position or offset query parameter `name`: at most `i64::MAX`, the largest the
/// databases store (a larger one would not bind).
pub fn page_position(value: Option<u64>, name: &str) -> Result<Option<u64>, ApiError> {
    match value {
        Some(v) if i64::try_from(v).is_err() => Err(ApiError::bad_request(
            "INVALID_QUERY",
            format!("{name} must be at most {}", i64::MAX),
        )
        .at(name)),
        v => Ok(v),
    }
}

/// The client's address, when the server knows it (requests through a socket).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::nesting_depth;

    #[test]
    fn nesting_depth_counts_containers_and_ignores_brackets_in_strings() {
        assert_eq!(nesting_depth(br#"{"a":[1,{"b":2}]}"#), 3);
        assert_eq!(nesting_depth(br#"{"a":"[[[[{{{{\"]]"}"#), 1);
        assert_eq!(nesting_depth(b"1"), 0);
    }
}
