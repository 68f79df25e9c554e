//! The verifier console: anyone can paste a credential and see where it stands (valid,
//! revoked, suspended, expired, forged…), what it says — type, issuer, dates, claims under
//! their schema's titles — and every check; a signed-in user can also ask a holder's wallet
//! for one (OpenID4VP).

use certus_schemas::holder::{read_pasted, sd_jwt_subject, View};
use certus_schemas::wire::{Outcome, VerificationResult};
use leptos::prelude::*;
use serde_json::{Map, Value};

use super::request::RequestBuilder;
use crate::api;
use crate::schema_form::Labels;
use crate::use_auth;
use crate::widgets::{local_date_time, ErrorNote};

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
                    Ok(result) => {
                        let shown = read_pasted(&input.get_untracked()).ok();
                        view! { <VerificationView result shown/> }.into_any()
                    }
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
pub fn VerificationView(
    result: VerificationResult,
    /// The credential as decoded here, to show what it says (the verification result
    /// names its claims but never echoes their values).
    #[prop(default = None)]
    shown: Option<View>,
) -> impl IntoView {
    let standing = result.standing();
    let verdict = format!("{:?}", result.verdict).to_lowercase();
    view! {
        <div class=format!("standing {}", standing.name()) data-testid="standing" role="status">
            <strong>{standing.headline()}</strong> " " {standing.explanation()}
        </div>
        {shown.map(|view| view! { <Shown view/> })}
        <h3>"Checks"</h3>
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

/// What a credential says: type, issuer, dates and claims, labelled with its type's
/// schema titles when this node knows the type.
#[component]
fn Shown(view: View) -> impl IntoView {
    let document = view.document;
    let w3c = document.get("credentialSubject").is_some();
    let claims: Map<String, Value> = if w3c {
        document["credentialSubject"]
            .as_object()
            .cloned()
            .unwrap_or_default()
    } else {
        document.as_object().map(sd_jwt_subject).unwrap_or_default()
    };
    let date = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| document.get(*n).filter(|v| !v.is_null()))
            .and_then(local_date_time)
    };
    let (from, until) = if w3c {
        (
            date(&["validFrom", "issuanceDate"]),
            date(&["validUntil", "expirationDate"]),
        )
    } else {
        (date(&["nbf", "iat"]), date(&["exp"]))
    };
    let catalog = LocalResource::new(api::credential_types);
    let labels = move || {
        let catalog = catalog.get().and_then(Result::ok).unwrap_or_default();
        Labels::of(&catalog, &view.types, view.vct.as_deref())
    };
    let title = {
        let labels = labels.clone();
        move || labels().title()
    };
    let label = move |name: &str| labels().claim(name);
    view! {
        <dl class="summary" data-testid="credential-summary">
            <dt>"Type"</dt><dd data-testid="summary-type">{title}</dd>
            <dt>"Issuer"</dt><dd><code class="wrap" data-testid="summary-issuer">{view.issuer.unwrap_or_default()}</code></dd>
            <dt>"Valid from"</dt><dd data-testid="summary-from">{from.unwrap_or_else(|| "—".into())}</dd>
            <dt>"Valid until"</dt><dd data-testid="summary-until">{until.unwrap_or_else(|| "no end date".into())}</dd>
        </dl>
        <table class="claims" data-testid="summary-claims">
            <caption>"What it says"</caption>
            <tbody>
                {claims.into_iter().filter(|(name, _)| name != "id").map(|(name, value)| {
                    let label = label.clone();
                    let shown = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
                    let testid = format!("claim-{name}");
                    view! { <tr data-testid=testid><th scope="row">{move || label(&name)}</th><td>{shown}</td></tr> }
                }).collect_view()}
            </tbody>
        </table>
    }
}
