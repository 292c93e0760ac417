//! Resources bundled from one shared scan of their modules (the default) come out byte for byte
//! as when each resource is bundled on its own (`BuildOptions::share_modules(false)`), also
//! when resources import the same module in different ways; and the same bytes on every build
//! (`ui://` ids are derived from them).

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use app_bundler::{BuildOptions, BuildReport, Event};
use support::{Workspace, files, injected_css, project_source, read, script};

/// Copies the files of `from` that `to` does not have yet.
fn copy_missing(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_missing(&entry.path(), &target);
        } else if !target.exists() {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn write(project: &Path, rel: &str, text: &str) {
    let path = project.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

/// A resource `src/resources/<key>/<key>.tsx` with `body` before its exports; `view` is the
/// JSX expression it renders.
fn resource(project: &Path, key: &str, component: &str, body: &str, view: &str) {
    write(
        project,
        &format!("src/resources/{key}/{key}.tsx"),
        &format!(
            "{body}\nexport const resource = {{ title: '{key}' }};\n\nexport function {component}() {{\n  return {view};\n}}\n"
        ),
    );
}

/// The resources of several test projects in one project (JSON, CSS from a package, dynamic
/// import, resource values evaluated by Node, the `@/` alias, `?raw`/`?url`/`?inline`
/// imports, `import.meta.env`), plus resources that import one
/// module in different ways: statically and with `require()` (which makes rolldown wrap it in
/// that resource only), or with `import()` from two resources (bundled alone).
fn many_resources(ws: &Workspace) -> PathBuf {
    let project = ws.project("alias");
    for other in [
        "css-from-package",
        "dynamic-import",
        "imported-constant",
        "json-import",
        "import-suffixes",
        "vite-env",
    ] {
        copy_missing(&project_source(other).join("src"), &project.join("src"));
    }
    write(
        &project,
        "src/shared/esm.ts",
        "export const y = 'esm-y';\nconsole.log('esm evaluated');\n",
    );
    write(
        &project,
        "src/shared/dyn.ts",
        "export const a = 'dyn-a';\nexport const b = 'dyn-b';\n",
    );
    resource(
        &project,
        "imports",
        "ImportsResource",
        "import { useEffect, useState } from 'react';\nimport { y } from '../../shared/esm';\nimport { LIB_ORIGIN } from 'demo-lib';",
        "<p>{y} {LIB_ORIGIN}</p>",
    );
    resource(
        &project,
        "requires",
        "RequiresResource",
        "declare const require: (id: string) => { y: string };\nconst esm = require('../../shared/esm');",
        "<p>{esm.y}</p>",
    );
    // CSS whose load order is not its import order: `b.css` is loaded as soon as the
    // resource is parsed, `a.css` only after `a.tsx` is, but `a.tsx` (and its CSS) comes first.
    write(
        &project,
        "src/shared/a.css",
        ".order-a { color: #0a0a0a; }\n",
    );
    write(
        &project,
        "src/shared/b.css",
        ".order-b { color: #0b0b0b; }\n",
    );
    write(
        &project,
        "src/shared/a.tsx",
        "import './a.css';\nexport const A = 'order-a';\n",
    );
    resource(
        &project,
        "order",
        "OrderResource",
        "import { A } from '../../shared/a';\nimport '../../shared/b.css';",
        "<p>{A}</p>",
    );
    for (key, component, export) in [
        ("dyn-a", "DynAResource", "a"),
        ("dyn-b", "DynBResource", "b"),
    ] {
        resource(
            &project,
            key,
            component,
            &format!(
                "import {{ useEffect, useState }} from 'react';\nfunction useDyn() {{\n  const [v, setV] = useState('');\n  useEffect(() => {{\n    (async () => {{\n      const {{ {export} }} = await import('../../shared/dyn');\n      setV({export});\n    }})();\n  }}, []);\n  return v;\n}}"
            ),
            "<p>{useDyn()}</p>",
        );
    }
    project
}

fn build(options: &BuildOptions) -> (BuildReport, Vec<Event>) {
    let mut events = Vec::new();
    let report = app_bundler::build(&options.clone().threads(2), &mut |e: Event| events.push(e))
        .unwrap_or_else(|e| panic!("build failed:\n{e}"));
    (report, events)
}

#[test]
fn a_shared_scan_gives_the_same_bytes_as_bundling_each_resource_alone() {
    let ws = Workspace::new();
    let project = many_resources(&ws);
    let (shared, events) = build(&BuildOptions::new(&project).out_dir("dist-shared"));
    let (alone, _) = build(
        &BuildOptions::new(&project)
            .out_dir("dist-alone")
            .share_modules(false),
    );
    assert!(shared.shared_scan, "the shared scan was not used");
    assert!(!alone.shared_scan);
    let keys: Vec<&str> = shared.resources.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "card", "computed", "data", "dyn-a", "dyn-b", "env", "hello", "imports", "lazy",
            "order", "requires", "suffixes", "widget"
        ]
    );
    let built = events
        .iter()
        .filter(|e| matches!(e, Event::ResourceBuilt { .. }))
        .count();
    assert_eq!(built, keys.len());

    let (a, b) = (project.join("dist-shared"), project.join("dist-alone"));
    assert_eq!(files(&a), files(&b));
    for file in files(&a) {
        assert!(
            read(&a.join(&file)) == read(&b.join(&file)),
            "{file} differs between the shared scan and bundling alone"
        );
    }

    // Each resource has only its own CSS and modules.
    let js = |key: &str| script(&read(&a.join(format!("{key}/{key}.html")))).to_owned();
    assert!(js("imports").contains("esm evaluated") && js("requires").contains("esm evaluated"));
    assert!(js("card").contains("card-own") && !js("hello").contains("card-own"));
    assert!(js("dyn-a").contains("dyn-a") && !js("hello").contains("dyn-a"));
    assert!(!js("hello").contains("esm evaluated"));

    // CSS in import order (the order its stubs execute in), not in the order it was loaded.
    let css =
        |key: &str| injected_css(&read(&a.join(format!("{key}/{key}.html")))).unwrap_or_default();
    assert!(
        css("order").contains(".app{margin:0}.order-a{color:#0a0a0a}.order-b{color:#0b0b0b}"),
        "{}",
        css("order")
    );
    assert!(
        css("card").contains(".app{margin:0}.card-own{color:#040506}"),
        "{}",
        css("card")
    );
}

/// Builds of one project give the same bytes every time: the modules are loaded in parallel
/// and each resource is generated on its own thread, in whatever order they finish. (Before
/// the CSS order came from the import graph, one build in two or three differed here; the
/// template, ten times, is in `template_reproducible.rs`.)
#[test]
fn every_build_with_the_shared_scan_gives_the_same_bytes() {
    let ws = Workspace::new();
    let project = many_resources(&ws);
    let first = project.join("dist-0");
    let runs = 5;
    for run in 0..runs {
        let report = app_bundler::build(
            &BuildOptions::new(&project)
                .out_dir(format!("dist-{run}"))
                .threads(4),
            &mut |_: Event| {},
        )
        .unwrap_or_else(|e| panic!("build failed:\n{e}"));
        assert!(report.shared_scan, "the shared scan was not used");
        if run == 0 {
            continue;
        }
        let dist = project.join(format!("dist-{run}"));
        assert_eq!(files(&first), files(&dist));
        for file in files(&first) {
            assert!(
                read(&first.join(&file)) == read(&dist.join(&file)),
                "{file} differs between build 1 and build {}",
                run + 1
            );
        }
    }
}

#[test]
fn a_failing_resource_is_reported_as_when_bundled_alone() {
    let ws = Workspace::new();
    let project = many_resources(&ws);
    copy_missing(
        &project_source("error-syntax").join("src"),
        &project.join("src"),
    );
    let message = |options: BuildOptions| {
        app_bundler::build(&options.threads(2), &mut |_: Event| {})
            .expect_err("the build must fail")
            .to_string()
    };
    let shared = message(BuildOptions::new(&project));
    let alone = message(BuildOptions::new(&project).share_modules(false));
    assert!(shared.contains("Failed to build broken"), "{shared}");
    assert_eq!(shared, alone);
    assert!(!project.join("dist").exists());
}
