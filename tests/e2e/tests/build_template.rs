//! `sunpeak build` on the template app that ships inside the npm package `sunpeak`, compared
//! with `npx sunpeak build` (the reference) on an identical copy:
//!
//! - the same files in `dist/`;
//! - every HTML self-contained (no external script or stylesheet) with sunpeak's HTML shell;
//! - the same resource metadata (apart from the URI's id, which we derive from the content);
//! - every tool module (and `dist/server.js`) imports under Node with the same exports, and its
//!   handler returns the same result;
//! - every resource, loaded in headless Chromium inside a minimal MCP Apps host page that sends
//!   the tool's real input and result, renders the same text as sunpeak's, with no page errors.
//!   Element counts, screenshots and console errors are compared too and reported (they fail
//!   the test only with `E2E_STRICT=1`).
//!
//! Environment:
//! - `SUNPEAK_BIN`: our binary (default: `cargo build -p sunpeak-cli`, same profile as the tests).
//! - `E2E_OURS=reference`: build the "ours" copy with `npx sunpeak build` as well, to develop and
//!   check the harness itself (sunpeak against sunpeak must pass).
//! - `E2E_STRICT=1`: element-count and screenshot differences fail too.
//! - `CHROMIUM_PATH`: the browser (default `/usr/bin/chromium`, Debian's `chromium` package).
//!
//! Needs Node.js + npm on PATH, the npm registry (first run: the template and playwright-core are
//! installed into `~/.cache/sunpeak-rs`) and Chromium. Artifacts (both projects, screenshots,
//! `report.md`) are kept in `target/tmp/build_template/` until the next run.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};
use e2e_tests::builds::{self, Builder};
use e2e_tests::compare;
use e2e_tests::harness::{Harness, RenderJob, Rendered, ToolsReport};
use serde_json::Value;

/// Both builds of the template, done once per test process and shared by the tests.
struct Fixture {
    work: PathBuf,
    reference: PathBuf,
    ours: PathBuf,
    ours_name: String,
    harness: Harness,
    reference_tools: ToolsReport,
    ours_tools: ToolsReport,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Result<Fixture, String>> = OnceLock::new();
    match FIXTURE.get_or_init(|| prepare().map_err(|e| format!("{e:#}"))) {
        Ok(fixture) => fixture,
        Err(e) => panic!("preparing the template builds failed:\n{e}"),
    }
}

fn strict() -> bool {
    std::env::var("E2E_STRICT").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn ours_builder() -> Result<(Builder, String)> {
    match std::env::var("E2E_OURS").as_deref() {
        Err(_) | Ok("") | Ok("ours") => {
            let bin = std::panic::catch_unwind(AssertUnwindSafe(e2e_tests::sunpeak_bin))
                .map_err(|_| anyhow::anyhow!("could not build or find our sunpeak binary"))?;
            Ok((
                Builder::Ours(bin.to_path_buf()),
                "sunpeak-rs (ours)".to_string(),
            ))
        }
        Ok("reference") => Ok((
            Builder::Reference,
            "npx sunpeak (E2E_OURS=reference)".to_string(),
        )),
        Ok(other) => bail!("E2E_OURS={other:?}: expected `reference` or nothing"),
    }
}

fn prepare() -> Result<Fixture> {
    let (ours_builder, ours_name) = ours_builder()?;
    let template = e2e_tests::template(None)?;
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("build_template");
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("removing {}", work.display()))?;
    }
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let reference = e2e_tests::copy_project(&template, &work, "reference")?;
    let ours = e2e_tests::copy_project(&template, &work, "ours")?;

    let harness = Harness::install()?;
    for (builder, dir) in [(&Builder::Reference, &reference), (&ours_builder, &ours)] {
        let run = builds::run(builder, dir)?;
        if !run.success() {
            bail!("{}", run.failure_message());
        }
        eprintln!(
            "built {} with `{}` in {:.2}s",
            dir.display(),
            run.builder,
            run.elapsed.as_secs_f64()
        );
    }
    let reference_tools = harness.tools(&reference)?;
    let ours_tools = harness.tools(&ours)?;
    Ok(Fixture {
        work,
        reference,
        ours,
        ours_name,
        harness,
        reference_tools,
        ours_tools,
    })
}

#[test]
fn same_files_as_sunpeak() {
    let f = fixture();
    let expected = compare::files_under(&f.reference.join("dist")).expect("reference dist/");
    let actual = compare::files_under(&f.ours.join("dist")).expect("our dist/");
    // 4 resources × (html + json), 7 tools, server.js.
    assert_eq!(
        expected.len(),
        4 * 2 + 7 + 1,
        "unexpected reference dist/: {expected:?}"
    );
    let missing: Vec<_> = expected.difference(&actual).collect();
    let extra: Vec<_> = actual.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "dist/ differs from sunpeak's.\n missing (sunpeak has, {} has not): {missing:?}\n extra ({} has, sunpeak has not): {extra:?}",
        f.ours_name,
        f.ours_name
    );
    assert!(
        !f.ours.join(".tmp").exists(),
        "{} left .tmp/ behind",
        f.ours_name
    );
}

/// `dist/<k>/<k>.html` files of a project, keyed by `<k>`.
fn html_files(project: &Path) -> BTreeMap<String, PathBuf> {
    let files = compare::files_under(&project.join("dist")).expect("dist/");
    files
        .iter()
        .filter_map(|rel| {
            let (dir, file) = rel.split_once('/')?;
            (file == format!("{dir}.html"))
                .then(|| (dir.to_string(), project.join("dist").join(rel)))
        })
        .collect()
}

#[test]
fn html_is_self_contained_with_sunpeaks_shell() {
    let f = fixture();
    let reference = html_files(&f.reference);
    let ours = html_files(&f.ours);
    assert_eq!(
        reference.len(),
        4,
        "the template has 4 resources: {reference:?}"
    );
    let mut problems = Vec::new();
    for (key, ref_path) in &reference {
        let Some(our_path) = ours.get(key) else {
            problems.push(format!("{key}: no dist/{key}/{key}.html"));
            continue;
        };
        let ref_html = std::fs::read_to_string(ref_path).expect("reference HTML");
        let our_html = match std::fs::read_to_string(our_path) {
            Ok(html) => html,
            Err(e) => {
                problems.push(format!("{key}: cannot read {}: {e}", our_path.display()));
                continue;
            }
        };
        let refs = compare::html_refs(&our_html);
        if !refs.external_scripts.is_empty() {
            problems.push(format!(
                "{key}: external scripts {:?}",
                refs.external_scripts
            ));
        }
        if !refs.external_stylesheets.is_empty() {
            problems.push(format!(
                "{key}: external stylesheets {:?}",
                refs.external_stylesheets
            ));
        }
        let expected_scripts = compare::html_refs(&ref_html).inline_scripts;
        if refs.inline_scripts != expected_scripts {
            problems.push(format!(
                "{key}: {} inline scripts, sunpeak has {expected_scripts}",
                refs.inline_scripts
            ));
        }
        if let Some(diff) = compare::first_difference(
            &compare::html_shell(&ref_html),
            &compare::html_shell(&our_html),
        ) {
            problems.push(format!(
                "{key}: the HTML shell differs from sunpeak's: {diff}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `dist/<k>/<k>.json` of a project, keyed by `<k>`.
fn metadata(project: &Path) -> BTreeMap<String, Value> {
    html_files(project)
        .keys()
        .filter_map(|key| {
            let path = project.join("dist").join(key).join(format!("{key}.json"));
            let text = std::fs::read_to_string(&path).ok()?;
            Some((key.clone(), serde_json::from_str(&text).ok()?))
        })
        .collect()
}

#[test]
fn resource_metadata_matches_sunpeak() {
    let f = fixture();
    let reference = metadata(&f.reference);
    let ours = metadata(&f.ours);
    assert_eq!(reference.len(), 4, "reference metadata: {reference:?}");
    let mut problems = Vec::new();
    for (key, expected) in &reference {
        let Some(actual) = ours.get(key) else {
            problems.push(format!("{key}: dist/{key}/{key}.json missing or not JSON"));
            continue;
        };
        let name = actual["name"].as_str().unwrap_or_default();
        if let Err(e) =
            compare::check_resource_uri(actual["uri"].as_str().unwrap_or_default(), name)
        {
            problems.push(format!("{key}: {e}"));
        }
        let (expected, actual) = (
            compare::metadata_without_uri(expected),
            compare::metadata_without_uri(actual),
        );
        if expected != actual {
            problems.push(format!(
                "{key}: metadata differs (uri ignored)\n expected (sunpeak): {expected}\n actual: {actual}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn tool_modules_import_with_same_exports() {
    let f = fixture();
    let (reference, ours) = (&f.reference_tools, &f.ours_tools);
    assert_eq!(reference.tools.len(), 7, "the template has 7 tools");
    let mut problems = Vec::new();
    for t in &reference.tools {
        if let Some(e) = &t.error {
            problems.push(format!("reference {}: {e}", t.file));
        }
    }
    let names =
        |r: &ToolsReport| -> BTreeSet<String> { r.tools.iter().map(|t| t.name.clone()).collect() };
    if names(reference) != names(ours) {
        problems.push(format!(
            "tool modules differ: sunpeak {:?}, ours {:?}",
            names(reference),
            names(ours)
        ));
    }
    for expected in &reference.tools {
        let Some(actual) = ours.tools.iter().find(|t| t.name == expected.name) else {
            continue;
        };
        if let Some(e) = &actual.error {
            problems.push(format!("{}: {e}", actual.file));
            continue;
        }
        if actual.exports != expected.exports {
            problems.push(format!(
                "{}: exports {:?}, sunpeak's {:?}",
                actual.file, actual.exports, expected.exports
            ));
        }
        if actual.resource != expected.resource {
            problems.push(format!(
                "{}: tool.resource {:?}, sunpeak's {:?}",
                actual.file, actual.resource, expected.resource
            ));
        }
        if actual.args != expected.args || actual.result != expected.result {
            problems.push(format!(
                "{}: the handler returned a different result for {}\n expected: {}\n actual: {}",
                actual.file, actual.args, expected.result, actual.result
            ));
        }
    }
    match (&reference.server, &ours.server) {
        (Some(expected), Some(actual)) => {
            if let Some(e) = &actual.error {
                problems.push(format!("server.js: {e}"));
            } else if actual.exports != expected.exports {
                problems.push(format!(
                    "server.js: exports {:?}, sunpeak's {:?}",
                    actual.exports, expected.exports
                ));
            }
        }
        (Some(_), None) => problems.push("no dist/server.js".to_string()),
        (None, _) => problems.push("the reference build has no dist/server.js".to_string()),
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// One resource rendered for one tool: the pair of pages to compare.
struct Case {
    label: String,
    slug: String,
    input: Value,
    result: Value,
    resource_key: String,
}

/// Every (tool → resource) pair of the reference build, plus every resource that no tool
/// references (rendered with an empty input and result).
fn cases(f: &Fixture) -> Vec<Case> {
    let by_name: BTreeMap<String, String> = metadata(&f.reference)
        .into_iter()
        .map(|(key, meta)| (meta["name"].as_str().unwrap_or(&key).to_string(), key))
        .collect();
    let mut cases = Vec::new();
    let mut covered = BTreeSet::new();
    for tool in &f.reference_tools.tools {
        let Some(resource) = &tool.resource else {
            continue;
        };
        let key = by_name.get(resource).unwrap_or_else(|| {
            panic!(
                "tool {} names resource {resource:?}, which the reference build does not have",
                tool.name
            )
        });
        covered.insert(key.clone());
        cases.push(Case {
            label: format!("{} -> {key}", tool.name),
            slug: tool.name.clone(),
            input: tool.args.clone(),
            result: tool.result.clone(),
            resource_key: key.clone(),
        });
    }
    for key in by_name.values().filter(|k| !covered.contains(*k)) {
        cases.push(Case {
            label: format!("(no tool) -> {key}"),
            slug: format!("resource-{key}"),
            input: serde_json::json!({}),
            result: serde_json::json!({ "content": [] }),
            resource_key: key.clone(),
        });
    }
    cases
}

/// The first line of each console error, without source positions: comparable across builds.
fn console_summary(r: &Rendered) -> BTreeSet<String> {
    r.console_errors
        .iter()
        .map(|e| e.lines().next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn resources_render_like_sunpeak_in_chromium() {
    let f = fixture();
    let cases = cases(f);
    assert!(
        cases.len() >= 4,
        "expected a case per resource, got {}",
        cases.len()
    );
    let shots = f.work.join("screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let job = |project: &Path, side: &str, c: &Case| RenderJob {
        label: format!("{side}: {}", c.label),
        html: project
            .join("dist")
            .join(&c.resource_key)
            .join(format!("{}.html", c.resource_key)),
        tool_input: c.input.clone(),
        tool_result: c.result.clone(),
        screenshot: Some(shots.join(format!("{side}-{}.png", c.slug))),
    };
    let mut jobs: Vec<RenderJob> = cases
        .iter()
        .map(|c| job(&f.reference, "sunpeak", c))
        .collect();
    jobs.extend(cases.iter().map(|c| job(&f.ours, "ours", c)));
    let missing: Vec<_> = jobs
        .iter()
        .filter(|j| !j.html.exists())
        .map(|j| j.html.display().to_string())
        .collect();
    assert!(missing.is_empty(), "resource HTML missing: {missing:?}");
    let rendered = f.harness.render(&jobs, &f.work).expect("render.mjs");
    let (reference, ours) = rendered.split_at(cases.len());

    let mut failures = Vec::new();
    let mut notes = Vec::new();
    let mut report = String::new();
    let _ = writeln!(
        report,
        "# sunpeak build: render comparison (sunpeak vs {})\n\n| case | text | elements sunpeak / ours | screenshot | page errors (ours) | console errors only in one |\n|---|---|---|---|---|---|",
        f.ours_name
    );
    for ((c, exp), act) in cases.iter().zip(reference).zip(ours) {
        // The reference must really have rendered the tool's data, or the harness is broken.
        let exp_text = exp.text.clone().unwrap_or_default();
        if !exp.page_errors.is_empty() || !exp.tool_result_sent || exp.timed_out {
            failures.push(format!(
                "{}: the REFERENCE page did not render cleanly (harness or environment problem): initialized={}, tool result sent={}, timed out={}, page errors={:?}",
                c.label, exp.initialized, exp.tool_result_sent, exp.timed_out, exp.page_errors
            ));
        }
        let leaves = compare::string_leaves(&c.result, 4);
        if !leaves.is_empty() && !leaves.iter().any(|s| exp_text.contains(s.as_str())) {
            failures.push(format!(
                "{}: the reference page shows none of the tool result's strings (is the host protocol right?); text: {exp_text:?}",
                c.label
            ));
        }

        let act_text = act.text.clone().unwrap_or_default();
        if !act.initialized || !act.tool_result_sent {
            failures.push(format!(
                "{}: our resource did not complete the MCP Apps handshake (host received {:?})",
                c.label, act.host_received
            ));
        }
        if act.timed_out {
            failures.push(format!("{}: timed out (handshake or settling)", c.label));
        }
        if !act.page_errors.is_empty() {
            failures.push(format!("{}: page errors: {:#?}", c.label, act.page_errors));
        }
        let text_same = exp.text == act.text;
        if let Some(diff) = compare::first_difference(&exp_text, &act_text) {
            failures.push(format!("{}: rendered text differs: {diff}", c.label));
        }
        if exp.element_count != act.element_count {
            notes.push(format!(
                "{}: element count {:?} (sunpeak {:?})",
                c.label, act.element_count, exp.element_count
            ));
        }
        // How often the app reports its size depends on timing: compare runs of equal messages.
        if dedup(&exp.host_received) != dedup(&act.host_received) {
            notes.push(format!(
                "{}: host received {:?} (sunpeak {:?})",
                c.label, act.host_received, exp.host_received
            ));
        }
        let shot = match (&exp.screenshot, &act.screenshot) {
            (Some(a), Some(b)) => screenshot_note(&f.harness, a, b),
            _ => "not taken".to_string(),
        };
        if shot != "identical" {
            notes.push(format!("{}: screenshot {shot}", c.label));
        }
        let (ce, ca) = (console_summary(exp), console_summary(act));
        let only: Vec<String> = ce
            .symmetric_difference(&ca)
            .map(|e| {
                let side = if ce.contains(e) { "sunpeak" } else { "ours" };
                format!("{side}: {e}")
            })
            .collect();
        if !only.is_empty() {
            notes.push(format!("{}: console errors differ: {only:?}", c.label));
        }
        let _ = writeln!(
            report,
            "| {} | {} | {} / {} | {} | {} | {} |",
            c.label,
            if text_same { "same" } else { "DIFFERS" },
            exp.element_count.unwrap_or(0),
            act.element_count.unwrap_or(0),
            shot,
            act.page_errors.len(),
            only.len()
        );
    }
    let _ = writeln!(
        report,
        "\n| resource | HTML bytes sunpeak / ours | HTML minus decoded CSS, sunpeak / ours | inline CSS |\n|---|---|---|---|"
    );
    for (key, ref_path) in html_files(&f.reference) {
        let our_path = f.ours.join("dist").join(&key).join(format!("{key}.html"));
        let (a, b) = (
            std::fs::read_to_string(&ref_path).unwrap_or_default(),
            std::fs::read_to_string(&our_path).unwrap_or_default(),
        );
        let (css_a, css_b) = (injected_css(&a), injected_css(&b));
        let css = match (&css_a, &css_b) {
            (Some(x), Some(y)) if x == y => format!("identical ({} bytes)", x.len()),
            (Some(x), Some(y)) => format!("differs ({} / {} bytes)", x.len(), y.len()),
            _ => "not found in one of them".to_string(),
        };
        let js = |html: &str, css: &Option<String>| {
            html.len()
                .saturating_sub(css.as_ref().map_or(0, |c| c.len()))
        };
        let _ = writeln!(
            report,
            "| {key} | {} / {} | ~{} / ~{} | {css} |",
            a.len(),
            b.len(),
            js(&a, &css_a),
            js(&b, &css_b)
        );
    }
    if !notes.is_empty() {
        let _ = writeln!(
            report,
            "\nDifferences (reported):\n- {}",
            notes.join("\n- ")
        );
    }
    if !failures.is_empty() {
        let _ = writeln!(report, "\nFailures:\n- {}", failures.join("\n- "));
    }
    let report_path = f.work.join("report.md");
    let _ = std::fs::write(&report_path, &report);
    eprintln!("{report}\n(report: {})", report_path.display());
    if strict() {
        failures.extend(notes.iter().map(|n| format!("E2E_STRICT: {n}")));
    }
    assert!(
        failures.is_empty(),
        "{} of the resource renders failed (report: {}):\n{}",
        failures.len(),
        report_path.display(),
        failures.join("\n")
    );
}

/// The CSS that sunpeak's injection prefix puts into a `<style>` element
/// (`s.textContent=<JSON string>`), decoded.
fn injected_css(html: &str) -> Option<String> {
    let start = html.find("s.textContent=")? + "s.textContent=".len();
    serde_json::Deserializer::from_str(&html[start..])
        .into_iter::<String>()
        .next()?
        .ok()
}

/// `messages` with consecutive repeats collapsed.
fn dedup(messages: &[String]) -> Vec<&String> {
    let mut out: Vec<&String> = messages.iter().collect();
    out.dedup();
    out
}

/// "identical", or how two screenshots differ.
fn screenshot_note(harness: &Harness, a: &Path, b: &Path) -> String {
    match (std::fs::read(a), std::fs::read(b)) {
        (Ok(x), Ok(y)) if x == y => "identical".to_string(),
        (Ok(_), Ok(_)) => match harness.diff_images(a, b) {
            Ok(d) if d.same_size && d.different_pixels == Some(0) => "identical".to_string(),
            Ok(d) if d.same_size => format!("{} pixels differ", d.different_pixels.unwrap_or(0)),
            Ok(d) => format!("size {:?} vs {:?}", d.size_a, d.size_b),
            Err(e) => format!("not compared ({e:#})"),
        },
        _ => "missing".to_string(),
    }
}
