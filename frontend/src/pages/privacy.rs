//! Privacy: data subjects' rights (find a person, download everything held about them,
//! erase them with an anchored receipt), retention per credential type, the records of
//! processing (Art. 30), and the minimisation lint of each credential type.

use certus_schemas::privacy::{
    DataSubjectInfo, DataSubjectSearch, ErasureInfo, RetentionReport, RetentionRule,
    RetentionSource,
};
use leptos::prelude::*;

use crate::api;
use crate::widgets::{local_time, ErrorNote, Loading};

#[component]
pub fn Privacy() -> impl IntoView {
    view! {
        <h1>"Privacy"</h1>
        <p class="hint">"Personal data is kept encrypted under each person's own key. Erasing a person destroys that key; their credentials' records (no personal data) stay, so revocation and status checks keep working."</p>
        <Subjects/>
        <Retention/>
        <Processing/>
        <Lint/>
    }
}

#[component]
fn Subjects() -> impl IntoView {
    let reference = RwSignal::new(String::new());
    let credential_id = RwSignal::new(String::new());
    let find = Action::new_local(move |_: &()| {
        let text = |s: RwSignal<String>| {
            Some(s.get_untracked().trim().to_owned()).filter(|t| !t.is_empty())
        };
        api::find_data_subjects(DataSubjectSearch {
            reference: text(reference),
            credential_id: text(credential_id),
        })
    });
    view! {
        <section aria-labelledby="subjects-title">
            <h2 id="subjects-title">"A person's data"</h2>
            <p class="hint">"Answer an access, portability or erasure request: find the person by your reference, or by a credential issued to them."</p>
            <form class="inline" on:submit=move |ev| { ev.prevent_default(); find.dispatch(()); }>
                <div class="field">
                    <label for="subject-search-reference">"Your reference"</label>
                    <input id="subject-search-reference" data-testid="subject-search-reference" autocomplete="off"
                        prop:value=reference on:input=move |ev| reference.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="subject-search-credential">"or a credential id"</label>
                    <input id="subject-search-credential" data-testid="subject-search-credential" autocomplete="off"
                        prop:value=credential_id on:input=move |ev| credential_id.set(event_target_value(&ev))/>
                </div>
                <button type="submit" data-testid="subject-search" disabled=move || find.pending().get()>"Find"</button>
            </form>
            <div aria-live="polite">
                {move || find.value().get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty" data-testid="subjects-empty">"No one found: nothing is held under this reference or credential."</p> }.into_any(),
                    Ok(list) => list.into_iter().map(|subject| view! { <Subject subject/> }).collect_view().into_any(),
                })}
            </div>
        </section>
    }
}

#[component]
fn Subject(subject: DataSubjectInfo) -> impl IntoView {
    let id = subject.id.clone();
    let export = api::export_url(&subject.id);
    let shown = RwSignal::new(subject);
    let confirming = RwSignal::new(false);
    let erase = Action::new_local(move |_: &()| {
        let id = id.clone();
        async move {
            let done = api::erase_data_subject(&id).await;
            if done.is_ok() {
                if let Ok(fresh) = api::data_subject(&id).await {
                    shown.set(fresh);
                }
            }
            done
        }
    });
    let erased = move || shown.with(|s| s.erased_at.clone());
    view! {
        <article class="card" data-testid="data-subject-card">
            <h3>"Data subject " <code>{move || shown.with(|s| s.id.clone())}</code></h3>
            <p>
                {move || shown.with(|s| format!(
                    "Known since {}. {} credential(s) issued with their data. ",
                    local_time(&s.created_at),
                    s.credentials.len()
                ))}
                {move || erased().map(|at| view! { <span class="badge revoked" data-testid="subject-erased">{format!("erased {}", local_time(&at))}</span> })}
            </p>
            <div class="scroll">
                <table data-testid="subject-records">
                    <thead><tr><th scope="col">"Record"</th><th scope="col">"Credential"</th><th scope="col">"Kept since"</th><th scope="col">"Kept until"</th><th scope="col">"Erased"</th></tr></thead>
                    <tbody>
                        {move || shown.get().records.into_iter().map(|r| view! {
                            <tr>
                                <td>{r.kind.as_str()}</td>
                                <td>{r.credential_type.unwrap_or_default()} " " <code class="wrap">{r.credential_id.unwrap_or_default()}</code></td>
                                <td>{local_time(&r.created_at)}</td>
                                <td>{r.retain_until.as_deref().map(local_time).unwrap_or_default()}</td>
                                <td>{r.erased_at.as_deref().map(local_time).unwrap_or_default()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <div class="buttons">
                <a class="button" href=export download="" data-testid="subject-export">"Download everything held (JSON)"</a>
                {move || erased().is_none().then(|| view! {
                    <button type="button" class="danger" data-testid="subject-erase"
                        disabled=move || erase.pending().get()
                        on:click=move |_| {
                            if confirming.get_untracked() { erase.dispatch(()); } else { confirming.set(true); }
                        }>
                        {move || if confirming.get() { "Erase for good: confirm" } else { "Erase this person…" }}
                    </button>
                })}
            </div>
            {move || (confirming.get() && erased().is_none()).then(|| view! {
                <p class="hint" data-testid="erase-warning">"Their key is destroyed: nothing of theirs can be read again, by anyone. Offers still waiting for them are withdrawn."</p>
            })}
            <div aria-live="polite">
                {move || erase.value().get().map(|r| match r {
                    Ok(info) => view! { <ErasureDone info/> }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                })}
            </div>
        </article>
    }
}

#[component]
fn ErasureDone(info: ErasureInfo) -> impl IntoView {
    view! {
        <div class="ok" data-testid="erasure-done">
            <p>{format!("Erased {} record(s). The signed receipt is anchored on the chain under ", info.records)}<code class="wrap">{info.commitment.clone()}</code>"."</p>
            <details>
                <summary>"Erasure receipt (give it to the person)"</summary>
                <pre class="wrap" data-testid="erasure-receipt">{info.receipt}</pre>
            </details>
        </div>
    }
}

#[component]
fn Retention() -> impl IntoView {
    let reports = LocalResource::new(api::retention);
    let sweep = Action::new_local(move |_: &()| async move {
        let swept = api::sweep_retention().await;
        reports.refetch();
        swept
    });
    view! {
        <section aria-labelledby="retention-title">
            <h2 id="retention-title">"Retention"</h2>
            <p class="hint">"Personal data is erased automatically once its credential type's period after issuance has passed; each erasure is signed and anchored."</p>
            <Suspense fallback=Loading>
                {move || reports.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(report) => view! {
                        <div class="scroll">
                            <table data-testid="retention-rules">
                                <thead><tr><th scope="col">"Credential type"</th><th scope="col">"Kept for"</th><th scope="col">"Held"</th><th scope="col">"Due"</th><th scope="col">"Erased"</th></tr></thead>
                                <tbody>{report.rules.into_iter().map(|rule| view! { <RuleRow rule reports/> }).collect_view()}</tbody>
                            </table>
                        </div>
                        <p>{format!("{} retention erasure(s) recorded.", report.erasures.len())}</p>
                    }.into_any(),
                })}
            </Suspense>
            <button type="button" data-testid="retention-sweep" disabled=move || sweep.pending().get()
                on:click=move |_| { sweep.dispatch(()); }>"Erase what is due now"</button>
            <span aria-live="polite" data-testid="retention-swept">
                {move || sweep.value().get().map(|r| match r {
                    Ok(s) => format!(" Erased {} record(s).", s.records),
                    Err(e) => format!(" {e}"),
                })}
            </span>
        </section>
    }
}

#[component]
fn RuleRow(
    rule: RetentionRule,
    reports: LocalResource<api::Result<RetentionReport>>,
) -> impl IntoView {
    let period = RwSignal::new(rule.period.clone());
    let credential_type = rule.credential_type.clone();
    let save = Action::new_local(move |_: &()| {
        let credential_type = credential_type.clone();
        let period = Some(period.get_untracked().trim().to_owned()).filter(|p| !p.is_empty());
        async move {
            let saved = api::set_retention(&credential_type, period).await;
            if saved.is_ok() {
                reports.refetch();
            }
            saved
        }
    });
    let id = format!("retention-{}", rule.credential_type);
    let source = match rule.source {
        RetentionSource::Schema => format!("the schema's ({})", rule.schema_period),
        RetentionSource::Institution => format!("yours (the default is {})", rule.schema_period),
        RetentionSource::Default => format!(
            "Certus's default for credentials of no registered type ({})",
            rule.schema_period
        ),
    };
    view! {
        <tr data-testid="retention-rule">
            <td>{rule.credential_type.clone()}</td>
            <td>
                <form class="inline" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
                    <label class="visually-hidden" for=id.clone()>{format!("Period for {}", rule.credential_type)}</label>
                    <input id=id.clone() data-testid=id size="8" title="ISO 8601 duration, e.g. P5Y, P18M, P30D; empty for the schema's"
                        prop:value=period on:input=move |ev| period.set(event_target_value(&ev))/>
                    <button type="submit" disabled=move || save.pending().get()>"Set"</button>
                </form>
                <small class="hint">{source}</small>
                {move || save.value().get().and_then(|r| r.err()).map(|error| view! { <ErrorNote error/> })}
            </td>
            <td>{rule.held}</td>
            <td>{rule.due}</td>
            <td>{rule.erased}</td>
        </tr>
    }
}

#[component]
fn Processing() -> impl IntoView {
    let records = LocalResource::new(api::records_of_processing);
    view! {
        <section aria-labelledby="ropa-title">
            <h2 id="ropa-title">"Records of processing (GDPR Art. 30)"</h2>
            <p class="hint">"Generated from the credential types you may issue and your verification policies."</p>
            <a href="/records-of-processing" download="records-of-processing.json">"Download (JSON)"</a>
            <Suspense fallback=Loading>
                {move || records.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(ropa) => view! {
                        <p>{format!("Controller: {} ({})", ropa.controller.name, ropa.controller.tenant)}</p>
                        <div class="scroll">
                            <table data-testid="processing-activities">
                                <thead><tr><th scope="col">"Activity"</th><th scope="col">"Purpose"</th><th scope="col">"Data subjects"</th><th scope="col">"Personal data"</th><th scope="col">"Retention"</th></tr></thead>
                                <tbody>{ropa.activities.into_iter().map(|a| view! {
                                    <tr>
                                        <td>{a.name}</td>
                                        <td>{a.purpose}</td>
                                        <td>{a.data_subjects}</td>
                                        <td>{a.personal_data.join(", ")}</td>
                                        <td>{a.retention}</td>
                                    </tr>
                                }).collect_view()}</tbody>
                            </table>
                        </div>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Lint() -> impl IntoView {
    let types = LocalResource::new(api::credential_types);
    view! {
        <section aria-labelledby="lint-title">
            <h2 id="lint-title">"Schema check: personal data"</h2>
            <Suspense fallback=Loading>
                {move || types.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(types) => view! {
                        <ul data-testid="schema-lint">
                            {types.into_iter().map(|t| view! {
                                <li>
                                    <strong>{t.title}</strong>
                                    {format!(" — personal claims: {}", if t.personal_claims.is_empty() { "none".to_owned() } else { t.personal_claims.join(", ") })}
                                    <ul>{t.lint.into_iter().map(|f| view! { <li class=format!("lint-{:?}", f.severity).to_lowercase()>{f.message}</li> }).collect_view()}</ul>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
