//! The chain explorer: blocks newest first, one block's transactions, and checking any
//! anchor receipt against this chain's genesis.

use std::collections::BTreeMap;

use certus_schemas::portal::BlockSummary;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde_json::Value;

use super::credentials::ReceiptVerdict;
use crate::api;
use crate::charts::{BarChart, Point};
use crate::widgets::{local_date_time, local_time, ErrorNote, Loading, OlderPager};

#[component]
pub fn Chain() -> impl IntoView {
    let query = use_query_map();
    let before = RwSignal::new(None::<u64>);
    let blocks = LocalResource::new(move || {
        let before = before.get();
        async move { api::blocks(before).await }
    });
    let open =
        RwSignal::new(query.with_untracked(|q| q.get("block").and_then(|b| b.parse::<u64>().ok())));
    let block = LocalResource::new(move || {
        let height = open.get();
        async move {
            match height {
                Some(h) => api::block(h).await.map(Some),
                None => Ok(None),
            }
        }
    });
    view! {
        <h1>"Chain explorer"</h1>
        <div class="columns">
            <section aria-labelledby="blocks-title">
                <h2 id="blocks-title">"Blocks"</h2>
                <Suspense fallback=Loading>
                    {move || blocks.get().map(|r| match r {
                        Err(error) => view! { <ErrorNote error/> }.into_any(),
                        Ok(list) => view! { <BlockList list open before/> }.into_any(),
                    })}
                </Suspense>
            </section>
            <section aria-labelledby="block-title">
                <h2 id="block-title">{move || open.get().map(|h| format!("Block {h}")).unwrap_or_else(|| "Block".into())}</h2>
                <Suspense fallback=Loading>
                    {move || block.get().map(|r| match r {
                        Err(error) => view! { <ErrorNote error/> }.into_any(),
                        Ok(None) => view! { <p class="empty">"Choose a block to see its transactions."</p> }.into_any(),
                        Ok(Some(block)) => view! { <BlockView block/> }.into_any(),
                    })}
                </Suspense>
            </section>
        </div>
        <Validators/>
        <CheckReceipt/>
    }
}

/// A validator key as people read it: its first 16 hex digits.
fn short_key(key: &str) -> String {
    format!("{}…", &key[..16.min(key.len())])
}

#[component]
fn Validators() -> impl IntoView {
    let validators = LocalResource::new(api::validators);
    view! {
        <section aria-labelledby="validators-title">
            <h2 id="validators-title">"Validators"</h2>
            <Suspense fallback=Loading>
                {move || validators.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(set) => {
                        let quorum = set["quorum"].as_u64().unwrap_or_default();
                        let rows = set["validators"].as_array().cloned().unwrap_or_default();
                        let total = rows.len();
                        let epoch = set["epoch"].as_u64().unwrap_or_default();
                        let since = set["sinceHeight"].as_u64().unwrap_or(1);
                        let changed = (epoch > 0).then(|| format!(
                            " The validators changed {epoch} time(s) since the genesis; these sign from block {since} on."
                        ));
                        view! {
                            <p>{format!("A block is final with the signatures of {quorum} of the {total} validator(s).")}{changed}</p>
                            <div class="scroll"><table data-testid="validators">
                                <thead><tr><th scope="col">"Member"</th><th scope="col">"Key"</th><th scope="col">"Newest block signed"</th><th scope="col">"Node"</th></tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|v| view! {
                                        <tr>
                                            <td>{v["name"].as_str().unwrap_or("—").to_owned()}</td>
                                            <td><code>{short_key(v["key"].as_str().unwrap_or_default())}</code></td>
                                            <td>{v["lastSignedHeight"].as_u64().map_or_else(|| "none lately".to_owned(), |h| h.to_string())}</td>
                                            <td>{if v["thisNode"] == true { "this node" } else { "" }}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table></div>
                        }.into_any()
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn BlockList(
    list: Vec<BlockSummary>,
    open: RwSignal<Option<u64>>,
    before: RwSignal<Option<u64>>,
) -> impl IntoView {
    let oldest = list.last().map(|b| b.height);
    view! {
        <div class="scroll">
            <table data-testid="blocks">
                <thead><tr><th scope="col">"Height"</th><th scope="col">"Sealed"</th><th scope="col">"Transactions"</th><th scope="col">"Hash"</th></tr></thead>
                <tbody>
                    {list.into_iter().map(|b| {
                        let height = b.height;
                        view! {
                            <tr>
                                <td><button class="link" data-testid=format!("block-{height}") on:click=move |_| open.set(Some(height))>{height}</button></td>
                                <td>{local_time(&b.time)}</td>
                                <td>{b.tx_count}</td>
                                <td><code>{b.hash[..16.min(b.hash.len())].to_owned()} "…"</code></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <OlderPager before oldest/>
    }
}

/// A transaction kind as people read it, plural, by its wire `type`.
fn kind_label(kind: &str) -> &str {
    match kind {
        "credentialAnchor" => "Credentials anchored",
        "auditCheckpoint" => "Audit checkpoints",
        "statusListVersion" => "Status list versions",
        "didOperation" => "DID operations",
        "trustStatement" => "Trust statements",
        "schemaRegistration" => "Schemas registered",
        "erasureReceipt" => "Erasure receipts",
        "relianceRecord" => "KYC reliances",
        "nodeAuditCheckpoint" => "Node audit checkpoints",
        "validatorChange" => "Validator changes",
        "relianceNotice" => "Reliance notices",
        other => other,
    }
}

/// When a block was sealed, in the reader's words.
fn sealed_at(block: &Value) -> Option<String> {
    let ms = block["header"]["timeMs"].as_i64()?;
    local_date_time(&Value::from(ms as f64 / 1000.0))
}

/// One block: its transactions counted by kind (a chart and a table), who signed it (by
/// member name, from the validator set), and each transaction.
#[component]
fn BlockView(block: Value) -> impl IntoView {
    let transactions = block["transactions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
    for tx in &transactions {
        let kind = tx["type"].as_str().unwrap_or("unknown").to_owned();
        *by_kind.entry(kind).or_default() += 1;
    }
    let points: Vec<Point> = by_kind
        .iter()
        .map(|(kind, n)| Point {
            key: kind.clone(),
            label: kind_label(kind).to_owned(),
            value: *n,
        })
        .collect();
    let signer_keys: Vec<String> = block["signatures"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["validator"].as_str().map(str::to_owned))
        .collect();
    let validators = LocalResource::new(api::validators);
    let signers = move || {
        let set = validators.get().and_then(Result::ok);
        signer_keys
            .iter()
            .map(|key| {
                let name = set.as_ref().and_then(|set| {
                    set["validators"]
                        .as_array()?
                        .iter()
                        .find(|v| v["key"].as_str() == Some(key))
                        .and_then(|v| v["name"].as_str())
                        .map(str::to_owned)
                });
                view! {
                    <li>{name.map(|n| view! { <strong>{n}</strong> " " })}<code>{short_key(key)}</code></li>
                }
            })
            .collect_view()
    };
    let count = transactions.len();
    let signed = block["signatures"].as_array().map_or(0, Vec::len);
    let text = serde_json::to_string_pretty(&block).unwrap_or_default();
    view! {
        <div data-testid="block">
            <p>{format!("{count} transaction(s), sealed {}", sealed_at(&block).unwrap_or_default())}</p>
            <p data-testid="block-signers">"Signed by " {signed} ":"</p>
            <ul class="signers" data-testid="block-signer-list">{signers}</ul>
            {(!points.is_empty()).then(|| view! {
                <BarChart title="Transactions by kind".to_owned() points=points.clone() colour=(31, 95, 191) testid="block-kinds"/>
                <div class="scroll"><table data-testid="block-kind-table">
                    <thead><tr><th scope="col">"Kind"</th><th scope="col">"Transactions"</th></tr></thead>
                    <tbody>
                        {points.into_iter().map(|p| view! { <tr data-key=p.key><td>{p.label}</td><td>{p.value}</td></tr> }).collect_view()}
                    </tbody>
                </table></div>
            })}
            <details>
                <summary>"Each transaction"</summary>
                <ol class="transactions">
                    {transactions.into_iter().map(|tx| {
                        let kind = kind_label(tx["type"].as_str().unwrap_or("unknown")).to_owned();
                        view! { <li><strong>{kind}</strong> " " <code class="wrap">{tx.to_string()}</code></li> }
                    }).collect_view()}
                </ol>
            </details>
            <details><summary>"The block as JSON"</summary><pre>{text}</pre></details>
        </div>
    }
}

#[component]
fn CheckReceipt() -> impl IntoView {
    let (text, set_text) = signal(String::new());
    let check = Action::new_local(|text: &String| {
        let parsed = serde_json::from_str::<Value>(text);
        async move {
            let receipt = parsed.map_err(|e| api::ApiError {
                status: 0,
                code: "MALFORMED_JSON".into(),
                message: format!("the receipt is not JSON: {e}"),
                path: None,
            })?;
            api::verify_receipt(receipt).await
        }
    });
    view! {
        <section aria-labelledby="check-title">
            <h2 id="check-title">"Check a receipt"</h2>
            <label for="receipt-input">"Receipt (JSON, as downloaded from a credential)"</label>
            <textarea id="receipt-input" data-testid="receipt-input" rows="6"
                on:input=move |ev| set_text.set(event_target_value(&ev)) prop:value=text></textarea>
            <button data-testid="check-receipt" disabled=move || text.with(|t| t.trim().is_empty())
                on:click=move |_| { check.dispatch(text.get_untracked()); }>"Check"</button>
            <div aria-live="polite">
                {move || check.value().get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(result) => view! { <ReceiptVerdict result/> }.into_any(),
                })}
            </div>
        </section>
    }
}
