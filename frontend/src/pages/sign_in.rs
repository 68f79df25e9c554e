//! Signing in, and replacing a one-time password.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api;
use crate::use_auth;
use crate::widgets::ErrorNote;

#[component]
pub fn SignIn() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let query = use_query_map();
    let (email, set_email) = signal(String::new());
    let (password, set_password) = signal(String::new());
    let sign_in = Action::new_local(move |(email, password): &(String, String)| {
        api::sign_in(email.clone(), password.clone())
    });
    Effect::new(move |_| {
        if let Some(Ok(session)) = sign_in.value().get() {
            auth.set(Some(session));
            let next = query
                .with_untracked(|q| q.get("next"))
                .filter(|n| n.starts_with('/') && !n.starts_with("//"))
                .unwrap_or_else(|| "/".into());
            navigate(&next, Default::default());
        }
    });
    let pending = sign_in.pending();
    view! {
        <section class="narrow" aria-labelledby="sign-in-title">
            <h1 id="sign-in-title">"Sign in"</h1>
            <form on:submit=move |ev| {
                ev.prevent_default();
                sign_in.dispatch((email.get_untracked(), password.get_untracked()));
            }>
                <div class="field">
                    <label for="email">"Email"</label>
                    <input id="email" data-testid="email" type="email" autocomplete="username" required
                        on:input=move |ev| set_email.set(event_target_value(&ev)) prop:value=email/>
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" data-testid="password" type="password" autocomplete="current-password" required
                        on:input=move |ev| set_password.set(event_target_value(&ev)) prop:value=password/>
                </div>
                <button type="submit" data-testid="sign-in" disabled=move || pending.get()>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
                {move || sign_in.value().get().and_then(Result::err).map(|error| view! { <ErrorNote error testid="sign-in-error"/> })}
            </form>
            <p class="hint">"Verifying a credential needs no account: " <a href="/verify">"open the verifier"</a> "."</p>
        </section>
    }
}

/// Shown instead of any page while the account still has its one-time password.
#[component]
pub fn ChangePassword() -> impl IntoView {
    let auth = use_auth();
    let (current, set_current) = signal(String::new());
    let (new, set_new) = signal(String::new());
    let (repeat, set_repeat) = signal(String::new());
    let mismatch = move || {
        let (new, repeat) = (new.get(), repeat.get());
        if !repeat.is_empty() && new != repeat {
            Some("The two new passwords differ.")
        } else if !new.is_empty() && new.chars().count() < 12 {
            Some("Use at least 12 characters.")
        } else {
            None
        }
    };
    let change = Action::new_local(move |(current, new): &(String, String)| {
        let (current, new) = (current.clone(), new.clone());
        async move {
            api::change_password(current, new).await?;
            api::session().await
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(session)) = change.value().get() {
            auth.set(session);
        }
    });
    view! {
        <section class="narrow" aria-labelledby="password-title">
            <h1 id="password-title">"Choose your password"</h1>
            <p>"You signed in with a one-time password. Choose your own to continue."</p>
            <form on:submit=move |ev| {
                ev.prevent_default();
                if mismatch().is_none() {
                    change.dispatch((current.get_untracked(), new.get_untracked()));
                }
            }>
                <div class="field">
                    <label for="current-password">"One-time password"</label>
                    <input id="current-password" data-testid="current-password" type="password" autocomplete="current-password" required
                        on:input=move |ev| set_current.set(event_target_value(&ev)) prop:value=current/>
                </div>
                <div class="field">
                    <label for="new-password">"New password (at least 12 characters)"</label>
                    <input id="new-password" data-testid="new-password" type="password" autocomplete="new-password" required
                        aria-describedby="password-problem"
                        on:input=move |ev| set_new.set(event_target_value(&ev)) prop:value=new/>
                </div>
                <div class="field">
                    <label for="repeat-password">"New password again"</label>
                    <input id="repeat-password" data-testid="repeat-password" type="password" autocomplete="new-password" required
                        aria-describedby="password-problem"
                        on:input=move |ev| set_repeat.set(event_target_value(&ev)) prop:value=repeat/>
                    <small id="password-problem" class="field-error" role="alert">{mismatch}</small>
                </div>
                <button type="submit" data-testid="change-password" disabled=move || change.pending().get()>"Save password"</button>
                {move || change.value().get().and_then(Result::err).map(|error| view! { <ErrorNote error/> })}
            </form>
        </section>
    }
}
