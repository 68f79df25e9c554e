//! KYC reuse: the institution's KYC policies, the reliance it placed on other
//! institutions' KYC (each record checkable again), the reliance others placed on its own
//! KYC (counts only), and the webhook that tells it of suspension and revocation.

use certus_schemas::kyc::{
    AssuranceLevel, KycRequirements, RelianceEntry, RelianceState, KYC_CREDENTIAL,
};
use certus_schemas::portal::Role;
use certus_schemas::wire::VerificationPolicy;
use leptos::prelude::*;

use crate::api;
use crate::use_auth;
use crate::widgets::{local_time, ErrorNote, Loading};

#[component]
pub fn Kyc() -> impl IntoView {
    view! {
        <h1>"KYC reuse"</h1>
        <p class="hint">"Onboard customers on a KYC another institution already did, under your policy; every reliance is signed, anchored and holds no personal data."</p>
        <PolicyForm/>
        <Reliances/>
        <Summary/>
        <Webhook/>
    }
}

/// The claims of the KYC credential type a policy can require.
fn kyc_claims(types: &[certus_schemas::wire::CredentialTypeInfo]) -> Vec<String> {
    types
        .iter()
        .find(|t| t.type_name == KYC_CREDENTIAL)
        .map(|t| t.personal_claims.clone())
        .unwrap_or_default()
}

#[component]
fn PolicyForm() -> impl IntoView {
    let types = LocalResource::new(api::credential_types);
    let name = RwSignal::new("kyc-onboarding".to_owned());
    let min = RwSignal::new(AssuranceLevel::Substantial);
    let max_days = RwSignal::new("365".to_owned());
    let accredited = RwSignal::new(true);
    let notify = RwSignal::new(true);
    let claims = RwSignal::new(vec![
        "givenName".to_owned(),
        "familyName".to_owned(),
        "birthDate".to_owned(),
    ]);
    let save = Action::new_local(move |_: &()| {
        let mut required_checks = vec!["status".to_owned()];
        if accredited.get_untracked() {
            required_checks.push("accreditation".to_owned());
        }
        let policy = VerificationPolicy {
            required_checks,
            required_types: vec![KYC_CREDENTIAL.to_owned()],
            required_claims: claims.get_untracked(),
            kyc: Some(KycRequirements {
                min_assurance: Some(min.get_untracked()),
                max_check_age_days: max_days.get_untracked().trim().parse().ok(),
                status_notifications: notify.get_untracked(),
            }),
            ..Default::default()
        };
        let name = name.get_untracked();
        async move { api::put_policy(&name, &policy).await.map(|_| name) }
    });
    view! {
        <section aria-labelledby="kyc-policy-title">
            <h2 id="kyc-policy-title">"A KYC policy"</h2>
            <p class="hint">"Name it in the verifier console's request builder to onboard a customer under it."</p>
            <form class="inline" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
                <div class="field">
                    <label for="kyc-policy-name">"Name"</label>
                    <input id="kyc-policy-name" data-testid="kyc-policy-name" required
                        prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="kyc-min-assurance">"Lowest level of assurance"</label>
                    <select id="kyc-min-assurance" data-testid="kyc-min-assurance"
                        prop:value=move || min.get().as_str()
                        on:change=move |ev| { if let Some(l) = AssuranceLevel::parse(&event_target_value(&ev)) { min.set(l); } }>
                        {AssuranceLevel::ALL.into_iter().map(|l| view! { <option value=l.as_str()>{l.as_str()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="kyc-max-age">"Oldest check accepted (days)"</label>
                    <input id="kyc-max-age" data-testid="kyc-max-age" type="number" min="0"
                        prop:value=max_days on:input=move |ev| max_days.set(event_target_value(&ev))/>
                </div>
                <fieldset>
                    <legend>"Claims needed"</legend>
                    <Suspense fallback=Loading>
                        {move || types.get().map(|r| r.map(|t| kyc_claims(&t)).unwrap_or_default().into_iter().map(|claim| {
                            let (checked, toggled) = (claim.clone(), claim.clone());
                            view! {
                                <label>
                                    <input type="checkbox" data-testid=format!("kyc-claim-{claim}")
                                        prop:checked=move || claims.with(|c| c.contains(&checked))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            claims.update(|c| { c.retain(|x| x != &toggled); if on { c.push(toggled.clone()); } });
                                        }/>
                                    {claim.clone()}
                                </label>
                            }
                        }).collect_view())}
                    </Suspense>
                </fieldset>
                <label>
                    <input type="checkbox" data-testid="kyc-accredited" prop:checked=accredited
                        on:change=move |ev| accredited.set(event_target_checked(&ev))/>
                    "Only KYC issuers accredited on the chain"
                </label>
                <label>
                    <input type="checkbox" data-testid="kyc-notify" prop:checked=notify
                        on:change=move |ev| notify.set(event_target_checked(&ev))/>
                    "Ask the holder to let us be told of suspension and revocation"
                </label>
                <button type="submit" data-testid="kyc-policy-save" disabled=move || save.pending().get()>"Save policy"</button>
            </form>
            <div aria-live="polite">
                {move || save.value().get().map(|r| match r {
                    Ok(name) => view! { <p class="ok" data-testid="kyc-policy-saved">{format!("Saved the policy “{name}”.")}</p> }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                })}
            </div>
        </section>
    }
}

#[component]
fn Reliances() -> impl IntoView {
    let list = LocalResource::new(api::reliances);
    view! {
        <section aria-labelledby="kyc-reliances-title">
            <h2 id="kyc-reliances-title">"Our reliance on others' KYC"</h2>
            <Suspense fallback=Loading>
                {move || list.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(list) if list.records.is_empty() => view! { <p class="empty" data-testid="kyc-reliances-empty">"No reliance recorded yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <div class="scroll">
                            <table data-testid="kyc-reliances">
                                <thead><tr><th scope="col">"When"</th><th scope="col">"KYC by"</th><th scope="col">"Assurance"</th><th scope="col">"Checked on"</th><th scope="col">"Record"</th><th scope="col">"Now"</th></tr></thead>
                                <tbody>{list.records.into_iter().map(|entry| view! { <RelianceRow entry/> }).collect_view()}</tbody>
                            </table>
                        </div>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn RelianceRow(entry: RelianceEntry) -> impl IntoView {
    let id = entry.record.id.clone();
    let check = Action::new_local(move |_: &()| {
        let id = id.clone();
        async move { api::check_reliance(&id).await }
    });
    let record = entry.record;
    view! {
        <tr data-testid="kyc-reliance">
            <td>{local_time(&record.relied_at)}</td>
            <td><code class="wrap">{record.kyc_issuer}</code></td>
            <td>{record.assurance_level.as_str()}</td>
            <td>{record.check_date.unwrap_or_default()}</td>
            <td><code class="wrap" title=entry.commitment>{record.id}</code></td>
            <td>
                {if entry.notifications {
                    view! {
                        <button data-testid="kyc-check" disabled=move || check.pending().get()
                            on:click=move |_| { check.dispatch(()); }>"Check now"</button>
                        <span data-testid="kyc-state" aria-live="polite">
                            {move || check.value().get().map(|r| match r {
                                Ok(c) => format!(" {} — {}", match c.state {
                                    RelianceState::Active => "active",
                                    RelianceState::Suspended => "suspended",
                                    RelianceState::Revoked => "revoked",
                                }, c.message),
                                Err(e) => format!(" {e}"),
                            })}
                        </span>
                    }.into_any()
                } else {
                    view! { <span class="hint">"not kept (the holder did not allow it)"</span> }.into_any()
                }}
            </td>
        </tr>
    }
}

#[component]
fn Summary() -> impl IntoView {
    let summary = LocalResource::new(api::reliance_summary);
    view! {
        <section aria-labelledby="kyc-summary-title">
            <h2 id="kyc-summary-title">"Reliance on our KYC"</h2>
            <p class="hint">"Counts per institution and month; who the customers were is never shown."</p>
            <Suspense fallback=Loading>
                {move || summary.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(s) if s.counts.is_empty() => view! { <p class="empty">"No one has relied on our KYC yet."</p> }.into_any(),
                    Ok(s) => view! {
                        <table data-testid="kyc-summary">
                            <thead><tr><th scope="col">"Institution"</th><th scope="col">"Month"</th><th scope="col">"Reliances"</th></tr></thead>
                            <tbody>{s.counts.into_iter().map(|c| view! {
                                <tr><td title=c.relying_party>{c.relying_institution}</td><td>{c.month}</td><td>{c.count}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Webhook() -> impl IntoView {
    let auth = use_auth();
    let current = LocalResource::new(api::webhook);
    let deliveries = LocalResource::new(api::webhook_deliveries);
    let url = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(Some(endpoint))) = current.get() {
            url.set(endpoint.url);
        }
    });
    let save = Action::new_local(move |_: &()| api::set_webhook(url.get_untracked()));
    view! {
        <section aria-labelledby="kyc-webhook-title">
            <h2 id="kyc-webhook-title">"Webhook"</h2>
            <p class="hint">"Where we are told when a KYC we rely on is suspended, reinstated or revoked: a Security Event Token (RFC 8417) signed with our key, pushed as application/secevent+jwt (RFC 8935)."</p>
            <Show when=move || auth.role() == Some(Role::Admin)
                fallback=move || view! { <p>{move || current.get().and_then(|r| r.ok().flatten()).map(|e| e.url).unwrap_or_else(|| "No endpoint set; an admin sets it.".into())}</p> }>
                <form class="inline" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
                    <div class="field">
                        <label for="kyc-webhook-url">"Endpoint URL"</label>
                        <input id="kyc-webhook-url" data-testid="kyc-webhook-url" type="url" required
                            prop:value=url on:input=move |ev| url.set(event_target_value(&ev))/>
                    </div>
                    <button type="submit" data-testid="kyc-webhook-save">"Save endpoint"</button>
                </form>
                <div aria-live="polite">
                    {move || save.value().get().map(|r| match r {
                        Ok(_) => view! { <p class="ok" data-testid="kyc-webhook-saved">"Saved."</p> }.into_any(),
                        Err(error) => view! { <ErrorNote error/> }.into_any(),
                    })}
                </div>
            </Show>
            <h3>"Deliveries"</h3>
            <button class="secondary" data-testid="kyc-deliveries-refresh" on:click=move |_| deliveries.refetch()>"Refresh"</button>
            <Suspense fallback=Loading>
                {move || deliveries.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(d) if d.deliveries.is_empty() => view! { <p class="empty">"Nothing sent yet."</p> }.into_any(),
                    Ok(d) => view! {
                        <table data-testid="kyc-deliveries">
                            <thead><tr><th scope="col">"When"</th><th scope="col">"Event"</th><th scope="col">"State"</th><th scope="col">"Attempts"</th><th scope="col">"Last error"</th></tr></thead>
                            <tbody>{d.deliveries.into_iter().map(|d| view! {
                                <tr><td>{local_time(&d.created_at)}</td><td>{d.event}</td><td>{d.state}</td><td>{d.attempts}</td><td>{d.last_error.unwrap_or_default()}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
