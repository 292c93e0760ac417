//! Parity of `sunpeak start` with the npm `sunpeak start` 0.20.79 on the sunpeak template:
//! `initialize`, `tools/list`, `resources/list`, `resources/templates/list`, `ping`,
//! `resources/read` of every resource and `tools/call` of every tool (valid arguments, plus an
//! unknown tool and invalid arguments) must answer the same.
//!
//! Four servers:
//! - A: `npx sunpeak build` + `npx sunpeak start` on the template with zod pinned to 4.4.3 (the
//!   npm server cannot list tools with zod >= 4.6): the baseline;
//! - B: the npm `sunpeak start` on the `dist/` OUR build wrote (same copy): same URIs, same HTML;
//! - C: our build + our start on the zod 4.4.3 copy;
//! - D: our build + our start on the template with the latest zod 4.x.
//!
//! C is compared with B exactly, and C and D with A after replacing the build ids of `ui://`
//! URIs and leaving out the HTML text (two bundlers write different bytes; the build tests
//! compare the HTML). Our HTML must be the bytes of our `dist/<k>/<k>.html`.
//!
//! Normalised because we fix sunpeak bugs on purpose (docs/differences.md), each checked
//! before it is removed:
//! 1. UI tools carry `_meta["openai/outputTemplate"]` = their resource URI (sunpeak emits no
//!    `openai/*` key);
//! 2. tools without a UI keep their `title` (sunpeak drops it): the template's `review` is
//!    "Confirm Review";
//! 3. `resources/list` entries carry the resource's `title` from `dist/<k>/<k>.json`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use e2e_tests::builds::{self, Builder};
use e2e_tests::start::server::Launch;
use e2e_tests::start::snapshot::{
    Call, Snapshot, collect, first_json_difference, normalize_ui_ids,
};
use e2e_tests::{Scratch, copy_project, sunpeak_bin, template};
use serde_json::{Value, json};

/// Valid arguments for every template tool (its schemas mark every field required).
fn calls() -> Vec<Call> {
    vec![
        (
            "review-diff",
            "review-diff",
            json!({"changesetId": "cs-9", "title": "Refactor", "description": "Tidy up", "files": ["src/a.ts", "lib/b.ts"], "runMigrations": true}),
        ),
        (
            "review-post",
            "review-post",
            json!({"content": "Hello", "platforms": ["x", "linkedin"], "schedule": "now", "scheduledTime": "", "visibility": "connections"}),
        ),
        (
            "review-purchase",
            "review-purchase",
            json!({"cartId": "cart-7", "items": [{"productId": "P-1", "quantity": 2}], "shippingAddressId": "addr-1", "shippingMethod": "express", "paymentMethodId": "pm-1"}),
        ),
        (
            "review confirmed",
            "review",
            json!({"action": "publish", "confirmed": true, "decidedAt": "2026-01-01T00:00:00Z", "payload": {"k": 1}}),
        ),
        (
            "review cancelled",
            "review",
            json!({"action": "publish", "confirmed": false, "decidedAt": "2026-01-01T00:00:00Z"}),
        ),
        (
            "show-albums",
            "show-albums",
            json!({"category": "food", "search": "", "limit": 3}),
        ),
        (
            "show-albums unknown keys stripped",
            "show-albums",
            json!({"category": "", "search": "pizza", "limit": 1, "extra": true}),
        ),
        (
            "show-carousel",
            "show-carousel",
            json!({"city": "Austin", "state": "TX", "categories": ["parks"], "limit": 2}),
        ),
        (
            "show-map",
            "show-map",
            json!({"query": "coffee", "location": {"lat": 1.5, "lng": -2.25}, "radius": 5, "minRating": 4, "priceRange": ["$$"]}),
        ),
        ("unknown tool", "no-such-tool", json!({})),
        ("invalid arguments", "show-albums", json!({"category": 5})),
    ]
}

fn build(builder: &Builder, project: &Path) -> Result<()> {
    let run = builds::run(builder, project)?;
    if !run.success() {
        bail!("{}", run.failure_message());
    }
    Ok(())
}

#[test]
fn template_answers_like_npm_sunpeak_start() -> Result<()> {
    let scratch = Scratch::new("start-parity")?;
    let ours = Builder::Ours(sunpeak_bin().to_path_buf());
    let calls = calls();

    // A: the npm toolchain end to end.
    let pinned = template(Some("4.4.3"))?;
    let reference_project = copy_project(&pinned, &scratch.0, "reference")?;
    build(&Builder::Reference, &reference_project).context("npx sunpeak build")?;
    let a = {
        let server = Launch::reference(&reference_project).start()?;
        collect(server.addr, &calls).context("snapshot of npm sunpeak start")?
    };

    // B and C: our build on the pinned copy, served by both.
    let pinned_ours = copy_project(&pinned, &scratch.0, "pinned-ours")?;
    build(&ours, &pinned_ours).context("our sunpeak build (zod 4.4.3)")?;
    let b = {
        let server = Launch::reference(&pinned_ours).start()?;
        collect(server.addr, &calls).context("snapshot of npm sunpeak start on our dist")?
    };
    let c = {
        let server = Launch::ours(&pinned_ours).start()?;
        collect(server.addr, &calls).context("snapshot of our start (zod 4.4.3)")?
    };

    // D: our build and start with the latest zod 4.x.
    let latest = template(None)?;
    let latest_ours = copy_project(&latest, &scratch.0, "latest-ours")?;
    build(&ours, &latest_ours).context("our sunpeak build (latest zod)")?;
    let d = {
        let server = Launch::ours(&latest_ours).start()?;
        collect(server.addr, &calls).context("snapshot of our start (latest zod)")?
    };

    let mut failures = Vec::new();
    check_html_is_dist(&c, &pinned_ours, &mut failures);
    check_html_is_dist(&d, &latest_ours, &mut failures);

    let c = strip_known_differences(c, &pinned_ours, &mut failures);
    let d = strip_known_differences(d, &latest_ours, &mut failures);

    compare(
        "our start vs npm start on the same dist (B)",
        &b,
        &c,
        false,
        &mut failures,
    );
    compare(
        "our start (zod 4.4.3) vs npm build+start (A)",
        &a,
        &c,
        true,
        &mut failures,
    );
    compare(
        "our start (latest zod) vs npm build+start (A)",
        &a,
        &d,
        true,
        &mut failures,
    );

    ensure!(
        failures.is_empty(),
        "parity failures:\n- {}",
        failures.join("\n- ")
    );
    Ok(())
}

/// Our `resources/read` text is exactly the HTML file in `dist/`.
fn check_html_is_dist(snapshot: &Snapshot, project: &Path, failures: &mut Vec<String>) {
    for (name, read) in &snapshot.reads {
        let file = project.join("dist").join(name).join(format!("{name}.html"));
        match std::fs::read_to_string(&file) {
            Ok(html) => {
                if read["contents"][0]["text"].as_str() != Some(html.as_str()) {
                    failures.push(format!(
                        "resources/read {name}: text is not the bytes of {}",
                        file.display()
                    ));
                }
            }
            Err(err) => failures.push(format!("cannot read {}: {err}", file.display())),
        }
    }
}

/// Checks our intended differences and removes them, so that the rest compares equal.
fn strip_known_differences(
    mut ours: Snapshot,
    project: &Path,
    failures: &mut Vec<String>,
) -> Snapshot {
    for tool in ours.tools["tools"].as_array_mut().into_iter().flatten() {
        let name = tool["name"].as_str().unwrap_or_default().to_string();
        let Some(meta) = tool.get_mut("_meta").and_then(Value::as_object_mut) else {
            continue;
        };
        let uri = meta.get("ui").and_then(|ui| ui.get("resourceUri")).cloned();
        match (uri, meta.shift_remove("openai/outputTemplate")) {
            (Some(uri), Some(template)) if uri == template => {}
            (Some(uri), other) => failures.push(format!(
                "tool {name}: openai/outputTemplate {other:?} should be the resource URI {uri}"
            )),
            (None, Some(_)) => failures.push(format!(
                "tool {name}: openai/outputTemplate on a tool without UI"
            )),
            (None, None) => {
                // A plain tool: sunpeak drops its title; we keep it.
                if name == "review" && tool.get("title") != Some(&json!("Confirm Review")) {
                    failures.push(format!(
                        "tool review: title should be kept as \"Confirm Review\", got {:?}",
                        tool.get("title")
                    ));
                }
                if let Some(obj) = tool.as_object_mut() {
                    obj.shift_remove("title");
                }
            }
        }
    }
    for resource in ours.resources["resources"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        let name = resource["name"].as_str().unwrap_or_default().to_string();
        let file = project
            .join("dist")
            .join(&name)
            .join(format!("{name}.json"));
        let expected = std::fs::read_to_string(&file)
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .and_then(|json| json.get("title").cloned());
        let actual = resource
            .as_object_mut()
            .and_then(|r| r.shift_remove("title"));
        if actual != expected {
            failures.push(format!(
                "resources/list {name}: title {actual:?}, expected {expected:?} from {}",
                file.display()
            ));
        }
    }
    ours
}

fn compare(
    label: &str,
    expected: &Snapshot,
    actual: &Snapshot,
    normalize: bool,
    failures: &mut Vec<String>,
) {
    let prepare = |s: &Snapshot| -> BTreeMap<&'static str, Value> {
        let mut reads = json!(s.reads);
        if normalize {
            for read in reads
                .as_object_mut()
                .into_iter()
                .flat_map(|m| m.values_mut())
            {
                if let Some(content) = read["contents"].get_mut(0).and_then(Value::as_object_mut) {
                    let is_html = content
                        .get("text")
                        .and_then(Value::as_str)
                        .is_some_and(|t| {
                            t.trim_start()
                                .to_ascii_lowercase()
                                .starts_with("<!doctype html")
                        });
                    content.insert(
                        "text".into(),
                        json!(if is_html {
                            "<html document>"
                        } else {
                            "<not html>"
                        }),
                    );
                }
            }
        }
        let mut parts = BTreeMap::from([
            ("initialize", s.initialize.clone()),
            ("tools/list", s.tools.clone()),
            ("resources/list", s.resources.clone()),
            ("resources/templates/list", s.templates.clone()),
            ("ping", s.ping.clone()),
            ("resources/read", reads),
            ("tools/call", json!(s.calls)),
        ]);
        if normalize {
            parts.values_mut().for_each(normalize_ui_ids);
        }
        parts
    };
    let (e, a) = (prepare(expected), prepare(actual));
    for (part, expected_value) in &e {
        if let Some(diff) = first_json_difference(expected_value, &a[part]) {
            failures.push(format!("{label}: {part}: {diff}"));
        }
    }
}
