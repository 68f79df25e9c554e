//! Bar charts of counts over time, drawn by plotters as SVG; each with its figures in a
//! table for screen readers.

use leptos::prelude::*;
use plotters::prelude::*;

/// The chart's drawing size; CSS scales it to the width it is given.
const SIZE: (u32, u32) = (520, 220);

/// One bar: what it counts (`key`, e.g. the first day it covers), its label and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub key: String,
    pub label: String,
    pub value: u64,
}

/// `points` as bars, as an SVG document.
fn bars_svg(points: &[Point], colour: RGBColor) -> Result<String, String> {
    let labels: Vec<&str> = points.iter().map(|p| p.label.as_str()).collect();
    let values: Vec<u64> = points.iter().map(|p| p.value).collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let top = values.iter().copied().max().unwrap_or(0).max(4);
        let count = labels.len() as u32;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d((0..count).into_segmented(), 0..top + top / 8 + 1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(RGBColor(236, 239, 243))
            .x_labels(labels.len().min(7))
            .y_labels(5)
            .x_label_formatter(&|segment| match segment {
                SegmentValue::CenterOf(i) => labels
                    .get(*i as usize)
                    .map(|l| (*l).to_owned())
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .y_label_formatter(&|v| format!("{v}"))
            .label_style(("sans-serif", 16))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .style(colour.filled())
                    .margin(1)
                    .data(values.iter().enumerate().map(|(i, v)| (i as u32, *v))),
            )
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// One series of counts as a bar chart with its caption, and its figures as a table.
#[component]
pub fn BarChart(
    title: String,
    points: Vec<Point>,
    colour: (u8, u8, u8),
    #[prop(into)] testid: String,
) -> impl IntoView {
    let (r, g, b) = colour;
    let drawn = bars_svg(&points, RGBColor(r, g, b));
    let total: u64 = points.iter().map(|p| p.value).sum();
    view! {
        <figure class="chart" data-testid=testid.clone()>
            <figcaption>{title.clone()} ": " <strong>{total}</strong></figcaption>
            {match drawn {
                Ok(svg) => view! { <div class="chart-svg" aria-hidden="true" inner_html=svg></div> }.into_any(),
                Err(error) => view! { <p class="error">{format!("The chart could not be drawn: {error}")}</p> }.into_any(),
            }}
            // A table grows to its content whatever its width: hidden in a box that does not.
            <div class="visually-hidden">
                <table data-testid=format!("{testid}-data")>
                    <caption>{title}</caption>
                    <tbody>
                        {points.into_iter().map(|p| view! {
                            <tr data-key=p.key><th scope="row">{p.label}</th><td>{p.value}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </figure>
    }
}
