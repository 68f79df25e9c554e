//! Accounts and sessions: signing in and out, cookies, CSRF, throttling, one-time
//! passwords, and admins managing users and API keys.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use certus_schemas::portal::Role;
use certus_server::auth::accounts;
use certus_server::store::entities::{sessions, users};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};

use crate::helpers::{Caller, Db, TestApp, PASSWORD};
use crate::on_both_databases;

on_both_databases!(
    signing_in_sets_a_hardened_cookie_and_stores_only_hashes,
    wrong_credentials_get_one_answer_and_are_throttled,
    concurrent_wrong_passwords_are_counted_before_they_are_checked,
    every_answer_carries_the_security_headers,
    changes_with_the_session_cookie_need_the_csrf_token,
    a_one_time_password_must_be_replaced_before_anything_else,
    signing_out_and_disabling_end_sessions,
    admins_manage_users_and_cannot_lock_themselves_out,
    admins_create_scoped_api_keys_and_revoke_them,
    a_first_start_whose_admin_another_node_made_starts_without_one,
);

async fn signing_in_sets_a_hardened_cookie_and_stores_only_hashes(db: Db) {
    let app = TestApp::spawn(db).await;
    app.user("default", "Carla@Food-Cert.test", Role::Certifier)
        .await;
    // Emails are matched case-insensitively.
    let (status, body, cookie) = app.sign_in_raw("carla@food-cert.TEST", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["email"], "carla@food-cert.test");
    assert_eq!(body["user"]["role"], "certifier");
    assert_eq!(body["tenant"]["id"], "default");
    let cookie = cookie.expect("Set-Cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Secure"] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing in {cookie}"
        );
    }
    let token = cookie
        .split(';')
        .next()
        .and_then(|p| p.split_once('='))
        .map(|(_, v)| v.to_owned())
        .expect("token");
    // Neither the password nor the cookie token is stored.
    let user = users::Entity::find()
        .one(&app.db)
        .await
        .expect("query")
        .expect("user");
    assert!(user.password_hash.starts_with("$argon2id$"));
    assert!(!user.password_hash.contains(PASSWORD));
    let session = sessions::Entity::find()
        .one(&app.db)
        .await
        .expect("query")
        .expect("session");
    assert_ne!(session.id, token);
    assert_eq!(session.id.len(), 64);

    let caller = app.sign_in("carla@food-cert.test").await;
    let (status, me) = app.call(&caller, "GET", "/session", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["name"], "Test User");
    assert!(me.to_string().find(PASSWORD).is_none());
}

async fn wrong_credentials_get_one_answer_and_are_throttled(db: Db) {
    let app = TestApp::spawn(db).await;
    app.user("default", "carla@food-cert.test", Role::Certifier)
        .await;
    let (status, unknown, _) = app.sign_in_raw("nobody@food-cert.test", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, wrong, cookie) = app
        .sign_in_raw("carla@food-cert.test", "not the password")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(cookie.is_none());
    // An unknown account and a wrong password look the same.
    assert_eq!(unknown, wrong);
    assert_eq!(wrong["code"], "INVALID_CREDENTIALS");
    for _ in 0..4 {
        app.sign_in_raw("carla@food-cert.test", "still wrong").await;
    }
    // Five failures lock the account, even for the right password.
    let (status, body, cookie) = app.sign_in_raw("carla@food-cert.test", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "SIGN_IN_THROTTLED");
    assert!(cookie.is_none());
}

async fn concurrent_wrong_passwords_are_counted_before_they_are_checked(db: Db) {
    let app = TestApp::spawn(db).await;
    app.user("default", "dora@food-cert.test", Role::Certifier)
        .await;
    // Fifty at once: once all fifty were checked (the limit is five), and their Argon2
    // work ran all at once.
    let answers =
        futures::future::join_all((0..50).map(|_| app.sign_in_raw("dora@food-cert.test", "wrong")))
            .await;
    let checked = answers
        .iter()
        .filter(|(status, _, _)| *status == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = answers
        .iter()
        .filter(|(status, body, _)| {
            *status == StatusCode::TOO_MANY_REQUESTS && body["code"] == "SIGN_IN_THROTTLED"
        })
        .count();
    assert_eq!((checked, throttled), (5, 45));
}

async fn changes_with_the_session_cookie_need_the_csrf_token(db: Db) {
    let app = TestApp::spawn(db).await;
    app.user("default", "adele@food-cert.test", Role::Admin)
        .await;
    let Caller::Session { cookie, csrf } = app.sign_in("adele@food-cert.test").await else {
        unreachable!()
    };
    let new_user = json!({"email": "x@food-cert.test", "name": "X", "role": "auditor"});
    for presented in ["", "forged"] {
        let caller = Caller::Session {
            cookie: cookie.clone(),
            csrf: presented.into(),
        };
        let (status, body) = app
            .call(&caller, "POST", "/users", Some(new_user.clone()))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["code"], "CSRF_TOKEN_INVALID");
    }
    assert_eq!(
        users::Entity::find().count(&app.db).await.expect("count"),
        1,
        "nothing was created"
    );
    // Reading needs no token; changing with it works.
    let reader = Caller::Session {
        cookie: cookie.clone(),
        csrf: String::new(),
    };
    assert_eq!(
        app.call(&reader, "GET", "/users", None).await.0,
        StatusCode::OK
    );
    let caller = Caller::Session { cookie, csrf };
    let (status, body) = app.call(&caller, "POST", "/users", Some(new_user)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn a_one_time_password_must_be_replaced_before_anything_else(db: Db) {
    let app = TestApp::spawn(db).await;
    let (user, one_time) = accounts::create(
        &app.db,
        "default",
        "nora@food-cert.test",
        "Nora",
        Role::Auditor,
        None,
    )
    .await
    .expect("create");
    let one_time = one_time.expect("a one-time password");
    assert!(user.must_change_password);
    let (status, body, cookie) = app.sign_in_raw("nora@food-cert.test", &one_time).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"]["mustChangePassword"], true);
    let caller = Caller::Session {
        cookie: cookie
            .expect("cookie")
            .split(';')
            .next()
            .expect("pair")
            .into(),
        csrf: body["csrfToken"].as_str().expect("csrf").into(),
    };
    let (status, body) = app.call(&caller, "GET", "/credentials", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "PASSWORD_CHANGE_REQUIRED");

    let change = |current: &str, new: &str| json!({"currentPassword": current, "newPassword": new});
    let (status, body) = app
        .call(
            &caller,
            "POST",
            "/session/password",
            Some(change("wrong", PASSWORD)),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!("WRONG_PASSWORD"))
    );
    let (status, body) = app
        .call(
            &caller,
            "POST",
            "/session/password",
            Some(change(&one_time, "short")),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (body["code"].as_str(), body["path"].as_str()),
        (Some("WEAK_PASSWORD"), Some("/newPassword"))
    );
    let (status, _) = app
        .call(
            &caller,
            "POST",
            "/session/password",
            Some(change(&one_time, PASSWORD)),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.call(&caller, "GET", "/credentials", None).await.0,
        StatusCode::OK
    );
    // The one-time password is spent; the new one works.
    assert_eq!(
        app.sign_in_raw("nora@food-cert.test", &one_time).await.0,
        StatusCode::UNAUTHORIZED
    );
    app.sign_in("nora@food-cert.test").await;
}

async fn signing_out_and_disabling_end_sessions(db: Db) {
    let app = TestApp::spawn(db).await;
    app.user("default", "adele@food-cert.test", Role::Admin)
        .await;
    let carla = app
        .user("default", "carla@food-cert.test", Role::Certifier)
        .await;
    let admin = app.sign_in("adele@food-cert.test").await;
    let first = app.sign_in("carla@food-cert.test").await;
    let second = app.sign_in("carla@food-cert.test").await;
    let (status, _) = app.call(&first, "DELETE", "/session", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.call(&first, "GET", "/dashboard", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = app.call(&first, "GET", "/session", None).await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "an ended session is no session: {body}"
    );
    assert_eq!(
        app.call(&second, "GET", "/dashboard", None).await.0,
        StatusCode::OK
    );

    let (status, body) = app
        .call(
            &admin,
            "PATCH",
            &format!("/users/{carla}"),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["disabledAt"].is_string());
    assert_eq!(
        app.call(&second, "GET", "/dashboard", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, body, _) = app.sign_in_raw("carla@food-cert.test", PASSWORD).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("INVALID_CREDENTIALS"))
    );
    // Re-enabled, Carla signs in again.
    app.call(
        &admin,
        "PATCH",
        &format!("/users/{carla}"),
        Some(json!({"disabled": false})),
    )
    .await;
    app.sign_in("carla@food-cert.test").await;
}

async fn admins_manage_users_and_cannot_lock_themselves_out(db: Db) {
    let app = TestApp::spawn(db).await;
    let adele = app
        .user("default", "adele@food-cert.test", Role::Admin)
        .await;
    let admin = app.sign_in("adele@food-cert.test").await;
    let create = |email: &str| json!({"email": email, "name": "Nora", "role": "auditor"});
    let (status, created) = app
        .call(
            &admin,
            "POST",
            "/users",
            Some(create("nora@food-cert.test")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["user"]["mustChangePassword"], true);
    assert_eq!(created["oneTimePassword"].as_str().map(str::len), Some(20));
    let (status, body) = app
        .call(
            &admin,
            "POST",
            "/users",
            Some(create("NORA@food-cert.test")),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::CONFLICT, json!("EMAIL_TAKEN"))
    );
    let (status, body) = app
        .call(&admin, "POST", "/users", Some(create("nora")))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (body["code"].as_str(), body["path"].as_str()),
        (Some("INVALID_EMAIL"), Some("/email"))
    );
    let (status, body) = app
        .call(
            &admin,
            "POST",
            "/users",
            Some(json!({"email": "a@b.test", "name": "A", "role": "root"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    for change in [json!({"disabled": true}), json!({"role": "certifier"})] {
        let (status, body) = app
            .call(&admin, "PATCH", &format!("/users/{adele}"), Some(change))
            .await;
        assert_eq!(
            (status, body["code"].clone()),
            (StatusCode::FORBIDDEN, json!("SELF_LOCKOUT"))
        );
    }
    let (_, list) = app.call(&admin, "GET", "/users", None).await;
    let emails: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    assert_eq!(emails, ["adele@food-cert.test", "nora@food-cert.test"]);
    assert!(
        list.to_string().find("$argon2").is_none(),
        "no hash leaves the server"
    );
    // Account changes are audited, and the log names who made them as people read it.
    let (_, audit) = app.call(&admin, "GET", "/audit", None).await;
    let created = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["action"] == "user.create")
        .expect("user.create is audited");
    assert!(created["actor"]
        .as_str()
        .is_some_and(|a| a.starts_with("user:")));
    assert_eq!(created["actorName"], "Test User");

    // So does a credential's record: an issuing key by its label.
    let (_, desk) = app
        .call(
            &admin,
            "POST",
            "/api-keys",
            Some(json!({"scopes": ["issue", "read"], "label": "issuing desk"})),
        )
        .await;
    let desk = Caller::Key(desk["token"].as_str().expect("token").to_owned());
    let (status, issued) = app
        .call(
            &desk,
            "POST",
            "/credentials/issue",
            Some(json!({"credential": crate::helpers::kyc_credential(None)})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let id = issued["verifiableCredential"]["id"].as_str().expect("id");
    let (_, detail) = app
        .call(
            &admin,
            "GET",
            &format!("/credentials/{}", id.replace(':', "%3A")),
            None,
        )
        .await;
    assert_eq!(detail["record"]["issuedByName"], "API key “issuing desk”");
    assert_eq!(detail["history"][0]["actorName"], "API key “issuing desk”");
}

async fn admins_create_scoped_api_keys_and_revoke_them(db: Db) {
    let app = TestApp::spawn(db).await;
    app.user("default", "adele@food-cert.test", Role::Admin)
        .await;
    let admin = app.sign_in("adele@food-cert.test").await;
    for scope in ["trust", "admin", "everything"] {
        let (status, body) = app
            .call(
                &admin,
                "POST",
                "/api-keys",
                Some(json!({"scopes": ["verify", scope]})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{scope}: {body}");
        assert_eq!(
            (body["code"].as_str(), body["path"].as_str()),
            (Some("INVALID_SCOPE"), Some("/scopes/1"))
        );
    }
    let (status, created) = app
        .call(
            &admin,
            "POST",
            "/api-keys",
            Some(json!({"scopes": ["read"], "label": "auditor desk"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = Caller::Key(created["token"].as_str().expect("token").to_owned());
    let id = created["key"]["id"].as_str().expect("id").to_owned();
    // The key reads, and may do nothing else.
    assert_eq!(
        app.call(&key, "GET", "/credentials", None).await.0,
        StatusCode::OK
    );
    let (status, body) = app
        .call(
            &key,
            "POST",
            "/credentials/issue",
            Some(json!({"credential": crate::helpers::kyc_credential(None)})),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!("FORBIDDEN"))
    );
    assert_eq!(
        app.call(&key, "GET", "/users", None).await.0,
        StatusCode::FORBIDDEN
    );
    // Listing never shows a token.
    let (_, list) = app.call(&admin, "GET", "/api-keys", None).await;
    let listed: Vec<&Value> = list
        .as_array()
        .expect("list")
        .iter()
        .filter(|k| k["id"] == id.as_str())
        .collect();
    assert_eq!(listed[0]["label"], "auditor desk");
    assert!(list.to_string().find("certus_").is_none());

    let (status, _) = app
        .call(&admin, "DELETE", &format!("/api-keys/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.call(&key, "GET", "/credentials", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = app
        .call(&admin, "DELETE", "/api-keys/no-such-key", None)
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::NOT_FOUND, json!("API_KEY_NOT_FOUND"))
    );
}

async fn every_answer_carries_the_security_headers(db: Db) {
    let app = TestApp::spawn(db).await;
    app.user("default", "erin@food-cert.test", Role::Certifier)
        .await;
    let sign_in = Request::post("/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"email": "erin@food-cert.test", "password": PASSWORD}).to_string(),
        ))
        .expect("request");
    let (status, session_headers, _) = app.send_full(sign_in).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        session_headers[header::CACHE_CONTROL],
        "no-store",
        "the answer carries the CSRF token"
    );
    let (_, page_headers, page) = app
        .send_full(
            Request::get("/api-docs")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert!(
        !page.as_str().expect("html").contains("<script>"),
        "no inline script"
    );
    for headers in [&session_headers, &page_headers] {
        let csp = headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii");
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval';"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
        // The public URL of the tests is https.
        assert!(headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
    }
}

/// Nodes of one store started at the same moment both find no account and both make the
/// first admin: the one that loses the race starts, showing no password (the winner's
/// console shows it). The race is made certain here by the address being taken already.
async fn a_first_start_whose_admin_another_node_made_starts_without_one(db: Db) {
    let app = TestApp::spawn(db).await;
    app.tenant("bank-b").await;
    app.user("bank-b", accounts::FIRST_ADMIN_EMAIL, Role::Admin)
        .await;
    let shown = accounts::bootstrap_first_admin(&app.db)
        .await
        .expect("a taken address is not a failure");
    assert_eq!(shown, None);
    // With the address free, the default institution gets its admin once.
    let app = TestApp::spawn(db).await;
    let (email, _) = accounts::bootstrap_first_admin(&app.db)
        .await
        .expect("bootstrap")
        .expect("an admin");
    assert_eq!(email, accounts::FIRST_ADMIN_EMAIL);
    assert_eq!(
        accounts::bootstrap_first_admin(&app.db)
            .await
            .expect("again"),
        None
    );
}
