//! The verifier console's request builder: ask a holder's wallet for a credential type and
//! the claims needed (OpenID4VP with DCQL), show the link and QR code, then the answer as it
//! arrives — the claims disclosed, every check, and the receipts.

use std::collections::BTreeSet;

use certus_schemas::dcql::formats;
use certus_schemas::openid::{
    ClientIdPrefix, PresentationRequestCreate, PresentationRequestCreated, PresentationRequestInfo,
    RequestProfile, RequestStatus, ResponseMode,
};
use certus_schemas::wire::CredentialTypeInfo;
use leptos::prelude::*;
use leptos_router::components::A;

use super::issue::TypePicker;
use super::offer::{poll_while, web_wallet_link};
use super::verify::VerificationView;
use crate::api;
use crate::schema_form::{fields, Labels};
use crate::widgets::{local_time, ErrorNote, Loading};

/// How the request names the verifier to the wallet: the choice's value, the body's
/// client identifier prefix and profile, and its label.
const IDENTITIES: [(&str, Option<ClientIdPrefix>, Option<RequestProfile>, &str); 4] = [
    ("did", None, None, "By our DID (decentralized_identifier)"),
    (
        "x509_hash",
        Some(ClientIdPrefix::X509Hash),
        None,
        "By our verifier certificate's hash (x509_hash)",
    ),
    (
        "x509_san_dns",
        Some(ClientIdPrefix::X509SanDns),
        None,
        "By the DNS name our verifier certificate certifies (x509_san_dns)",
    ),
    (
        "haip",
        None,
        Some(RequestProfile::Haip),
        "As HAIP 1.0 has it: x509_hash, an encrypted answer, SD-JWT VCs, a haip:// link",
    ),
];

const FORMATS: [(&str, &str); 3] = [
    (
        formats::SD_JWT,
        "SD-JWT VC (the holder discloses only these claims)",
    ),
    (
        formats::JWT_VC,
        "W3C VC as JOSE (jwt_vc_json, whole credential)",
    ),
    (
        formats::LDP_VC,
        "W3C VC with Data Integrity (ldp_vc, whole credential)",
    ),
];

#[component]
pub fn RequestBuilder() -> impl IntoView {
    let types = LocalResource::new(api::credential_types);
    view! {
        <section aria-labelledby="ask-title">
            <h2 id="ask-title">"Ask a holder's wallet"</h2>
            <Suspense fallback=Loading>
                {move || types.get().map(|r| match r {
                    Ok(list) => view! { <RequestForm types=list/> }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn RequestForm(types: Vec<CredentialTypeInfo>) -> impl IntoView {
    let chosen = RwSignal::new(None::<CredentialTypeInfo>);
    let claims = RwSignal::new(BTreeSet::<String>::new());
    let format = RwSignal::new(formats::SD_JWT.to_owned());
    let purpose = RwSignal::new(String::new());
    let policy_id = RwSignal::new(String::new());
    // Encrypted answers by default: the presentations cross no hop in clear, whatever
    // terminates TLS in front of the server.
    let encrypted = RwSignal::new(true);
    let identity = RwSignal::new("did".to_owned());
    Effect::new(move |_| {
        chosen.track();
        claims.set(BTreeSet::new());
    });
    let create = Action::new_local(move |_: &()| {
        let (_, client_id_prefix, profile, _) = IDENTITIES
            .iter()
            .find(|(value, ..)| *value == identity.get_untracked())
            .copied()
            .unwrap_or(IDENTITIES[0]);
        let body = PresentationRequestCreate {
            client_id_prefix,
            profile,
            credential_type: chosen.get_untracked().map(|t| t.type_name),
            claims: claims.get_untracked().into_iter().collect(),
            format: Some(format.get_untracked()),
            purpose: purpose.get_untracked(),
            policy_id: Some(policy_id.get_untracked()).filter(|p| !p.trim().is_empty()),
            // HAIP's requests are always encrypted: the profile says so.
            response_mode: profile.is_none().then(|| {
                if encrypted.get_untracked() {
                    ResponseMode::DirectPostJwt
                } else {
                    ResponseMode::DirectPost
                }
            }),
            ..Default::default()
        };
        api::create_presentation_request(body)
    });
    let pending = create.pending();
    view! {
        <form class="issue" on:submit=move |ev| { ev.prevent_default(); create.dispatch(()); }>
            <TypePicker types chosen/>
            {move || chosen.get().map(|info| view! {
                <fieldset data-testid="request-claims-choice">
                    <legend>"Claims needed"</legend>
                    {fields(&info).into_iter().map(|field| {
                        let name = field.name.clone();
                        let (check, toggle) = (name.clone(), name.clone());
                        let (id, label_for) = (format!("ask-{name}"), format!("ask-{name}"));
                        view! {
                            <label for=label_for>
                                <input type="checkbox" id=id data-testid=format!("ask-{name}")
                                    prop:checked=move || claims.with(|c| c.contains(&check))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        claims.update(|c| { if on { c.insert(toggle.clone()); } else { c.remove(&toggle); } });
                                    }/>
                                {field.label.clone()}
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
            })}
            <div class="field">
                <label for="request-format">"Format"</label>
                <select id="request-format" data-testid="request-format" prop:value=format
                    on:change=move |ev| format.set(event_target_value(&ev))>
                    {FORMATS.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="request-purpose">"Purpose (shown to the holder)"</label>
                <input id="request-purpose" data-testid="request-purpose" required=true
                    on:input=move |ev| purpose.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="request-policy">"Stored policy (optional)"</label>
                <input id="request-policy" data-testid="request-policy"
                    on:input=move |ev| policy_id.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="request-identity">"How the wallet knows us"</label>
                <select id="request-identity" data-testid="request-identity" prop:value=identity
                    aria-describedby="request-identity-help"
                    on:change=move |ev| identity.set(event_target_value(&ev))>
                    {IDENTITIES.iter().map(|(value, _, _, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                </select>
                <p class="hint" id="request-identity-help">
                    "By certificate: the key an admin certified (Users & keys, or POST /verifier/certificates) signs the request, with its chain; the holder's wallet must trust its root."
                </p>
            </div>
            <label for="request-encrypted">
                <input type="checkbox" id="request-encrypted" data-testid="request-encrypted"
                    prop:checked=encrypted on:change=move |ev| encrypted.set(event_target_checked(&ev))/>
                "the wallet encrypts its answer to this request (direct_post.jwt)"
            </label>
            <button type="submit" data-testid="request-create" disabled=move || pending.get() || chosen.with(Option::is_none)>"Create the request"</button>
        </form>
        <div aria-live="polite">
            {move || create.value().get().map(|r| match r {
                Ok(created) => view! { <Requested created/> }.into_any(),
                Err(error) => view! { <ErrorNote error testid="request-error"/> }.into_any(),
            })}
        </div>
    }
}

#[component]
fn Requested(created: PresentationRequestCreated) -> impl IntoView {
    let id = created.id.clone();
    let info = LocalResource::new(move || {
        let id = id.clone();
        async move { api::presentation_request(&id).await }
    });
    let waiting = move || {
        info.get_untracked()
            .is_none_or(|i| i.as_ref().is_ok_and(|i| i.status == RequestStatus::Pending))
    };
    poll_while(waiting, move || info.refetch());
    let status = move || {
        info.get()
            .and_then(Result::ok)
            .map_or(RequestStatus::Pending, |i| i.status)
    };
    let open = move || status() == RequestStatus::Pending;
    // Fetched once for the page, to name the claims of the answer.
    let catalog = LocalResource::new(api::credential_types);
    let catalog = Signal::derive(move || catalog.get().and_then(Result::ok).unwrap_or_default());
    view! {
        <section class="result" aria-labelledby="requested-title" data-testid="requested">
            <h2 id="requested-title" data-testid="request-heading">{move || headline(status())}</h2>
            {(!created.warnings.is_empty()).then(|| view! {
                <ul class="warnings" data-testid="request-warnings">
                    {created.warnings.iter().map(|w| view! { <li>{w.message.clone()}</li> }).collect_view()}
                </ul>
            })}
            // The way in for the holder, while the request is open.
            <Show when=open>
                <img class="qr" src=created.qr_code.clone() alt="QR code of the presentation request" width="240" height="240"/>
                <p><code class="wrap" data-testid="request-link">{created.authorization_request.clone()}</code></p>
                <p><A href=web_wallet_link(&created.authorization_request) attr:data-testid="request-web-wallet">"Open it in this node's web wallet"</A></p>
                <p class="hint">{format!("The request expires at {}.", local_time(&created.expires_at))}</p>
            </Show>
            {move || info.get().map(|r| match r {
                Ok(info) => view! { <Answer info catalog/> }.into_any(),
                Err(error) => view! { <ErrorNote error testid="request-status-error"/> }.into_any(),
            })}
        </section>
    }
}

/// Where a request stands, as the verifier's page heads it.
fn headline(status: RequestStatus) -> &'static str {
    match status {
        RequestStatus::Pending => "Waiting for the holder",
        RequestStatus::Accepted => "The holder answered",
        RequestStatus::Rejected => "The holder's answer did not meet the request",
        RequestStatus::Declined => "The holder declined",
        RequestStatus::Expired => "The request expired unanswered",
    }
}

/// The state of a request and, once answered, what was disclosed and checked.
#[component]
fn Answer(
    info: PresentationRequestInfo,
    catalog: Signal<Vec<CredentialTypeInfo>>,
) -> impl IntoView {
    let status = format!("{:?}", info.status).to_lowercase();
    let outcome = info.outcome;
    view! {
        <p>"Status: " <span class=format!("badge {status}") data-testid="request-status">{status.clone()}</span></p>
        {outcome.map(|outcome| view! {
            {outcome.problem.map(|p| view! {
                <p class="error" role="alert" data-testid="request-problem"><strong>{p.code}</strong> " — " {p.message}</p>
            })}
            {outcome.credentials.into_iter().map(|c| {
                let labels = {
                    let types = c.types.clone();
                    move || Labels::of(&catalog.get(), &types, None)
                };
                let title = {
                    let labels = labels.clone();
                    move || labels().title()
                };
                view! {
                    <div class="card" data-testid="request-credential">
                        <h3>{title}</h3>
                        <p class="hint">{format!("{}, issued by ", c.format)}<code class="wrap">{c.issuer.clone().unwrap_or_default()}</code></p>
                        <table data-testid="request-claims">
                            <thead><tr><th>"Claim"</th><th>"Value"</th></tr></thead>
                            <tbody>
                                {c.claims.into_iter().map(|(name, value)| {
                                    let labels = labels.clone();
                                    let label = {
                                        let name = name.clone();
                                        move || labels().claim(&name)
                                    };
                                    view! {
                                        <tr data-testid=format!("claim-{name}")><td>{label}</td><td>{value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string())}</td></tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <VerificationView result=c.verification/>
                    </div>
                }
            }).collect_view()}
            {outcome.reliances.into_iter().map(|r| view! {
                <p class="ok" data-testid="request-reliance">
                    {format!("Reliance recorded: {} relied on the {} KYC of {}{}; the record is signed and anchored.",
                        r.record.relying_institution,
                        r.record.assurance_level.as_str(),
                        r.record.kyc_issuer,
                        if r.notifications { ", and will be told of suspension or revocation" } else { "" })}
                    " " <code class="wrap">{r.record.id}</code>
                </p>
            }).collect_view()}
            <details><summary>"Verification receipt (JWS)"</summary><pre class="wrap" data-testid="request-receipt">{outcome.verification_receipt}</pre></details>
            {outcome.consent_receipt.map(|r| view! {
                <details><summary>"Consent receipt"</summary><pre>{serde_json::to_string_pretty(&r).unwrap_or_default()}</pre></details>
            })}
        })}
    }
}
