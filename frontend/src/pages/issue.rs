//! Issuing one credential: a form generated from the type's JSON Schema, checked as it is
//! typed, a preview of the credential, then the signed credential to download — or an
//! OpenID4VCI offer (link and QR code) the holder's wallet redeems.

use std::collections::BTreeMap;

use certus_schemas::openid::OfferFlow;
use certus_schemas::privacy::{lint_issuance, DataSubjectOptions};
use certus_schemas::wire::{CredentialFormat, CredentialTypeInfo};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use serde_json::Value;

use super::offer::Offered;
use crate::api;
use crate::schema_form::{check_all, credential, fields, subject, SchemaForm};
use crate::widgets::{Download, ErrorNote, Loading};

/// The envelopes a credential can be issued in.
pub const FORMATS: [(&str, &str); 3] = [
    ("ldp_vc", "W3C VC with Data Integrity proof (ldp_vc)"),
    ("vc+jwt", "W3C VC as JOSE (vc+jwt)"),
    (
        "dc+sd-jwt",
        "SD-JWT VC, personal claims selectively disclosable (dc+sd-jwt)",
    ),
];

#[component]
pub fn Issue() -> impl IntoView {
    let types = LocalResource::new(api::credential_types);
    view! {
        <h1>"Issue a credential"</h1>
        <Suspense fallback=Loading>
            {move || types.get().map(|r| match r {
                Ok(list) => view! { <IssueForm types=list/> }.into_any(),
                Err(error) => view! { <ErrorNote error/> }.into_any(),
            })}
        </Suspense>
    }
}

/// A type picker shared by the single and batch forms.
#[component]
pub fn TypePicker(
    types: Vec<CredentialTypeInfo>,
    chosen: RwSignal<Option<CredentialTypeInfo>>,
) -> impl IntoView {
    let options = types.clone();
    view! {
        <div class="field">
            <label for="credential-type">"Credential type"</label>
            <select id="credential-type" data-testid="credential-type"
                prop:value=move || chosen.with(|c| c.as_ref().map(|c| c.type_name.clone()).unwrap_or_default())
                on:change=move |ev| {
                    let name = event_target_value(&ev);
                    chosen.set(types.iter().find(|t| t.type_name == name).cloned());
                }>
                <option value="">"— choose a type —"</option>
                {options.into_iter().map(|t| view! { <option value=t.type_name.clone()>{t.title}</option> }).collect_view()}
            </select>
            {move || chosen.with(|c| c.as_ref().filter(|t| t.accreditation_required).map(|t| view! {
                <small class="hint" data-testid="accreditation-note">
                    {format!("Only institutions accredited for {} on the chain's trust registry may issue it.", t.type_name)}
                </small>
            }))}
        </div>
    }
}

/// The format radio group shared by the single and batch forms.
#[component]
pub fn FormatPicker(format: RwSignal<String>) -> impl IntoView {
    view! {
        <fieldset class="formats">
            <legend>"Format"</legend>
            {FORMATS.iter().map(|(value, label)| {
                let id = format!("format-{}", value.replace('+', "-"));
                let (for_label, testid) = (id.clone(), id.clone());
                view! {
                    <label for=for_label>
                        <input type="radio" name="format" id=id data-testid=testid value=*value
                            prop:checked=move || format.get() == *value
                            on:change=move |_| format.set((*value).to_owned())/>
                        {*label}
                    </label>
                }
            }).collect_view()}
        </fieldset>
    }
}

/// Whom the personal data is about: the institution's reference and the holder's contact
/// data, kept encrypted under the person's own key.
#[derive(Debug, Clone, Copy, Default)]
struct DataSubjectFields {
    reference: RwSignal<String>,
    email: RwSignal<String>,
    phone: RwSignal<String>,
}

impl DataSubjectFields {
    fn options(self) -> Option<DataSubjectOptions> {
        let text = |s: RwSignal<String>| {
            Some(s.get_untracked().trim().to_owned()).filter(|t| !t.is_empty())
        };
        let mut contact = serde_json::Map::new();
        for (name, value) in [("email", text(self.email)), ("phone", text(self.phone))] {
            if let Some(value) = value {
                contact.insert(name.into(), Value::String(value));
            }
        }
        let options = DataSubjectOptions {
            reference: text(self.reference),
            contact: (!contact.is_empty()).then_some(contact),
            evidence: None,
        };
        (options != DataSubjectOptions::default()).then_some(options)
    }
}

#[component]
fn DataSubject(person: DataSubjectFields) -> impl IntoView {
    let field =
        |id: &'static str, label: &'static str, kind: &'static str, value: RwSignal<String>| {
            view! {
                <div class="field">
                    <label for=id>{label}</label>
                    <input id=id data-testid=id type=kind autocomplete="off"
                        prop:value=value on:input=move |ev| value.set(event_target_value(&ev))/>
                </div>
            }
        };
    view! {
        <fieldset data-testid="data-subject">
            <legend>"Data subject"</legend>
            <p class="hint">"Optional. Credentials with one reference belong to one person, whose data is exported or erased together; all of it is kept encrypted under that person's own key."</p>
            {field("subject-reference", "Your reference (customer or patient number)", "text", person.reference)}
            {field("subject-email", "Holder's e-mail", "email", person.email)}
            {field("subject-phone", "Holder's phone", "tel", person.phone)}
        </fieldset>
    }
}

#[component]
fn IssueForm(types: Vec<CredentialTypeInfo>) -> impl IntoView {
    let query = use_query_map();
    let wanted = query.with_untracked(|q| q.get("type"));
    let chosen = RwSignal::new(
        types
            .iter()
            .find(|t| Some(&t.type_name) == wanted.as_ref())
            .cloned(),
    );
    let format = RwSignal::new("ldp_vc".to_owned());
    let values = RwSignal::new(BTreeMap::<String, String>::new());
    let errors = RwSignal::new(BTreeMap::<String, String>::new());
    let preview = RwSignal::new(None::<Value>);
    // Optional end of validity, a date: valid through that whole day (UTC).
    let valid_until = RwSignal::new(String::new());
    let until_error = RwSignal::new(None::<&'static str>);
    // The issued credential's id, chosen once per filled-in form: sent again (a double
    // click, a retried request) it is refused as taken, so one form issues one credential.
    let credential_id = RwSignal::new(new_credential_id());
    let prepared = move || {
        let info = chosen.get_untracked()?;
        let claims = fields(&info);
        let problems = check_all(&claims, &values.get_untracked());
        let until = valid_until.get_untracked();
        let today = String::from(js_sys::Date::new_0().to_iso_string());
        let past = !until.is_empty() && until.as_str() < &today[..10];
        until_error.set(past.then_some("Choose today or a later date."));
        let ok = problems.is_empty() && !past;
        errors.set(problems);
        ok.then(|| {
            let mut credential = credential(&info, subject(&claims, &values.get_untracked()));
            if !until.is_empty() {
                credential["validUntil"] = Value::String(format!("{until}T23:59:59Z"));
            }
            credential
        })
    };
    let person = DataSubjectFields::default();
    let issue = Action::new_local(move |(credential, format): &(Value, String)| {
        api::issue(credential.clone(), format.clone(), person.options())
    });
    let tx_code = RwSignal::new(true);
    let sign_in = RwSignal::new(false);
    let approval = RwSignal::new(false);
    let offer = Action::new_local(move |(credential, format): &(Value, String)| {
        let flow = if sign_in.get_untracked() {
            OfferFlow::AuthorizationCode
        } else {
            OfferFlow::PreAuthorized
        };
        api::create_offer(
            credential.clone(),
            format.clone(),
            person.options(),
            tx_code.get_untracked(),
            flow,
            approval.get_untracked(),
        )
    });
    let lint = move || {
        let info = chosen.get()?;
        let claims = fields(&info);
        let subject = subject(&claims, &values.get());
        let findings = lint_issuance(
            subject.as_object()?,
            &info.personal_claims,
            CredentialFormat::parse(&format.get())?,
            None,
        );
        (!findings.is_empty()).then_some(findings)
    };
    // A server error about one claim goes next to its field.
    Effect::new(move |_| {
        let failed = match (issue.value().get(), offer.value().get()) {
            (Some(Err(error)), _) | (_, Some(Err(error))) => Some(error),
            _ => None,
        };
        if let Some(error) = failed {
            if let Some(name) = error
                .path
                .as_deref()
                .and_then(|p| p.strip_prefix("/credential/credentialSubject/"))
            {
                errors.update(|e| {
                    e.insert(name.to_owned(), error.message.clone());
                });
            }
        }
    });
    // A new type, or "Issue another", starts a new form.
    let reset = move || {
        values.set(BTreeMap::new());
        errors.set(BTreeMap::new());
        valid_until.set(String::new());
        until_error.set(None);
        preview.set(None);
        issue.value().set(None);
        offer.value().set(None);
        credential_id.set(new_credential_id());
    };
    Effect::new(move |_| {
        chosen.track();
        reset();
    });
    let pending = Signal::derive(move || issue.pending().get() || offer.pending().get());
    // Once issued or offered, the result takes the form's place and is brought into view.
    let done = Signal::derive(move || {
        issue
            .value()
            .with(|r| matches!(r, Some(Ok(_))) || matches!(r, Some(Err(e)) if already_issued(e)))
            || offer.value().with(|r| matches!(r, Some(Ok(_))))
    });
    let result = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if done.get() {
            if let Some(section) = result.get() {
                section.scroll_into_view();
            }
        }
    });
    view! {
        <form class="issue" novalidate=true hidden=move || done.get() on:submit=move |ev| {
            ev.prevent_default();
            if pending.get_untracked() || done.get_untracked() {
                return;
            }
            offer.value().set(None);
            if let Some(mut credential) = prepared() {
                credential["id"] = Value::String(credential_id.get_untracked());
                issue.dispatch((credential, format.get_untracked()));
            }
        }>
            <TypePicker types chosen/>
            {move || chosen.get().map(|info| view! {
                <p class="hint">{info.description.clone()}</p>
                <fieldset>
                    <legend>"Subject"</legend>
                    <SchemaForm fields=fields(&info) values errors/>
                </fieldset>
                <DataSubject person/>
                <div class="field">
                    <label for="valid-until">"Valid until (optional)"</label>
                    <input id="valid-until" data-testid="valid-until" type="date"
                        aria-invalid=move || until_error.get().is_some().to_string()
                        aria-describedby="valid-until-error"
                        prop:value=valid_until on:input=move |ev| valid_until.set(event_target_value(&ev))/>
                    <span class="error" id="valid-until-error" data-testid="valid-until-error">{move || until_error.get()}</span>
                    <small class="hint">"Through the end of that day (UTC). Left empty, the credential has no end date; it can still be revoked."</small>
                </div>
                <FormatPicker format/>
                {move || lint().map(|findings| view! {
                    <ul class="warnings" data-testid="privacy-lint" aria-live="polite">
                        {findings.into_iter().map(|f| view! { <li>{f.message}</li> }).collect_view()}
                    </ul>
                })}
                <div class="buttons">
                    <button type="button" data-testid="preview" on:click=move |_| preview.set(prepared())>"Preview"</button>
                    <button type="submit" data-testid="issue" disabled=move || pending.get()>
                        {move || if pending.get() { "Issuing…" } else { "Issue" }}
                    </button>
                    <button type="button" data-testid="offer" disabled=move || pending.get()
                        on:click=move |_| {
                            if pending.get_untracked() || done.get_untracked() {
                                return;
                            }
                            issue.value().set(None);
                            if let Some(credential) = prepared() {
                                offer.dispatch((credential, format.get_untracked()));
                            }
                        }>"Send to a wallet"</button>
                    <label for="offer-tx">
                        <input type="checkbox" id="offer-tx" data-testid="offer-tx-code"
                            prop:checked=tx_code on:change=move |ev| tx_code.set(event_target_checked(&ev))/>
                        "with a transaction code"
                    </label>
                    <label for="offer-sign-in">
                        <input type="checkbox" id="offer-sign-in" data-testid="offer-sign-in"
                            prop:checked=sign_in on:change=move |ev| sign_in.set(event_target_checked(&ev))/>
                        "the holder enters the code on our page (authorization code flow)"
                    </label>
                    <label for="offer-approval">
                        <input type="checkbox" id="offer-approval" data-testid="offer-approval"
                            prop:checked=approval on:change=move |ev| approval.set(event_target_checked(&ev))/>
                        "issued once we approve the wallet's request (deferred issuance)"
                    </label>
                </div>
            })}
            {move || (errors.with(|e| !e.is_empty()) || until_error.get().is_some()).then(|| view! {
                <p class="error" role="alert" data-testid="form-errors">"Some fields need attention; see the messages next to them."</p>
            })}
        </form>
        {move || preview.get().map(|credential| view! {
            <section aria-labelledby="preview-title" data-testid="preview-panel">
                <h2 id="preview-title">"Preview"</h2>
                <p class="hint">"The issuer, an id, validFrom and the status entries are added when it is signed."</p>
                <pre>{serde_json::to_string_pretty(&credential).unwrap_or_default()}</pre>
            </section>
        })}
        <div aria-live="polite" node_ref=result>
            {move || issue.value().get().map(|r| match r {
                Ok(issued) => view! { <Issued issued format=format.get_untracked()/> }.into_any(),
                Err(error) if already_issued(&error) => view! {
                    <AlreadyIssued id=credential_id.get_untracked()/>
                }.into_any(),
                Err(error) => view! { <ErrorNote error testid="issue-error"/> }.into_any(),
            })}
            {move || offer.value().get().map(|r| match r {
                Ok(created) => view! { <Offered created/> }.into_any(),
                Err(error) => view! { <ErrorNote error testid="offer-error"/> }.into_any(),
            })}
            {move || done.get().then(|| view! {
                <p class="buttons">
                    <button type="button" data-testid="issue-another" on:click=move |_| reset()>
                        "Issue another"
                    </button>
                </p>
            })}
        </div>
    }
}

/// A fresh `urn:uuid:` credential id (a random UUID from the browser's crypto).
fn new_credential_id() -> String {
    let uuid = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_default();
    format!("urn:uuid:{uuid}")
}

/// Whether an issuance error says this form's credential was issued already (by an earlier
/// click or request with the same id).
fn already_issued(error: &api::ApiError) -> bool {
    error.code == "CREDENTIAL_ID_TAKEN"
}

/// This form's credential was issued by an earlier request: where it is.
#[component]
fn AlreadyIssued(id: String) -> impl IntoView {
    view! {
        <section class="result" aria-labelledby="issued-title" data-testid="already-issued">
            <h2 id="issued-title">"Already issued"</h2>
            <p>"This form was sent twice; its credential was issued once, as "
                <A href=format!("/portal/credentials/{}", js_sys::encode_uri_component(&id))>
                    <code data-testid="issued-id">{id.clone()}</code></A>"."</p>
        </section>
    }
}

#[component]
fn Issued(issued: api::Issued, format: String) -> impl IntoView {
    // A JOSE or SD-JWT credential comes wrapped as an EnvelopedVerifiableCredential whose
    // id is a data: URL; the holder gets the token itself.
    let text = match issued.credential["id"]
        .as_str()
        .and_then(|id| id.strip_prefix("data:"))
    {
        Some(data) if issued.credential["type"] == "EnvelopedVerifiableCredential" => data
            .split_once(',')
            .map(|(_, token)| token.to_owned())
            .unwrap_or_default(),
        _ => serde_json::to_string_pretty(&issued.credential).unwrap_or_default(),
    };
    let id = issued.id.clone();
    let (file, mime) = match format.as_str() {
        "ldp_vc" => ("credential.json", "application/vc+ld+json"),
        "vc+jwt" => ("credential.jwt", "application/vc+jwt"),
        _ => ("credential.sd-jwt", "application/dc+sd-jwt"),
    };
    view! {
        <section class="result" aria-labelledby="issued-title" data-testid="issued">
            <h2 id="issued-title">"Issued"</h2>
            <p>"Credential " <A href=format!("/portal/credentials/{}", js_sys::encode_uri_component(&id))>
                <code data-testid="issued-id">{id.clone()}</code></A>
                " — its anchor is sealed into the next block within a second."</p>
            <Download content=text.clone() file=file mime=mime label="Download the credential" testid="download-credential"/>
            <p class="hint">"Hand the file to the holder, or use “Send to a wallet” for a link and QR code any OpenID4VCI wallet accepts."</p>
            <details><summary>"The signed credential"</summary><pre>{text}</pre></details>
        </section>
    }
}
