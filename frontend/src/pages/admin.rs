//! For admins: the institution's user accounts, API keys, settings and verifier
//! certificates.

use certus_schemas::openid::{VerifierCertificate, VerifierCertificateCreate};
use certus_schemas::portal::{ApiKeyInfo, NewApiKey, NewUser, Role, UserInfo, UserUpdate};
use certus_schemas::settings::{InstitutionSettings, SettingSource, SettingsChoice};
use leptos::prelude::*;

use crate::api;
use crate::use_auth;
use crate::widgets::{local_time, ErrorNote, Loading};

const ROLES: [Role; 3] = [Role::Admin, Role::Certifier, Role::Auditor];
const SCOPES: [&str; 6] = ["issue", "verify", "status", "read", "privacy", "types"];

#[component]
pub fn Admin() -> impl IntoView {
    view! {
        <h1>"Users, API keys and settings"</h1>
        <Users/>
        <ApiKeys/>
        <Settings/>
        <VerifierCertificates/>
    }
}

/// The certificates the institution's presentation requests can name it by
/// (`x509_san_dns`, `x509_hash`): made self-signed, or asked of its CA and installed.
#[component]
fn VerifierCertificates() -> impl IntoView {
    let list = LocalResource::new(api::verifier_certificates);
    let dns_name = RwSignal::new(String::new());
    let make = Action::new_local(move |self_signed: &bool| {
        let body = VerifierCertificateCreate {
            dns_name: Some(dns_name.get_untracked()).filter(|n| !n.trim().is_empty()),
            self_signed: *self_signed,
        };
        api::create_verifier_certificate(body)
    });
    let install = Action::new_local(move |(id, chain): &(String, String)| {
        let (id, chain) = (id.clone(), chain.clone());
        async move { api::install_verifier_chain(&id, chain).await }
    });
    Effect::new(move |_| {
        // Both read on every run, so the effect follows both.
        let (made, installed) = (make.value().get(), install.value().get());
        if matches!(made, Some(Ok(_))) || matches!(installed, Some(Ok(_))) {
            list.refetch();
        }
    });
    view! {
        <section aria-labelledby="certificates-title">
            <h2 id="certificates-title">"Verifier certificates"</h2>
            <p class="hint">"Wallets that expect a verifier named by an X.509 certificate (HAIP asks for x509_hash) check a request against the certificate its key signed it with. Ask your CA with the signing request, then install the chain it returns; or, for development, certify the key here."</p>
            <div class="field">
                <label for="certificate-dns">"Host it certifies (default: this server's)"</label>
                <input id="certificate-dns" data-testid="certificate-dns" prop:value=dns_name
                    on:input=move |ev| dns_name.set(event_target_value(&ev))/>
            </div>
            <div class="actions">
                <button type="button" data-testid="certificate-request" on:click=move |_| { make.dispatch(false); }>"Make a key and a signing request for our CA"</button>
                <button type="button" data-testid="certificate-self-signed" on:click=move |_| { make.dispatch(true); }>"Certify a key ourselves (development)"</button>
            </div>
            <div aria-live="polite">
                {move || make.value().get().and_then(|r| r.err()).map(|error| view! { <ErrorNote error testid="certificate-error"/> })}
                {move || install.value().get().and_then(|r| r.err()).map(|error| view! { <ErrorNote error testid="certificate-install-error"/> })}
            </div>
            <Suspense fallback=Loading>
                {move || list.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(certificates) => view! {
                        <ul class="certificates">
                            {certificates.into_iter().map(|c| view! { <CertificateItem certificate=c install/> }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn CertificateItem(
    certificate: VerifierCertificate,
    install: Action<(String, String), Result<VerifierCertificate, api::ApiError>>,
) -> impl IntoView {
    let chain = RwSignal::new(String::new());
    let id = certificate.id.clone();
    let status = format!("{:?}", certificate.status).to_lowercase();
    view! {
        <li data-testid="certificate">
            <strong>{certificate.dns_name.clone()}</strong>" — "
            <span data-testid="certificate-status">{status}</span>
            {certificate.self_signed.then_some(" (self-signed)")}
            {certificate.not_after.clone().map(|t| view! { ", until "{local_time(&t)} })}
            {(!certificate.client_ids.is_empty()).then(|| view! {
                <ul>{certificate.client_ids.iter().map(|c| view! { <li><code class="wrap" data-testid="certificate-client-id">{c.clone()}</code></li> }).collect_view()}</ul>
            })}
            {certificate.chain.clone().map(|pem| view! { <details><summary>"Chain (PEM)"</summary><pre data-testid="certificate-chain">{pem}</pre></details> })}
            {certificate.csr.clone().map(|csr| view! {
                <div>
                    <p>"Give this signing request to your CA:"</p>
                    <pre data-testid="certificate-csr">{csr}</pre>
                    <label for=format!("chain-{id}")>"The chain it returned (PEM, our certificate first)"</label>
                    <textarea id=format!("chain-{id}") data-testid="certificate-chain-input" rows="4" prop:value=chain
                        on:input=move |ev| chain.set(event_target_value(&ev))></textarea>
                    <button type="button" data-testid="certificate-install" on:click={
                        let id = id.clone();
                        move |_| { install.dispatch((id.clone(), chain.get_untracked())); }
                    }>"Install the chain"</button>
                </div>
            })}
        </li>
    }
}

/// The `<select>` value of a setting: the institution's choice, or the profile's.
fn choice_value(chosen: Option<bool>) -> &'static str {
    match chosen {
        Some(true) => "on",
        Some(false) => "off",
        None => "profile",
    }
}

#[component]
fn Settings() -> impl IntoView {
    let current = LocalResource::new(api::settings);
    let save = Action::new_local(|choice: &SettingsChoice| api::set_settings(choice.clone()));
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            current.refetch();
        }
    });
    let describe = |s: &InstitutionSettings| {
        let state = if s.open_issuance { "on" } else { "off" };
        match s.open_issuance_source {
            SettingSource::Institution => format!("Open issuance is {state}, as you chose."),
            SettingSource::Profile => {
                format!(
                    "Open issuance is {state}, as the server's {} profile has it.",
                    s.profile
                )
            }
        }
    };
    view! {
        <section aria-labelledby="settings-title">
            <h2 id="settings-title">"Settings"</h2>
            <Suspense fallback=Loading>
                {move || current.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(settings) => {
                        let chosen = match settings.open_issuance_source {
                            SettingSource::Institution => Some(settings.open_issuance),
                            SettingSource::Profile => None,
                        };
                        // A PUT replaces every choice: each control sends the others' too.
                        let base = SettingsChoice {
                            open_issuance: chosen,
                            require_dpop: settings.require_dpop.then_some(true),
                            require_key_attestation: settings.require_key_attestation.then_some(true),
                            require_wallet_attestation: settings.require_wallet_attestation.then_some(true),
                            wallet_providers: settings.wallet_providers.clone(),
                        };
                        let providers = RwSignal::new(settings.wallet_providers.clone().unwrap_or_default());
                        let (on_open, on_dpop, on_attestation, on_wallet, on_providers) =
                            (base.clone(), base.clone(), base.clone(), base.clone(), base);
                        view! {
                            <p data-testid="open-issuance-state">{describe(&settings)}</p>
                            <div class="field">
                                <label for="open-issuance">"Open issuance through the VC API"</label>
                                <select id="open-issuance" data-testid="open-issuance"
                                    aria-describedby="open-issuance-help"
                                    on:change=move |ev| {
                                        let open_issuance = match event_target_value(&ev).as_str() {
                                            "on" => Some(true),
                                            "off" => Some(false),
                                            _ => None,
                                        };
                                        save.dispatch(SettingsChoice { open_issuance, ..on_open.clone() });
                                    }>
                                    {[("profile", "As the server profile has it"), ("on", "On"), ("off", "Off")]
                                        .into_iter()
                                        .map(|(value, label)| view! {
                                            <option value=value selected=choice_value(chosen) == value>{label}</option>
                                        })
                                        .collect_view()}
                                </select>
                                <p class="hint" id="open-issuance-help">
                                    "On: integrators may issue any well-formed credential whose contexts are known and whose terms are defined, without a registered type (no schema check; the answer says so). Registered types are always checked against their schema."
                                </p>
                            </div>
                            <div class="field">
                                <label for="require-dpop">
                                    <input type="checkbox" id="require-dpop" data-testid="require-dpop"
                                        aria-describedby="require-dpop-help" prop:checked=settings.require_dpop
                                        on:change=move |ev| {
                                            let require_dpop = event_target_checked(&ev).then_some(true);
                                            save.dispatch(SettingsChoice { require_dpop, ..on_dpop.clone() });
                                        }/>
                                    " Wallets must bind their access tokens to their key (DPoP)"
                                </label>
                                <p class="hint" id="require-dpop-help">
                                    "As the EU's High Assurance Interoperability Profile requires: a stolen token is then worth nothing. Wallets that cannot (some of the pre-authorized flow) are refused."
                                </p>
                            </div>
                            <div class="field">
                                <label for="require-key-attestation">
                                    <input type="checkbox" id="require-key-attestation" data-testid="require-key-attestation"
                                        aria-describedby="key-attestation-help" prop:checked=settings.require_key_attestation
                                        on:change=move |ev| {
                                            let require_key_attestation = event_target_checked(&ev).then_some(true);
                                            save.dispatch(SettingsChoice { require_key_attestation, ..on_attestation.clone() });
                                        }/>
                                    " Wallets must prove their keys are attested by a wallet provider we trust"
                                </label>
                                <p class="hint" id="key-attestation-help">
                                    "A key attestation is the wallet provider's word on how the wallet keeps the key a credential is bound to (in secure hardware, for one). One that comes is checked either way."
                                </p>
                            </div>
                            <div class="field">
                                <label for="require-wallet-attestation">
                                    <input type="checkbox" id="require-wallet-attestation" data-testid="require-wallet-attestation"
                                        aria-describedby="wallet-attestation-help" prop:checked=settings.require_wallet_attestation
                                        on:change=move |ev| {
                                            let require_wallet_attestation = event_target_checked(&ev).then_some(true);
                                            save.dispatch(SettingsChoice { require_wallet_attestation, ..on_wallet.clone() });
                                        }/>
                                    " Wallets must show an attestation by a wallet provider we trust"
                                </label>
                                <p class="hint" id="wallet-attestation-help">
                                    "A wallet attestation is the wallet provider's word that the app asking for a credential is a genuine instance of its wallet, as the EU's High Assurance Interoperability Profile requires. One that comes is checked either way."
                                </p>
                            </div>
                            <div class="field">
                                <label for="wallet-providers">"Wallet providers we trust: their root certificates (PEM)"</label>
                                <textarea id="wallet-providers" data-testid="wallet-providers" rows="4" prop:value=providers
                                    on:input=move |ev| providers.set(event_target_value(&ev))></textarea>
                                <button type="button" data-testid="wallet-providers-save" on:click=move |_| {
                                    let pem = providers.get_untracked();
                                    let wallet_providers = (!pem.trim().is_empty()).then_some(pem);
                                    save.dispatch(SettingsChoice { wallet_providers, ..on_providers.clone() });
                                }>"Save the wallet providers"</button>
                            </div>
                        }.into_any()
                    }
                })}
            </Suspense>
            <div aria-live="polite">
                {move || save.value().get().and_then(|r| r.err()).map(|error| view! { <ErrorNote error/> })}
            </div>
        </section>
    }
}

#[component]
fn Users() -> impl IntoView {
    let users = LocalResource::new(api::users);
    let (email, set_email) = signal(String::new());
    let (name, set_name) = signal(String::new());
    let role = RwSignal::new(Role::Certifier);
    let create = Action::new_local(move |user: &NewUser| api::create_user(user.clone()));
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            users.refetch();
        }
    });
    let field_error = move |pointer: &'static str| {
        move || {
            create
                .value()
                .get()
                .and_then(|r| r.err())
                .filter(|e| e.path.as_deref() == Some(pointer))
                .map(|e| e.message)
        }
    };
    view! {
        <section aria-labelledby="users-title">
            <h2 id="users-title">"Users"</h2>
            <Suspense fallback=Loading>
                {move || users.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(list) => view! { <UserTable list refresh=Callback::new(move |_| users.refetch())/> }.into_any(),
                })}
            </Suspense>
            <form class="inline" on:submit=move |ev| {
                ev.prevent_default();
                create.dispatch(NewUser { email: email.get_untracked(), name: name.get_untracked(), role: role.get_untracked() });
            }>
                <h3>"Add a user"</h3>
                <div class="field">
                    <label for="new-user-email">"Email"</label>
                    <input id="new-user-email" data-testid="new-user-email" type="email" required aria-describedby="new-user-email-error"
                        on:input=move |ev| set_email.set(event_target_value(&ev)) prop:value=email/>
                    <small id="new-user-email-error" class="field-error" role="alert">{field_error("/email")}</small>
                </div>
                <div class="field">
                    <label for="new-user-name">"Name"</label>
                    <input id="new-user-name" data-testid="new-user-name" required
                        on:input=move |ev| set_name.set(event_target_value(&ev)) prop:value=name/>
                </div>
                <div class="field">
                    <label for="new-user-role">"Role"</label>
                    <select id="new-user-role" data-testid="new-user-role"
                        on:change=move |ev| { if let Ok(r) = event_target_value(&ev).parse() { role.set(r); } }
                        prop:value=move || role.get().as_str()>
                        {ROLES.iter().map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
                    </select>
                </div>
                <button type="submit" data-testid="add-user">"Add user"</button>
            </form>
            <div aria-live="polite">
                {move || create.value().get().map(|r| match r {
                    Ok(created) => view! {
                        <p class="ok" data-testid="one-time-password">
                            "Give " <strong>{created.user.email}</strong> " this one-time password; it is shown only now: "
                            <code>{created.one_time_password}</code>
                        </p>
                    }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                })}
            </div>
        </section>
    }
}

#[component]
fn UserTable(list: Vec<UserInfo>, refresh: Callback<()>) -> impl IntoView {
    let auth = use_auth();
    let me = auth
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.user.id.clone()));
    let update = Action::new_local(|(id, change): &(String, UserUpdate)| {
        api::update_user(id.clone(), change.clone())
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = update.value().get() {
            refresh.run(());
        }
    });
    view! {
        <div class="scroll">
            <table data-testid="users">
                <thead><tr><th scope="col">"Email"</th><th scope="col">"Name"</th><th scope="col">"Role"</th><th scope="col">"State"</th><th scope="col">"Action"</th></tr></thead>
                <tbody>
                    {list.into_iter().map(|u| {
                        let is_me = me.as_deref() == Some(u.id.as_str());
                        let (id_role, id_toggle) = (u.id.clone(), u.id.clone());
                        let disabled = u.disabled_at.is_some();
                        let label = format!("Role of {}", u.email);
                        view! {
                            <tr>
                                <td>{u.email.clone()}</td>
                                <td>{u.name.clone()}</td>
                                <td>
                                    <select aria-label=label disabled=is_me prop:value=u.role.as_str()
                                        on:change=move |ev| {
                                            if let Ok(role) = event_target_value(&ev).parse::<Role>() {
                                                update.dispatch((id_role.clone(), UserUpdate { role: Some(role), disabled: None }));
                                            }
                                        }>
                                        {ROLES.iter().map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
                                    </select>
                                </td>
                                <td>{if disabled { "disabled" } else if u.must_change_password { "invited" } else { "active" }}</td>
                                <td>
                                    <button disabled=is_me on:click=move |_| {
                                        update.dispatch((id_toggle.clone(), UserUpdate { role: None, disabled: Some(!disabled) }));
                                    }>{if disabled { "Enable" } else { "Disable" }}</button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {move || update.value().get().and_then(Result::err).map(|error| view! { <ErrorNote error/> })}
    }
}

#[component]
fn ApiKeys() -> impl IntoView {
    let keys = LocalResource::new(api::api_keys);
    let (label, set_label) = signal(String::new());
    let scopes = RwSignal::new(vec!["verify".to_owned()]);
    let create = Action::new_local(|key: &NewApiKey| api::create_api_key(key.clone()));
    let revoke = Action::new_local(|id: &String| api::revoke_api_key(id.clone()));
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_)))
            || matches!(revoke.value().get(), Some(Ok(())))
        {
            keys.refetch();
        }
    });
    view! {
        <section aria-labelledby="keys-title">
            <h2 id="keys-title">"API keys"</h2>
            <Suspense fallback=Loading>
                {move || keys.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">"No API key yet."</p> }.into_any(),
                    Ok(list) => view! { <KeyTable list revoke/> }.into_any(),
                })}
            </Suspense>
            <form class="inline" on:submit=move |ev| {
                ev.prevent_default();
                create.dispatch(NewApiKey { scopes: scopes.get_untracked(), label: Some(label.get_untracked()) });
            }>
                <h3>"Create an API key"</h3>
                <div class="field">
                    <label for="new-key-label">"Label"</label>
                    <input id="new-key-label" data-testid="new-key-label"
                        on:input=move |ev| set_label.set(event_target_value(&ev)) prop:value=label/>
                </div>
                <fieldset>
                    <legend>"Scopes"</legend>
                    {SCOPES.iter().map(|scope| {
                        let id = format!("scope-{scope}");
                        let (for_label, testid) = (id.clone(), id.clone());
                        view! {
                            <label for=for_label>
                                <input type="checkbox" id=id data-testid=testid
                                    prop:checked=move || scopes.with(|s| s.iter().any(|x| x == scope))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        scopes.update(|s| { s.retain(|x| x != scope); if on { s.push((*scope).to_owned()); } });
                                    }/>
                                {*scope}
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
                <button type="submit" data-testid="create-key">"Create key"</button>
            </form>
            <div aria-live="polite">
                {move || create.value().get().map(|r| match r {
                    Ok(created) => view! {
                        <p class="ok" data-testid="new-token">"The key's token, shown only now: " <code class="wrap">{created.token}</code></p>
                    }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                })}
            </div>
        </section>
    }
}

#[component]
fn KeyTable(list: Vec<ApiKeyInfo>, revoke: Action<String, api::Result<()>>) -> impl IntoView {
    view! {
        <div class="scroll">
            <table data-testid="api-keys">
                <thead><tr><th scope="col">"Label"</th><th scope="col">"Scopes"</th><th scope="col">"Created"</th><th scope="col">"State"</th><th scope="col">"Action"</th></tr></thead>
                <tbody>
                    {list.into_iter().map(|k| {
                        let id = k.id.clone();
                        let revoked = k.revoked_at.is_some();
                        view! {
                            <tr>
                                <td>{k.label.clone().unwrap_or_else(|| "—".into())}</td>
                                <td>{k.scopes.join(", ")}</td>
                                <td>{local_time(&k.created_at)}</td>
                                <td>{k.revoked_at.as_deref().map(|t| format!("revoked {}", local_time(t))).unwrap_or_else(|| "active".into())}</td>
                                <td><button class="danger" disabled=revoked on:click=move |_| { revoke.dispatch(id.clone()); }>"Revoke"</button></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
