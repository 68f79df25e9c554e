//! The credential types: what each certifies, its claims, which are personal data, and its
//! JSON Schema; for admins, defining the institution's own types from a list of claims and
//! retiring them.

use certus_schemas::portal::Role;
use certus_schemas::types::{ClaimKind, ClaimSpec, NewCredentialType, TypeDisplay};
use certus_schemas::wire::CredentialTypeInfo;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::schema_form::{fields, Kind};
use crate::use_auth;
use crate::widgets::{ErrorNote, Loading};

#[component]
pub fn Types() -> impl IntoView {
    let types = LocalResource::new(api::credential_types);
    let auth = use_auth();
    let refresh = Callback::new(move |_| types.refetch());
    view! {
        <h1>"Credential types"</h1>
        <Show when=move || auth.role() == Some(Role::Admin)>
            <DefineType refresh/>
        </Show>
        <Suspense fallback=Loading>
            {move || types.get().map(|r| match r {
                Ok(list) => view! {
                    <div data-testid="credential-types">
                        {list.into_iter().map(|info| view! { <TypeCard info refresh/> }).collect_view()}
                    </div>
                }.into_any(),
                Err(error) => view! { <ErrorNote error/> }.into_any(),
            })}
        </Suspense>
    }
}

/// One claim row of the definition form.
#[derive(Debug, Clone, Copy)]
struct ClaimRow {
    key: usize,
    name: RwSignal<String>,
    title: RwSignal<String>,
    kind: RwSignal<ClaimKind>,
    required: RwSignal<bool>,
    personal: RwSignal<bool>,
    /// Allowed values, comma-separated (text claims only).
    allowed: RwSignal<String>,
}

impl ClaimRow {
    fn new(key: usize) -> Self {
        Self {
            key,
            name: RwSignal::new(String::new()),
            title: RwSignal::new(String::new()),
            kind: RwSignal::new(ClaimKind::String),
            required: RwSignal::new(true),
            personal: RwSignal::new(false),
            allowed: RwSignal::new(String::new()),
        }
    }

    fn spec(&self) -> ClaimSpec {
        let allowed: Vec<String> = self
            .allowed
            .get_untracked()
            .split(',')
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect();
        let title = self.title.get_untracked();
        ClaimSpec {
            name: self.name.get_untracked().trim().to_owned(),
            title: (!title.trim().is_empty()).then(|| title.trim().to_owned()),
            description: None,
            kind: self.kind.get_untracked(),
            required: self.required.get_untracked(),
            personal: self.personal.get_untracked(),
            allowed: (!allowed.is_empty()).then_some(allowed),
        }
    }
}

/// The admin's form: a type drafted from a list of claims.
#[component]
fn DefineType(refresh: Callback<()>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let title = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let retention = RwSignal::new("P10Y".to_owned());
    let accreditation = RwSignal::new(false);
    let background = RwSignal::new("#1f4e79".to_owned());
    let text_colour = RwSignal::new("#ffffff".to_owned());
    let next_key = StoredValue::new(1usize);
    let claims = RwSignal::new(vec![ClaimRow::new(0)]);
    let add_claim = move |_| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        claims.update(|c| c.push(ClaimRow::new(key)));
    };
    let define = Action::new_local(move |definition: &NewCredentialType| {
        api::define_credential_type(definition.clone())
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = define.value().get() {
            refresh.run(());
        }
    });
    let field_error = move |pointer: &'static str| {
        move || {
            define
                .value()
                .get()
                .and_then(|r| r.err())
                .filter(|e| e.path.as_deref() == Some(pointer))
                .map(|e| e.message)
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let title_text = title.get_untracked();
        define.dispatch(NewCredentialType {
            type_name: Some(name.get_untracked().trim().to_owned()),
            title: title_text.clone(),
            description: description.get_untracked(),
            schema: None,
            claims: Some(claims.get_untracked().iter().map(ClaimRow::spec).collect()),
            retention: retention.get_untracked(),
            data_subjects: None,
            accreditation_required: accreditation.get_untracked(),
            display: vec![TypeDisplay {
                locale: Some("en".into()),
                name: title_text,
                description: None,
                background_color: Some(background.get_untracked()),
                text_color: Some(text_colour.get_untracked()),
                logo: None,
            }],
            example: None,
        });
    };
    view! {
        <details class="card" data-testid="define-type">
            <summary>"Define a credential type of your own"</summary>
            <form on:submit=submit>
                <div class="field">
                    <label for="type-name">"Type name"</label>
                    <input id="type-name" data-testid="type-name" required placeholder="OrganicFarmCertificate"
                        aria-describedby="type-name-hint type-name-error"
                        on:input=move |ev| name.set(event_target_value(&ev)) prop:value=name/>
                    <small id="type-name-hint">"A capital letter, then letters and digits: the VC type credentials carry."</small>
                    <small id="type-name-error" class="field-error" role="alert">{field_error("/type")}</small>
                </div>
                <div class="field">
                    <label for="type-title">"Title"</label>
                    <input id="type-title" data-testid="type-title" required
                        on:input=move |ev| title.set(event_target_value(&ev)) prop:value=title/>
                </div>
                <div class="field">
                    <label for="type-description">"What it certifies"</label>
                    <textarea id="type-description" data-testid="type-description"
                        on:input=move |ev| description.set(event_target_value(&ev)) prop:value=description/>
                </div>
                <fieldset>
                    <legend>"Claims"</legend>
                    <table class="claims-editor">
                        <thead><tr>
                            <th scope="col">"Name"</th><th scope="col">"Label"</th><th scope="col">"Kind"</th>
                            <th scope="col">"Allowed values"</th><th scope="col">"Required"</th><th scope="col">"Personal data"</th><th scope="col"></th>
                        </tr></thead>
                        <tbody>
                            <For each=move || claims.get() key=|row| row.key let:row>
                                <ClaimEditor row remove=Callback::new(move |_| claims.update(|c| c.retain(|r| r.key != row.key)))/>
                            </For>
                        </tbody>
                    </table>
                    <small class="field-error" role="alert">{move || {
                        define.value().get().and_then(|r| r.err())
                            .filter(|e| e.path.as_deref().is_some_and(|p| p.starts_with("/claims")))
                            .map(|e| format!("{} ({})", e.message, e.path.unwrap_or_default()))
                    }}</small>
                    <button type="button" data-testid="add-claim" on:click=add_claim>"Add a claim"</button>
                </fieldset>
                <div class="field">
                    <label for="type-retention">"Keep personal data for (ISO 8601, e.g. P10Y)"</label>
                    <input id="type-retention" data-testid="type-retention" required
                        on:input=move |ev| retention.set(event_target_value(&ev)) prop:value=retention/>
                    <small class="field-error" role="alert">{field_error("/retention")}</small>
                </div>
                <label class="check">
                    <input type="checkbox" data-testid="type-accreditation"
                        on:change=move |ev| accreditation.set(event_target_checked(&ev)) prop:checked=accreditation/>
                    " Only issuers accredited for it may issue it"
                </label>
                <div class="field inline-pair">
                    <label for="type-background">"Card colour"</label>
                    <input id="type-background" type="color" on:input=move |ev| background.set(event_target_value(&ev)) prop:value=background/>
                    <label for="type-text-colour">"Text colour"</label>
                    <input id="type-text-colour" type="color" on:input=move |ev| text_colour.set(event_target_value(&ev)) prop:value=text_colour/>
                </div>
                <button type="submit" data-testid="define-type-submit" disabled=move || define.pending().get()>"Define the type"</button>
            </form>
            <div aria-live="polite">
                {move || define.value().get().map(|r| match r {
                    Ok(info) => view! {
                        <p class="ok" data-testid="type-defined">
                            {format!("Defined {} (version {}), registered on the chain as {}. ", info.type_name, info.version, &info.schema_hash[..16])}
                            <A href=format!("/portal/issue?type={}", info.type_name)>"Issue one"</A>
                        </p>
                    }.into_any(),
                    Err(error) if error.path.as_deref().is_some_and(|p| p == "/type" || p == "/retention" || p.starts_with("/claims")) => ().into_any(),
                    Err(error) => view! { <ErrorNote error testid="define-type-error"/> }.into_any(),
                })}
            </div>
        </details>
    }
}

/// One claim's row in the definition form.
#[component]
fn ClaimEditor(row: ClaimRow, remove: Callback<()>) -> impl IntoView {
    let id = |field: &str| format!("claim-{}-{field}", row.key);
    view! {
        <tr data-testid="claim-row">
            <td><input aria-label="Claim name" id=id("name") data-testid="claim-name" required placeholder="farmName"
                on:input=move |ev| row.name.set(event_target_value(&ev)) prop:value=row.name/></td>
            <td><input aria-label="Label" id=id("title") data-testid="claim-title"
                on:input=move |ev| row.title.set(event_target_value(&ev)) prop:value=row.title/></td>
            <td><select aria-label="Kind" id=id("kind") data-testid="claim-kind"
                on:change=move |ev| {
                    let chosen = event_target_value(&ev);
                    if let Some(kind) = ClaimKind::ALL.into_iter().find(|k| k.as_str() == chosen) {
                        row.kind.set(kind);
                    }
                }
                prop:value=move || row.kind.get().as_str()>
                {ClaimKind::ALL.iter().map(|k| view! { <option value=k.as_str()>{k.as_str()}</option> }).collect_view()}
            </select></td>
            <td><input aria-label="Allowed values, comma-separated" id=id("allowed") data-testid="claim-allowed"
                disabled=move || row.kind.get() != ClaimKind::String
                on:input=move |ev| row.allowed.set(event_target_value(&ev)) prop:value=row.allowed/></td>
            <td><input type="checkbox" aria-label="Required" data-testid="claim-required"
                on:change=move |ev| row.required.set(event_target_checked(&ev)) prop:checked=row.required/></td>
            <td><input type="checkbox" aria-label="Personal data" data-testid="claim-personal"
                on:change=move |ev| row.personal.set(event_target_checked(&ev)) prop:checked=row.personal/></td>
            <td><button type="button" class="link" aria-label="Remove this claim" on:click=move |_| remove.run(())>"Remove"</button></td>
        </tr>
    }
}

#[component]
fn TypeCard(info: CredentialTypeInfo, refresh: Callback<()>) -> impl IntoView {
    let auth = use_auth();
    let own = {
        let owner = info.owner.clone();
        move || {
            auth.role() == Some(Role::Admin)
                && auth.session.with(|s| {
                    s.as_ref()
                        .is_some_and(|s| Some(&s.tenant.id) == owner.as_ref())
                })
        }
    };
    let (name, version) = (info.type_name.clone(), info.version);
    let retire =
        Action::new_local(move |_: &()| api::retire_credential_type(name.clone(), version));
    Effect::new(move |_| {
        if let Some(Ok(_)) = retire.value().get() {
            refresh.run(());
        }
    });
    let schema = serde_json::to_string_pretty(&info.schema).unwrap_or_default();
    let claims = fields(&info);
    let testid = format!("type-{}", info.type_name);
    let title_id = format!("{testid}-title");
    let labelled_by = title_id.clone();
    view! {
        <article class="card" data-testid=testid aria-labelledby=labelled_by>
            <h2 id=title_id>{info.title.clone()} " " <code>{info.type_name.clone()}</code>
                {(info.version > 1).then(|| format!(" · version {}", info.version))}</h2>
            <p>{info.description.clone()}</p>
            <div class="scroll">
            <table>
                <thead><tr><th scope="col">"Claim"</th><th scope="col">"Kind"</th><th scope="col">"Required"</th><th scope="col">"Personal data"</th></tr></thead>
                <tbody>
                    {claims.into_iter().map(|f| view! {
                        <tr>
                            <td>{f.label.clone()} <small class="hint"><code>{f.name.clone()}</code></small></td>
                            <td>{match f.kind {
                                Kind::Choice(options) => format!("one of {}", options.join(", ")),
                                Kind::Date => "date".into(),
                                Kind::Uri => "URI".into(),
                                Kind::Integer { .. } => "whole number".into(),
                                Kind::Number => "number".into(),
                                Kind::Boolean => "yes/no".into(),
                                Kind::Text => "text".into(),
                            }}</td>
                            <td>{if f.required { "yes" } else { "" }}</td>
                            <td>{f.personal.then(|| view! { <span class="badge personal">"personal"</span> })}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            </div>
            <details>
                <summary>"JSON Schema"</summary>
                <pre>{schema}</pre>
            </details>
            <A href=format!("/portal/issue?type={}", info.type_name) attr:class="button">"Issue one"</A>
            <Show when=own.clone()>
                <button type="button" class="secondary" data-testid="retire-type"
                    on:click=move |_| { retire.dispatch(()); }>"Retire this version"</button>
            </Show>
            {move || retire.value().get().and_then(|r| r.err()).map(|error| view! { <ErrorNote error/> })}
        </article>
    }
}
