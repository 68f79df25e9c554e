//! The verifier console: anyone can paste a credential and see every check; a signed-in
//! user can also ask a holder's wallet for one (OpenID4VP).

use certus_schemas::wire::{Outcome, VerificationResult};
use leptos::prelude::*;

use super::request::RequestBuilder;
use crate::api;
use crate::use_auth;
use crate::widgets::ErrorNote;

#[component]
pub fn Verify() -> impl IntoView {
    let (input, set_input) = signal(String::new());
    let verify = Action::new_local(|text: &String| api::verify(text.clone()));
    let pending = verify.pending();
    let auth = use_auth();
    view! {
        <section aria-labelledby="verify-title">
            <h1 id="verify-title">"Verify a credential"</h1>
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
                    Err(error) => view! { <ErrorNote error testid="verify-error"/> }.into_any(),
                })}
            </div>
        </section>
        <Show when=move || auth.session.with(Option::is_some)
            fallback=|| view! { <p class="hint">"Sign in to ask a holder's wallet for a credential."</p> }>
            <RequestBuilder/>
        </Show>
    }
}

#[component]
pub fn VerificationView(result: VerificationResult) -> impl IntoView {
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
