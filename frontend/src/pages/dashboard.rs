//! The dashboard: the institution's figures, its work over time (issuance, status changes
//! and verifications by day or by week), and the chain's latest blocks.

use certus_schemas::portal::{Dashboard as Figures, DayActivity};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::charts::{BarChart, Point};
use crate::pages::offer::AwaitingApproval;
use crate::schema_form::type_title;
use crate::use_auth;
use crate::widgets::{language, local_time, radio, ErrorNote, Loading};

/// Days shown by day.
const DAILY: usize = 30;

/// How the activity is grouped.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Period {
    Day,
    Week,
}

/// `2026-12-06` as the reader writes a short date ("6 Dec", "06/12").
fn short_day(day: &str) -> String {
    let date = js_sys::Date::new(&format!("{day}T00:00:00Z").into());
    let options = js_sys::Object::new();
    for (key, value) in [("day", "numeric"), ("month", "short"), ("timeZone", "UTC")] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    date.to_locale_date_string(&language(), &options).into()
}

/// One measure of the activity, by day (the last [`DAILY`] days) or by week (the days in
/// sevens, each week keyed by its first day).
fn points(
    activity: &[DayActivity],
    period: Period,
    measure: fn(&DayActivity) -> u64,
) -> Vec<Point> {
    let point = |days: &[DayActivity], label: String| Point {
        key: days.first().map(|d| d.day.clone()).unwrap_or_default(),
        label,
        value: days.iter().map(measure).sum(),
    };
    match period {
        Period::Day => activity[activity.len().saturating_sub(DAILY)..]
            .chunks(1)
            .map(|day| point(day, short_day(&day[0].day)))
            .collect(),
        Period::Week => activity
            .rchunks(7)
            .rev()
            .map(|week| point(week, short_day(&week[0].day)))
            .collect(),
    }
}

/// A chart's title, test id, colour and measure.
type Series = (
    &'static str,
    &'static str,
    (u8, u8, u8),
    fn(&DayActivity) -> u64,
);

/// Issuance, status changes and verifications over time, by day or by week.
#[component]
fn Activity(activity: Vec<DayActivity>) -> impl IntoView {
    let period = RwSignal::new(Period::Day);
    view! {
        <section aria-labelledby="activity-title">
            <h2 id="activity-title">"Activity"</h2>
            <fieldset class="formats inline">
                <legend class="visually-hidden">"Group by"</legend>
                {radio(period, Period::Day, "period", "period-day", "Last 30 days, by day")}
                {radio(period, Period::Week, "period", "period-week", "Last 12 weeks, by week")}
            </fieldset>
            {move || {
                let period = period.get();
                let series: [Series; 3] = [
                    ("Credentials issued", "chart-issued", (31, 95, 191), |d| d.issued),
                    ("Status changes (revoked, suspended, reinstated)", "chart-status", (198, 40, 40), |d| d.status_changes),
                    ("Verifications of your presentation requests", "chart-verifications", (26, 127, 55), |d| d.verifications),
                ];
                view! {
                    <div class="charts">
                        {series.into_iter().map(|(title, testid, colour, measure)| view! {
                            <BarChart title=title.to_owned() points=points(&activity, period, measure) colour testid/>
                        }).collect_view()}
                    </div>
                }
            }}
        </section>
    }
}

#[component]
pub fn Dashboard() -> impl IntoView {
    let figures = LocalResource::new(api::dashboard);
    let auth = use_auth();
    view! {
        <h1>"Dashboard"</h1>
        <Show when=move || auth.can_write()>
            <AwaitingApproval/>
        </Show>
        <Suspense fallback=Loading>
            {move || figures.get().map(|r| match r {
                Ok(figures) => view! { <FiguresView figures/> }.into_any(),
                Err(error) => view! { <ErrorNote error/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn FiguresView(figures: Figures) -> impl IntoView {
    let stat = |label: &'static str, testid: &'static str, n: u64| {
        view! {
            <div class="stat" data-testid=testid><span class="n">{n}</span><span class="label">{label}</span></div>
        }
    };
    let empty = figures.issued == 0;
    let catalog = LocalResource::new(api::credential_types);
    view! {
        <section class="stats" aria-label="Figures">
            {stat("issued", "stat-issued", figures.issued)}
            {stat("active", "stat-active", figures.active)}
            {stat("suspended", "stat-suspended", figures.suspended)}
            {stat("revoked", "stat-revoked", figures.revoked)}
            {stat("waiting for a block", "stat-pending", figures.pending_anchors)}
        </section>
        {empty.then(|| view! {
            <p class="empty">"No credential issued yet. " <A href="/portal/issue">"Issue the first one"</A> "."</p>
        })}
        <Activity activity=figures.activity/>
        <div class="columns">
            <section aria-labelledby="by-type-title">
                <h2 id="by-type-title">"By type"</h2>
                <table>
                    <thead><tr><th scope="col">"Type"</th><th scope="col">"Issued"</th></tr></thead>
                    <tbody>
                        {figures.by_type.into_iter().map(|t| {
                            let name = t.type_name.clone();
                            let title = move || type_title(&catalog.get().and_then(Result::ok).unwrap_or_default(), &name);
                            view! { <tr><td>{title}</td><td>{t.count}</td></tr> }
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
            <section aria-labelledby="blocks-title">
                <h2 id="blocks-title">"Latest blocks"</h2>
                <table data-testid="latest-blocks">
                    <thead><tr><th scope="col">"Height"</th><th scope="col">"Sealed"</th><th scope="col">"Transactions"</th></tr></thead>
                    <tbody>
                        {figures.latest_blocks.into_iter().map(|b| view! {
                            <tr>
                                <td><A href=format!("/portal/chain?block={}", b.height)>{b.height}</A></td>
                                <td>{local_time(&b.time)}</td>
                                <td>{b.tx_count}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        </div>
    }
}
