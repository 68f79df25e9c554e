//! The institution's credentials: search and filter, select and change status, and one
//! credential with its status history, anchor receipt and audit trail.

use std::collections::BTreeSet;

use certus_schemas::portal::{
    AuditEntry, CredentialDetail as Detail, CredentialRecord, CredentialSearch, CredentialState,
};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use serde_json::Value;

use crate::api;
use crate::schema_form::type_title;
use crate::use_auth;
use crate::widgets::{local_time, Actor, Download, ErrorNote, Loading, StatusActions, StatusBadge};

const PAGE: u64 = 50;

/// The filters of the search form.
#[derive(Debug, Clone, Default, PartialEq)]
struct Filters {
    q: String,
    claim: String,
    reference: String,
    credential_type: String,
    status: String,
    from: String,
    until: String,
    offset: u64,
}

impl Filters {
    /// The search, sent in a POST body so that a person's reference stays out of URLs.
    fn search(&self) -> CredentialSearch {
        let given = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        let day = |d: &str| given(d).map(|d| format!("{d}T00:00:00Z"));
        CredentialSearch {
            q: given(&self.q),
            claim: given(&self.claim),
            reference: given(&self.reference),
            credential_type: given(&self.credential_type),
            status: serde_json::from_value(Value::String(self.status.clone())).ok(),
            issued_from: day(&self.from),
            issued_until: day(&self.until),
            limit: Some(PAGE),
            offset: Some(self.offset),
        }
    }
}

fn type_of(record: &CredentialRecord) -> String {
    record
        .types
        .iter()
        .find(|t| *t != "VerifiableCredential")
        .cloned()
        .unwrap_or_default()
}

fn detail_href(id: &str) -> String {
    format!("/portal/credentials/{}", js_sys::encode_uri_component(id))
}

#[component]
pub fn Credentials() -> impl IntoView {
    let auth = use_auth();
    let draft = RwSignal::new(Filters::default());
    let filters = RwSignal::new(Filters::default());
    let page = LocalResource::new(move || {
        let search = filters.with(Filters::search);
        async move { api::search(search).await }
    });
    let types = LocalResource::new(api::credential_types);
    let selected = RwSignal::new(BTreeSet::<String>::new());
    let selected_ids =
        Signal::derive(move || selected.with(|s| s.iter().cloned().collect::<Vec<_>>()));
    let text_input = move |name: &'static str,
                           label: &'static str,
                           kind: &'static str,
                           get: fn(&Filters) -> String,
                           set: fn(&mut Filters, String)| {
        let id = format!("filter-{name}");
        view! {
            <div class="field">
                <label for=id.clone()>{label}</label>
                <input id=id.clone() data-testid=id type=kind
                    prop:value=move || draft.with(get)
                    on:input=move |ev| draft.update(|d| set(d, event_target_value(&ev)))/>
            </div>
        }
    };
    view! {
        <h1>"Credentials"</h1>
        <form class="filters" role="search" on:submit=move |ev| {
            ev.prevent_default();
            selected.set(BTreeSet::new());
            filters.set(Filters { offset: 0, ..draft.get_untracked() });
        }>
            {text_input("q", "Credential id contains", "search", |f| f.q.clone(), |f, v| f.q = v)}
            {text_input("claim", "A claim contains", "search", |f| f.claim.clone(), |f, v| f.claim = v)}
            {text_input("reference", "Person's reference", "search", |f| f.reference.clone(), |f, v| f.reference = v)}
            <div class="field">
                <label for="filter-type">"Type"</label>
                <select id="filter-type" data-testid="filter-type"
                    on:change=move |ev| draft.update(|d| d.credential_type = event_target_value(&ev))>
                    <option value="">"Any"</option>
                    {move || types.get().and_then(Result::ok).unwrap_or_default().into_iter()
                        .map(|t| view! { <option value=t.type_name.clone()>{t.title}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="filter-status">"Status"</label>
                <select id="filter-status" data-testid="filter-status"
                    on:change=move |ev| draft.update(|d| d.status = event_target_value(&ev))>
                    <option value="">"Any"</option>
                    <option value="active">"Active"</option>
                    <option value="suspended">"Suspended"</option>
                    <option value="revoked">"Revoked"</option>
                </select>
            </div>
            {text_input("from", "Issued from", "date", |f| f.from.clone(), |f, v| f.from = v)}
            {text_input("until", "Issued before", "date", |f| f.until.clone(), |f, v| f.until = v)}
            <button type="submit" data-testid="search">"Search"</button>
        </form>
        <Show when=move || auth.can_write()>
            <p class="hint">{move || format!("{} selected", selected.with(BTreeSet::len))}</p>
            <StatusActions ids=selected_ids done=Callback::new(move |_| { selected.set(BTreeSet::new()); page.refetch(); })/>
        </Show>
        <Suspense fallback=Loading>
            {move || page.get().map(|r| match r {
                Err(error) => view! { <ErrorNote error/> }.into_any(),
                Ok(page) if page.items.is_empty() => view! {
                    <p class="empty" data-testid="no-credentials">"No credential matches. Change the filters, or "
                        <A href="/portal/issue">"issue one"</A> "."</p>
                }.into_any(),
                Ok(page) => {
                    let offset = filters.with_untracked(|f| f.offset);
                    let shown = format!("{}–{} of {}", offset + 1, offset + page.items.len() as u64, page.total);
                    let more = offset + (page.items.len() as u64) < page.total;
                    view! {
                        <div class="scroll">
                            <table data-testid="credential-list">
                                <caption>{shown}</caption>
                                <thead><tr>
                                    <th scope="col"><span class="visually-hidden">"Select"</span></th>
                                    <th scope="col">"Credential"</th><th scope="col">"Type"</th><th scope="col">"Format"</th>
                                    <th scope="col">"Issued"</th><th scope="col">"Status"</th>
                                </tr></thead>
                                <tbody>
                                    {page.items.into_iter().map(|record| {
                                        let id = record.id.clone();
                                        let id_for_check = id.clone();
                                        let label = format!("Select {id}");
                                        let href = detail_href(&record.id);
                                        let kind = type_of(&record);
                                        let kind = type_title(&types.get().and_then(Result::ok).unwrap_or_default(), &kind);
                                        view! {
                                            <tr data-testid="credential-row">
                                                <td><input type="checkbox" aria-label=label data-testid="select-row"
                                                    prop:checked=move || selected.with(|s| s.contains(&id_for_check))
                                                    on:change=move |ev| {
                                                        let on = event_target_checked(&ev);
                                                        selected.update(|s| { if on { s.insert(id.clone()); } else { s.remove(&id); } });
                                                    }/></td>
                                                <td><A href=href><code>{record.id.clone()}</code></A></td>
                                                <td>{kind}</td>
                                                <td>{record.format.clone()}</td>
                                                <td>{local_time(&record.issued_at)}</td>
                                                <td><StatusBadge state=record.status/></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <div class="pager">
                            <button disabled=offset == 0 data-testid="page-previous"
                                on:click=move |_| filters.update(|f| f.offset = f.offset.saturating_sub(PAGE))>"Previous"</button>
                            <button disabled=!more data-testid="page-next"
                                on:click=move |_| filters.update(|f| f.offset += PAGE)>"Next"</button>
                        </div>
                    }.into_any()
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn CredentialDetail() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let resource = LocalResource::new(move || {
        let id = id();
        async move { api::credential(&id).await }
    });
    view! {
        <p><A href="/portal/credentials">"← All credentials"</A></p>
        <Suspense fallback=Loading>
            {move || resource.get().map(|r| match r {
                Ok(detail) => view! { <DetailView detail refresh=Callback::new(move |_| resource.refetch())/> }.into_any(),
                Err(error) => view! { <ErrorNote error testid="credential-error"/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn DetailView(detail: Detail, refresh: Callback<()>) -> impl IntoView {
    let auth = use_auth();
    let record = detail.record.clone();
    let ids = Signal::derive({
        let id = record.id.clone();
        move || vec![id.clone()]
    });
    view! {
        <h1>"Credential"</h1>
        <dl class="facts" data-testid="credential-facts">
            <dt>"Id"</dt><dd><code data-testid="credential-id">{record.id.clone()}</code></dd>
            <dt>"Type"</dt><dd>{type_of(&record)}</dd>
            <dt>"Issuer"</dt><dd><code class="wrap">{record.issuer.clone()}</code></dd>
            <dt>"Format"</dt><dd>{record.format.clone()}</dd>
            <dt>"Issued"</dt><dd>{local_time(&record.issued_at)} {record.issued_by.clone().map(|id| view! { " by " <Actor id name=record.issued_by_name.clone()/> })}</dd>
            <dt>"Status"</dt><dd data-testid="credential-status"><StatusBadge state=record.status/>
                {record.status_reason.map(|r| format!(" ({})", serde_json::to_value(r).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()))}</dd>
            <dt>"Commitment"</dt><dd><code class="wrap">{record.commitment.clone()}</code></dd>
        </dl>
        {(!detail.copies.is_empty()).then(|| view! {
            <p data-testid="credential-copies">
                {format!("One of {} copies a wallet received at once, each bound to another of its keys, so that verifiers cannot link its presentations. A status change applies to every copy. The others: ", detail.copies.len() + 1)}
                {detail.copies.clone().into_iter().map(|copy| view! {
                    " " <A href=format!("/portal/credentials/{}", js_sys::encode_uri_component(&copy))><code>{copy}</code></A>
                }).collect_view()}
            </p>
        })}
        {(record.status == CredentialState::Revoked).then(|| view! {
            <p class="hint">"Revocation is final: its status cannot change any more."</p>
        })}
        <Show when=move || auth.can_write() && record.status != CredentialState::Revoked>
            <StatusActions ids done=refresh/>
        </Show>
        <section aria-labelledby="anchor-title">
            <h2 id="anchor-title">"Anchor"</h2>
            {match detail.anchor.clone() {
                Some(anchor) => view! {
                    <p data-testid="anchor">"Sealed in block "
                        <A href=format!("/portal/chain?block={}", anchor.height)>{anchor.height}</A>
                        " of chain " <code>{anchor.chain_id}</code> " at " {local_time(&anchor.time)} "."</p>
                }.into_any(),
                None => view! { <p data-testid="anchor-pending">"Waiting for the next block (sealed within a second)."</p> }.into_any(),
            }}
            <Receipt id=record.id.clone()/>
        </section>
        <section aria-labelledby="history-title">
            <h2 id="history-title">"Status history and audit trail"</h2>
            <History entries=detail.history/>
        </section>
    }
}

/// The audit entries of a record.
#[component]
pub fn History(entries: Vec<AuditEntry>) -> impl IntoView {
    view! {
        <div class="scroll">
            <table data-testid="history">
                <thead><tr><th scope="col">"When"</th><th scope="col">"What"</th><th scope="col">"Who"</th><th scope="col">"Log position"</th></tr></thead>
                <tbody>
                    {entries.into_iter().map(|e| view! {
                        <tr data-testid="history-entry">
                            <td>{local_time(&e.at)}</td>
                            <td><code>{e.action}</code></td>
                            <td><Actor id=e.actor name=e.actor_name/></td>
                            <td>{e.position.map(|p| p.to_string()).unwrap_or_else(|| "waiting for a block".into())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Fetches the anchor receipt, shows it, checks it against the genesis, offers it.
#[component]
fn Receipt(id: String) -> impl IntoView {
    let fetch = Action::new_local(move |_: &()| {
        let id = id.clone();
        async move { api::receipt(&id).await }
    });
    let check = Action::new_local(|receipt: &Value| api::verify_receipt(receipt.clone()));
    view! {
        <button data-testid="open-receipt" on:click=move |_| { fetch.dispatch(()); }>"Open the anchor receipt"</button>
        {move || fetch.value().get().map(|r| match r {
            Err(error) => view! { <ErrorNote error/> }.into_any(),
            Ok(body) => {
                let text = serde_json::to_string_pretty(&body).unwrap_or_default();
                let receipt = body.clone();
                view! {
                    <div data-testid="receipt">
                        <p>{body["message"].as_str().map(str::to_owned)}</p>
                        <Download content=text.clone() file="receipt.json" mime="application/json" label="Download the receipt" testid="download-receipt"/>
                        " "
                        <button data-testid="verify-receipt" on:click=move |_| { check.dispatch(receipt.clone()); }>"Check it against the genesis"</button>
                        <details><summary>"The receipt"</summary><pre>{text}</pre></details>
                    </div>
                }.into_any()
            }
        })}
        <div aria-live="polite">
            {move || check.value().get().map(|r| match r {
                Err(error) => view! { <ErrorNote error/> }.into_any(),
                Ok(result) => view! { <ReceiptVerdict result/> }.into_any(),
            })}
        </div>
    }
}

/// The outcome of checking a receipt.
#[component]
pub fn ReceiptVerdict(result: certus_schemas::portal::ReceiptCheck) -> impl IntoView {
    match (result.valid, result.anchor) {
        (true, Some(anchor)) => view! {
            <p class="ok" data-testid="receipt-valid">{format!(
                "Valid: anchored in block {} ({}) of chain {} at {}.",
                anchor.height, &anchor.block[..16.min(anchor.block.len())], anchor.chain_id, local_time(&anchor.time)
            )}</p>
        }.into_any(),
        _ => view! {
            <p class="error" role="alert" data-testid="receipt-invalid">
                {format!("Not valid: {}", result.error.unwrap_or_default())}
            </p>
        }.into_any(),
    }
}
