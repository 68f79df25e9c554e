//! Issuing a batch from a CSV file: a template to fill in; each schema claim mapped to the
//! column of its name or its label; a dry run that checks every row with the form's rules
//! before anything is issued (a batch with a problem is refused whole); then the rows sent a
//! few at a time with a progress bar, each delivered as a file or as an offer to the
//! holder's wallet (link, QR code and transaction code), and a result file to download.

use std::collections::BTreeMap;

use certus_schemas::openid::OfferFlow;
use certus_schemas::privacy::DataSubjectOptions;
use certus_schemas::wire::CredentialTypeInfo;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::issue::{FormatPicker, TypePicker};
use crate::api;
use crate::schema_form::{check_all, credential, fields, subject, Field};
use crate::widgets::{radio, Download, ErrorNote, Loading};

/// Issuances in flight at once.
const CONCURRENCY: usize = 6;
/// A column with this header (or [`REFERENCE_LABEL`]) names each row's data subject by the
/// institution's reference (`options.dataSubject.reference`).
const REFERENCE_COLUMN: &str = "dataSubjectReference";
const REFERENCE_LABEL: &str = "Person's reference";

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

/// A header as compared with claim names and labels: letters and digits, lower case
/// ("Given name", "given_name" and "givenName" are one).
fn folded(header: &str) -> String {
    header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The column a claim is read from: the one named like the claim or like its label.
fn column_for<'t>(headers: &'t [String], name: &str, label: &str) -> Option<&'t String> {
    let (name, label) = (folded(name), folded(label));
    headers.iter().find(|h| {
        let h = folded(h);
        h == name || h == label
    })
}

/// A CSV to fill in: the claims' labels as the header (required ones first), the person's
/// reference last, and the schema's example as the first row when it has one.
fn template(info: &CredentialTypeInfo) -> String {
    let claims: Vec<Field> = fields(info)
        .into_iter()
        .filter(|f| f.name != "id")
        .collect();
    let example = &info.schema["examples"][0];
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = claims
        .iter()
        .map(|f| f.label.as_str())
        .chain([REFERENCE_LABEL])
        .collect();
    let _ = writer.write_record(&header);
    if example.is_object() {
        let row: Vec<String> = claims
            .iter()
            .map(|f| match &example[&f.name] {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .chain([String::new()])
            .collect();
        let _ = writer.write_record(&row);
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// One row read for issuing: its number (1 for the first after the header), its claim
/// values by claim name, and the person's reference.
type ReadRow = (usize, BTreeMap<String, String>, Option<String>);

/// The rows of `table` read through `mapping` (claim name → column header).
fn read_rows(table: &Table, mapping: &BTreeMap<String, String>) -> Vec<ReadRow> {
    let reference_column = table.headers.iter().position(|h| {
        column_for(std::slice::from_ref(h), REFERENCE_COLUMN, REFERENCE_LABEL).is_some()
    });
    table
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let values = mapping
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
        .collect()
}

/// What the dry run found: required claims with no column (the batch cannot be issued at
/// all), and each row's problems.
#[derive(Debug, Clone, Default, PartialEq)]
struct DryRun {
    rows: usize,
    unmapped: Vec<String>,
    problems: Vec<(usize, String)>,
}

impl DryRun {
    fn of(claims: &[Field], mapping: &BTreeMap<String, String>, rows: &[ReadRow]) -> Self {
        let unmapped = claims
            .iter()
            .filter(|f| f.required && !mapping.contains_key(&f.name))
            .map(|f| f.label.clone())
            .collect();
        let problems = rows
            .iter()
            .filter_map(|(row, values, _)| {
                let problems = check_all(claims, values);
                (!problems.is_empty()).then(|| {
                    let said = problems
                        .iter()
                        .map(|(claim, problem)| {
                            let label = claims
                                .iter()
                                .find(|f| &f.name == claim)
                                .map_or(claim.as_str(), |f| f.label.as_str());
                            format!("{label}: {problem}")
                        })
                        .collect::<Vec<_>>()
                        .join("; ");
                    (*row, said)
                })
            })
            .collect();
        Self {
            rows: rows.len(),
            unmapped,
            problems,
        }
    }

    fn passed(&self) -> bool {
        self.unmapped.is_empty() && self.problems.is_empty()
    }
}

/// How issued credentials reach their holders.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Delivery {
    /// Each credential in the result file, to send on.
    File,
    /// An offer per row: the holder's wallet takes it by link or QR code, with a
    /// transaction code sent by another channel.
    Offer,
}

/// What happened to one row.
#[derive(Debug, Clone, PartialEq)]
struct RowResult {
    row: usize,
    outcome: Result<Delivered, (String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Delivered {
    Credential {
        id: String,
        text: String,
    },
    Offer {
        link: String,
        qr: String,
        tx_code: String,
    },
}

fn result_file(results: &[RowResult]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record([
        "row",
        "status",
        "credentialId",
        "credential",
        "offerLink",
        "transactionCode",
        "code",
        "message",
    ]);
    for r in results {
        let row = r.row.to_string();
        let _ = match &r.outcome {
            Ok(Delivered::Credential { id, text }) => {
                writer.write_record([row.as_str(), "issued", id, text, "", "", "", ""])
            }
            Ok(Delivered::Offer { link, tx_code, .. }) => {
                writer.write_record([row.as_str(), "offered", "", "", link, tx_code, "", ""])
            }
            Err((code, message)) => {
                writer.write_record([row.as_str(), "failed", "", "", "", "", code, message])
            }
        };
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Issues or offers one row.
async fn deliver(
    info: &CredentialTypeInfo,
    claims: &[Field],
    (row, values, reference): &ReadRow,
    format: String,
    delivery: Delivery,
) -> RowResult {
    let data_subject = reference.clone().map(|reference| DataSubjectOptions {
        reference: Some(reference),
        ..Default::default()
    });
    let body = credential(info, subject(claims, values));
    let outcome = match delivery {
        Delivery::File => api::issue(body, format, data_subject).await.map(|issued| {
            let text = match issued.credential {
                serde_json::Value::String(token) => token,
                other => other.to_string(),
            };
            Delivered::Credential {
                id: issued.id,
                text,
            }
        }),
        Delivery::Offer => api::create_offer(
            body,
            format,
            data_subject,
            true,
            OfferFlow::PreAuthorized,
            false,
        )
        .await
        .map(|offer| Delivered::Offer {
            link: offer.offer_uri,
            qr: offer.qr_code,
            tx_code: offer.tx_code.unwrap_or_default(),
        }),
    };
    RowResult {
        row: *row,
        outcome: outcome.map_err(|e| (e.code, e.message)),
    }
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
    let delivery = RwSignal::new(Delivery::File);
    let text = RwSignal::new(String::new());
    let table = Memo::new(move |_| text.with(|t| (!t.trim().is_empty()).then(|| parse(t))));
    let mapping = RwSignal::new(BTreeMap::<String, String>::new());
    let dry_run = RwSignal::new(None::<DryRun>);
    let total = RwSignal::new(0usize);
    let results = RwSignal::new(Vec::<RowResult>::new());
    let running = RwSignal::new(false);
    // Claims are mapped to the columns of their name or label, ignoring case and spacing.
    Effect::new(move |_| {
        let (Some(info), Some(Ok(table))) = (chosen.get(), table.get()) else {
            return;
        };
        mapping.set(
            fields(&info)
                .into_iter()
                .filter_map(|f| {
                    column_for(&table.headers, &f.name, &f.label).map(|h| (f.name, h.clone()))
                })
                .collect(),
        );
    });
    // Any change to the type, the file or the mapping asks for a new dry run.
    Effect::new(move |_| {
        chosen.track();
        table.track();
        mapping.track();
        dry_run.set(None);
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
    let check = move |_| {
        let (Some(info), Some(Ok(table))) = (chosen.get_untracked(), table.get_untracked()) else {
            return;
        };
        let rows = read_rows(&table, &mapping.get_untracked());
        dry_run.set(Some(DryRun::of(
            &fields(&info),
            &mapping.get_untracked(),
            &rows,
        )));
    };
    let start = move |_| {
        let (Some(info), Some(Ok(table))) = (chosen.get_untracked(), table.get_untracked()) else {
            return;
        };
        if !dry_run.with_untracked(|d| d.as_ref().is_some_and(DryRun::passed)) {
            return;
        }
        let claims = fields(&info);
        let rows = read_rows(&table, &mapping.get_untracked());
        let (format, delivery) = (format.get_untracked(), delivery.get_untracked());
        results.set(Vec::new());
        total.set(rows.len());
        running.set(true);
        leptos::task::spawn_local(async move {
            for chunk in rows.chunks(CONCURRENCY) {
                let jobs = chunk
                    .iter()
                    .map(|row| deliver(&info, &claims, row, format.clone(), delivery));
                let done = futures::future::join_all(jobs).await;
                results.update(|r| r.extend(done));
            }
            running.set(false);
        });
    };
    let done = move || results.with(Vec::len);
    let percent = move || (done() * 100).checked_div(total.get()).unwrap_or(0);
    let ready = move || dry_run.with(|d| d.as_ref().is_some_and(DryRun::passed));
    view! {
        <form on:submit=|ev| ev.prevent_default()>
            <TypePicker types chosen/>
            {move || chosen.get().map(|info| view! {
                <p><Download content=template(&info) file=format!("{}-template.csv", info.type_name) mime="text/csv"
                    label="Download a template to fill in" testid="batch-template"/></p>
            })}
            <FormatPicker format/>
            <fieldset class="formats">
                <legend>"Deliver each credential"</legend>
                {radio(delivery, Delivery::File, "delivery", "deliver-file", "in the result file, to send on")}
                {radio(delivery, Delivery::Offer, "delivery", "deliver-offer",
                    "as an offer to the holder's wallet: a link and a QR code per row, with a transaction code")}
            </fieldset>
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
                Ok(table) => {
                    let has_reference = table.headers.iter()
                        .any(|h| column_for(std::slice::from_ref(h), REFERENCE_COLUMN, REFERENCE_LABEL).is_some());
                    view! {
                        <p data-testid="csv-summary">{format!("{} rows; columns: {}", table.rows.len(), table.headers.join(", "))}</p>
                        <p class="hint">{if has_reference {
                            "Each row's person's reference names its data subject: one person's credentials are exported and erased together.".to_owned()
                        } else {
                            format!("Add a “{REFERENCE_LABEL}” column (your customer or patient number) to group each person's credentials.")
                        }}</p>
                    }.into_any()
                }
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
                    <div class="buttons">
                        <button type="button" data-testid="batch-check" disabled=move || running.get() on:click=check>
                            {format!("Check all {} rows", table.rows.len())}
                        </button>
                        <button type="button" data-testid="batch-start" disabled=move || running.get() || !ready() on:click=start>
                            {move || match delivery.get() {
                                Delivery::File => format!("Issue {} credentials", table.rows.len()),
                                Delivery::Offer => format!("Offer {} credentials", table.rows.len()),
                            }}
                        </button>
                    </div>
                    <p class="hint">"Nothing is issued until every row passes the check."</p>
                }.into_any(),
                _ => ().into_any(),
            }}
        </form>
        {move || dry_run.get().map(|run| view! { <DryRunReport run/> })}
        <Show when=move || { total.get() > 0 }>
            <section aria-labelledby="progress-title">
                <h2 id="progress-title">"Progress"</h2>
                <progress data-testid="batch-progress" aria-labelledby="progress-title"
                    max=move || total.get() value=done></progress>
                <p data-testid="batch-percent" aria-live="polite">
                    {move || format!("{} of {} rows — {}%", done(), total.get(), percent())}
                </p>
                {move || (!running.get()).then(|| view! { <Outcome results=results.get()/> })}
            </section>
        </Show>
    }
}

/// The dry run's verdict: ready, or refused whole with every problem listed.
#[component]
fn DryRunReport(run: DryRun) -> impl IntoView {
    let passed = run.passed();
    view! {
        <section aria-labelledby="check-title" data-testid="batch-dry-run">
            <h2 id="check-title">"Check"</h2>
            {if passed {
                view! { <p class="ok" role="status" data-testid="batch-ready">{format!("All {} rows are ready to issue.", run.rows)}</p> }.into_any()
            } else {
                view! {
                    <p class="error" role="alert" data-testid="batch-refused">
                        "Nothing was issued: fix the file (or the mapping) and check again."
                    </p>
                    {(!run.unmapped.is_empty()).then(|| view! {
                        <p class="error" data-testid="batch-unmapped">{format!("Required claims with no column: {}.", run.unmapped.join(", "))}</p>
                    })}
                    {(!run.problems.is_empty()).then(|| view! {
                        <div class="scroll">
                            <table data-testid="batch-problems">
                                <caption>{format!("{} of {} rows have problems", run.problems.len(), run.rows)}</caption>
                                <thead><tr><th scope="col">"Row"</th><th scope="col">"Problem"</th></tr></thead>
                                <tbody>
                                    {run.problems.into_iter().map(|(row, said)| view! { <tr><td>{row}</td><td>{said}</td></tr> }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    })}
                }.into_any()
            }}
        </section>
    }
}

/// What the batch did: counts, the result file, the offers to hand out, and the rows the
/// server refused.
#[component]
fn Outcome(results: Vec<RowResult>) -> impl IntoView {
    let failed: Vec<RowResult> = results
        .iter()
        .filter(|r| r.outcome.is_err())
        .cloned()
        .collect();
    let offers: Vec<(usize, String, String, String)> = results
        .iter()
        .filter_map(|r| match &r.outcome {
            Ok(Delivered::Offer { link, qr, tx_code }) => {
                Some((r.row, link.clone(), qr.clone(), tx_code.clone()))
            }
            _ => None,
        })
        .collect();
    let succeeded = results.len() - failed.len();
    let verb = if offers.is_empty() {
        "Issued"
    } else {
        "Offered"
    };
    view! {
        <p data-testid="batch-summary">{format!("{verb} {succeeded}, failed {}.", failed.len())}</p>
        <Download content=result_file(&results) file="batch-result.csv" mime="text/csv"
            label="Download the result file" testid="batch-result"/>
        {(!offers.is_empty()).then(|| view! {
            <div class="scroll">
                <table data-testid="batch-offers">
                    <caption>"Offers to hand to each holder: the QR code or the link, and the transaction code by another channel"</caption>
                    <thead><tr><th scope="col">"Row"</th><th scope="col">"QR code"</th><th scope="col">"Link"</th><th scope="col">"Transaction code"</th></tr></thead>
                    <tbody>
                        {offers.into_iter().map(|(row, link, qr, tx_code)| view! {
                            <tr data-testid="batch-offer">
                                <td>{row}</td>
                                <td><img class="qr-small" src=qr alt=format!("QR code of row {row}'s offer") width="96" height="96" loading="lazy"/></td>
                                <td><code class="wrap">{link}</code></td>
                                <td><strong>{tx_code}</strong></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        })}
        {(!failed.is_empty()).then(|| view! {
            <table data-testid="batch-errors">
                <caption>"Rows the server refused"</caption>
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
}
