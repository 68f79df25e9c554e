//! The Certus web app: a verifier console to check any credential, and the catalogue of
//! credential types. Talks to the backend's JSON API on the same origin.

mod api;

use certus_schemas::wire::{CredentialTypeInfo, Outcome, VerificationResult};
use leptos::prelude::*;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    view! {
        <header class="top">
            <h1>"Certus"</h1>
            <p class="tagline">"Verifiable credentials for certification agencies"</p>
            <nav><a href="/api-docs">"API documentation"</a></nav>
        </header>
        <main>
            <VerifyPanel/>
            <CredentialTypes/>
        </main>
    }
}

/// Paste a credential (JSON or a JWT / SD-JWT) and see every check.
#[component]
fn VerifyPanel() -> impl IntoView {
    let (input, set_input) = signal(String::new());
    let verify = Action::new_local(|text: &String| api::verify(text.clone()));
    let pending = verify.pending();
    view! {
        <section aria-labelledby="verify-title">
            <h2 id="verify-title">"Verify a credential"</h2>
            <label for="verify-input">"Credential (JSON, vc+jwt or SD-JWT)"</label>
            <textarea id="verify-input" data-testid="verify-input" rows="8"
                on:input=move |ev| set_input.set(event_target_value(&ev))
                prop:value=input></textarea>
            <button data-testid="verify-submit" disabled=move || pending.get() || input.get().trim().is_empty()
                on:click=move |_| { verify.dispatch(input.get()); }>
                {move || if pending.get() { "Verifying…" } else { "Verify" }}
            </button>
            <div aria-live="polite">
                {move || verify.value().get().map(|r| match r {
                    Ok(result) => view! { <VerificationView result/> }.into_any(),
                    Err(message) => view! { <p class="error" data-testid="verify-error">{message}</p> }.into_any(),
                })}
            </div>
        </section>
    }
}

#[component]
fn VerificationView(result: VerificationResult) -> impl IntoView {
    let verdict = format!("{:?}", result.verdict).to_lowercase();
    view! {
        <p class=format!("verdict {verdict}") data-testid="verdict">
            {if result.verified { "Verified" } else { "Not verified" }} " (" {verdict.clone()} ")"
        </p>
        <ul class="checks">
            {result.results.into_iter().map(|c| {
                let outcome = match c.outcome {
                    Outcome::Passed => "passed",
                    Outcome::Failed => "failed",
                    Outcome::Error => "error",
                    Outcome::Skipped => "skipped",
                };
                let testid = format!("check-{}", c.check);
                view! {
                    <li class=outcome data-testid=testid>
                        <strong>{c.check}</strong> " — " {outcome}
                        {c.code.map(|code| view! { " " <code>{code}</code> })}
                        {c.message.map(|m| view! { <div class="detail">{m}</div> })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// The credential types this server issues.
#[component]
fn CredentialTypes() -> impl IntoView {
    let types = LocalResource::new(api::credential_types);
    view! {
        <section aria-labelledby="types-title">
            <h2 id="types-title">"Credential types"</h2>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || types.get().map(|r| match r {
                    Ok(list) => view! { <TypeList list/> }.into_any(),
                    Err(message) => view! { <p class="error">{message}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn TypeList(list: Vec<CredentialTypeInfo>) -> impl IntoView {
    view! {
        <ul class="types" data-testid="credential-types">
            {list.into_iter().map(|t| {
                let testid = format!("type-{}", t.type_name);
                view! {
                    <li data-testid=testid>
                        <strong>{t.title}</strong> " " <code>{t.type_name}</code>
                        <p>{t.description}</p>
                        <p class="personal">"Personal data: " {t.personal_claims.join(", ")}</p>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
