//! Issuing a batch from a CSV file: each schema claim mapped to a column, each row checked
//! with the form's rules, sent a few at a time with a progress bar, per-row errors, and a
//! result file to download.

use std::collections::BTreeMap;

use certus_schemas::privacy::DataSubjectOptions;
use certus_schemas::wire::CredentialTypeInfo;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::issue::{FormatPicker, TypePicker};
use crate::api;
use crate::schema_form::{check_all, credential, fields, subject};
use crate::widgets::{Download, ErrorNote, Loading};

/// Issuances in flight at once.
const CONCURRENCY: usize = 6;
/// A column with this header names each row's data subject by the institution's reference
/// (`options.dataSubject.reference`).
const REFERENCE_COLUMN: &str = "dataSubjectReference";

/// A parsed CSV file.
#[derive(Debug, Clone, Default, PartialEq)]
struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn parse(text: &str) -> Result<Table, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("the header line cannot be read: {e}"))?
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .enumerate()
        .map(|(i, r)| {
            r.map(|r| r.iter().map(str::to_owned).collect())
                .map_err(|e| format!("line {} cannot be read: {e}", i + 2))
        })
        .collect::<Result<Vec<Vec<String>>, String>>()?;
    if rows.is_empty() {
        return Err("the file has a header line but no rows".into());
    }
    Ok(Table { headers, rows })
}

/// What happened to one row.
#[derive(Debug, Clone, PartialEq)]
struct RowResult {
    /// 1 for the first row after the header.
    row: usize,
    outcome: Result<String, (String, String)>,
}

fn result_file(results: &[RowResult]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(["row", "status", "credentialId", "code", "message"]);
    for r in results {
        let row = r.row.to_string();
        let _ = match &r.outcome {
            Ok(id) => writer.write_record([row.as_str(), "issued", id, "", ""]),
            Err((code, message)) => {
                writer.write_record([row.as_str(), "failed", "", code, message])
            }
        };
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[component]
pub fn Batch() -> impl IntoView {
    let types = LocalResource::new(api::credential_types);
    view! {
        <h1>"Batch issue from a CSV file"</h1>
        <Suspense fallback=Loading>
            {move || types.get().map(|r| match r {
                Ok(list) => view! { <BatchForm types=list/> }.into_any(),
                Err(error) => view! { <ErrorNote error/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn BatchForm(types: Vec<CredentialTypeInfo>) -> impl IntoView {
    let chosen = RwSignal::new(None::<CredentialTypeInfo>);
    let format = RwSignal::new("ldp_vc".to_owned());
    let text = RwSignal::new(String::new());
    let table = Memo::new(move |_| text.with(|t| (!t.trim().is_empty()).then(|| parse(t))));
    let mapping = RwSignal::new(BTreeMap::<String, String>::new());
    let total = RwSignal::new(0usize);
    let results = RwSignal::new(Vec::<RowResult>::new());
    let running = RwSignal::new(false);
    // Claims are mapped to the columns of the same name, ignoring case.
    Effect::new(move |_| {
        let (Some(info), Some(Ok(table))) = (chosen.get(), table.get()) else {
            return;
        };
        mapping.set(
            fields(&info)
                .into_iter()
                .filter_map(|f| {
                    table
                        .headers
                        .iter()
                        .find(|h| h.eq_ignore_ascii_case(&f.name))
                        .map(|h| (f.name, h.clone()))
                })
                .collect(),
        );
    });
    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            leptos::task::spawn_local(async move {
                if let Ok(content) = wasm_bindgen_futures::JsFuture::from(file.text()).await {
                    text.set(content.as_string().unwrap_or_default());
                }
            });
        }
    };
    let start = move |_| {
        let (Some(info), Some(Ok(table))) = (chosen.get_untracked(), table.get_untracked()) else {
            return;
        };
        let claims = fields(&info);
        let map = mapping.get_untracked();
        let format = format.get_untracked();
        results.set(Vec::new());
        total.set(table.rows.len());
        running.set(true);
        leptos::task::spawn_local(async move {
            let reference_column = table.headers.iter().position(|h| h == REFERENCE_COLUMN);
            let rows: Vec<(usize, BTreeMap<String, String>, Option<String>)> = table
                .rows
                .iter()
                .enumerate()
                .map(|(i, row)| {
                    let values = map
                        .iter()
                        .filter_map(|(claim, column)| {
                            let index = table.headers.iter().position(|h| h == column)?;
                            Some((claim.clone(), row.get(index).cloned().unwrap_or_default()))
                        })
                        .collect();
                    let reference = reference_column
                        .and_then(|c| row.get(c))
                        .map(|r| r.trim().to_owned())
                        .filter(|r| !r.is_empty());
                    (i + 1, values, reference)
                })
                .collect();
            for chunk in rows.chunks(CONCURRENCY) {
                let jobs = chunk.iter().map(|(row, values, reference)| {
                    let data_subject = reference.clone().map(|reference| DataSubjectOptions {
                        reference: Some(reference),
                        ..Default::default()
                    });
                    let problems = check_all(&claims, values);
                    let body = credential(&info, subject(&claims, values));
                    let format = format.clone();
                    async move {
                        let outcome = if problems.is_empty() {
                            api::issue(body, format, data_subject)
                                .await
                                .map(|issued| issued.id)
                                .map_err(|e| (e.code, e.message))
                        } else {
                            Err((
                                "INVALID_ROW".to_owned(),
                                problems
                                    .iter()
                                    .map(|(claim, problem)| format!("{claim}: {problem}"))
                                    .collect::<Vec<_>>()
                                    .join(" "),
                            ))
                        };
                        RowResult { row: *row, outcome }
                    }
                });
                let done = futures::future::join_all(jobs).await;
                results.update(|r| r.extend(done));
            }
            running.set(false);
        });
    };
    let done = move || results.with(Vec::len);
    let percent = move || (done() * 100).checked_div(total.get()).unwrap_or(0);
    view! {
        <form on:submit=|ev| ev.prevent_default()>
            <TypePicker types chosen/>
            <FormatPicker format/>
            <div class="field">
                <label for="csv-file">"CSV file (first line: column names)"</label>
                <input id="csv-file" data-testid="csv-file" type="file" accept=".csv,text/csv" on:change=on_file/>
            </div>
            <details>
                <summary>"…or paste the CSV"</summary>
                <label for="csv-text">"CSV text"</label>
                <textarea id="csv-text" data-testid="csv-text" rows="6"
                    on:input=move |ev| text.set(event_target_value(&ev)) prop:value=text></textarea>
            </details>
            {move || table.get().map(|t| match t {
                Err(message) => view! { <p class="error" role="alert" data-testid="csv-error">{message}</p> }.into_any(),
                Ok(table) => view! {
                    <p data-testid="csv-summary">{format!("{} rows; columns: {}", table.rows.len(), table.headers.join(", "))}</p>
                    <p class="hint">{if table.headers.iter().any(|h| h == REFERENCE_COLUMN) {
                        format!("Each row's {REFERENCE_COLUMN} names its data subject: one person's credentials are exported and erased together.")
                    } else {
                        format!("Add a {REFERENCE_COLUMN} column (your customer or patient number) to group each person's credentials.")
                    }}</p>
                }.into_any(),
            })}
            {move || match (chosen.get(), table.get()) {
                (Some(info), Some(Ok(table))) => view! {
                    <fieldset>
                        <legend>"Map each claim to a column"</legend>
                        {fields(&info).into_iter().map(|f| {
                            let id = format!("map-{}", f.name);
                            let name = f.name.clone();
                            let name_for_value = name.clone();
                            view! {
                                <div class="field">
                                    <label for=id.clone()>{f.label.clone()} {f.required.then_some(" *")}</label>
                                    <select id=id.clone() data-testid=id
                                        prop:value=move || mapping.with(|m| m.get(&name_for_value).cloned().unwrap_or_default())
                                        on:change=move |ev| {
                                            let column = event_target_value(&ev);
                                            mapping.update(|m| {
                                                if column.is_empty() { m.remove(&name); } else { m.insert(name.clone(), column); }
                                            });
                                        }>
                                        <option value="">"(not mapped)"</option>
                                        {table.headers.iter().map(|h| view! { <option value=h.clone()>{h.clone()}</option> }).collect_view()}
                                    </select>
                                </div>
                            }
                        }).collect_view()}
                    </fieldset>
                    <button type="button" data-testid="batch-start" disabled=move || running.get() on:click=start>
                        {format!("Issue {} credentials", table.rows.len())}
                    </button>
                }.into_any(),
                _ => ().into_any(),
            }}
        </form>
        <Show when=move || { total.get() > 0 }>
            <section aria-labelledby="progress-title">
                <h2 id="progress-title">"Progress"</h2>
                <progress data-testid="batch-progress" aria-labelledby="progress-title"
                    max=move || total.get() value=done></progress>
                <p data-testid="batch-percent" aria-live="polite">
                    {move || format!("{} of {} rows — {}%", done(), total.get(), percent())}
                </p>
                {move || (!running.get()).then(|| {
                    let all = results.get();
                    let failed: Vec<RowResult> = all.iter().filter(|r| r.outcome.is_err()).cloned().collect();
                    let issued = all.len() - failed.len();
                    view! {
                        <p data-testid="batch-summary">{format!("Issued {issued}, failed {}.", failed.len())}</p>
                        <Download content=result_file(&all) file="batch-result.csv" mime="text/csv"
                            label="Download the result file" testid="batch-result"/>
                        {(!failed.is_empty()).then(|| view! {
                            <table data-testid="batch-errors">
                                <caption>"Rows that failed"</caption>
                                <thead><tr><th scope="col">"Row"</th><th scope="col">"Code"</th><th scope="col">"Message"</th></tr></thead>
                                <tbody>
                                    {failed.into_iter().map(|r| {
                                        let (code, message) = r.outcome.err().unwrap_or_default();
                                        view! { <tr><td>{r.row}</td><td><code>{code}</code></td><td>{message}</td></tr> }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        })}
                    }
                })}
            </section>
        </Show>
    }
}
