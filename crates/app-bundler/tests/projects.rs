//! Builds the edge-case projects of `tests/projects/` and checks their `dist/` concretely.

mod support;

use std::fs;

use app_bundler::{BuildOptions, Event};
use support::{
    Workspace, build_ok, build_with, files, injected_css, node, node_exports, read, script,
};

/// Replaces the 8-character id of every `ui://<name>-<id>` with `<id>`.
fn mask_ids(json: &str) -> String {
    let mut out = String::new();
    let mut rest = json;
    while let Some(at) = rest.find("\"ui://") {
        let end = at + rest[at + 1..].find('"').map_or(0, |i| i + 1);
        let uri = &rest[at..end];
        let (prefix, id) = uri.rsplit_once('-').unwrap_or((uri, ""));
        assert_eq!(id.len(), 8, "uri id in {uri}");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        );
        out.push_str(&rest[..at]);
        out.push_str(prefix);
        out.push_str("-<id>");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn alias_is_resolved_in_resources_tools_and_server() {
    let ws = Workspace::new();
    let project = ws.project("alias");
    let (report, events) = build_ok(&project);
    let dist = project.join("dist");
    assert_eq!(
        files(&dist),
        [
            "hello/hello.html",
            "hello/hello.json",
            "server.js",
            "tools/greet.js",
            "tools/no-exports.js"
        ]
    );
    assert_eq!(report.tools, ["greet", "no-exports"]);
    assert!(report.server);

    let greet = read(&dist.join("tools/greet.js"));
    assert!(!greet.contains("@/"), "alias left in the tool:\n{greet}");
    assert!(
        greet.contains("from \"demo-lib\""),
        "package import must stay external:\n{greet}"
    );
    assert!(!greet.contains("node:module"));
    assert_eq!(
        node_exports(&dist.join("tools/greet.js")),
        "default,schema,tool"
    );
    assert_eq!(node_exports(&dist.join("tools/no-exports.js")), "schema");
    assert_eq!(node_exports(&dist.join("server.js")), "auth,server");
    let called = node(
        &dist,
        "const m = await import('./tools/greet.js'); console.log((await m.default({name: 'x'})).content[0].text);",
    );
    assert_eq!(called, "Hello from the alias, x!");

    let html = read(&dist.join("hello/hello.html"));
    assert!(script(&html).contains("Hello from the alias"));
    assert_eq!(
        mask_ids(&read(&dist.join("hello/hello.json"))),
        "{\n  \"title\": \"Hello\",\n  \"description\": \"Hello from the alias\",\n  \"mimeType\": \"text/html;profile=mcp-app\",\n  \"name\": \"hello\",\n  \"uri\": \"ui://hello-<id>\"\n}"
    );

    let warnings: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Warning { message } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].starts_with("No \"tool\" export in src/tools/no-exports.ts"));
    assert!(warnings[1].starts_with("No default handler export in src/tools/no-exports.ts"));
}

#[test]
fn html_is_one_self_contained_document_in_sunpeaks_shell() {
    let ws = Workspace::new();
    let project = ws.project("css-from-package");
    build_ok(&project);
    let html = read(&project.join("dist/card/card.html"));
    assert!(html.starts_with(
        "<!DOCTYPE html>\n<html>\n<head>\n  <meta charset=\"UTF-8\">\n  <meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">\n</head>\n<body>\n  <div id=\"root\"></div>\n  <script>\n(function(){var s=document.createElement('style');s.textContent=\""
    ));
    assert!(html.ends_with("\n  </script>\n</body>\n</html>"));
    let js = script(&html);
    // Outside the one inline script there is nothing that loads anything.
    let shell = html.replacen(js, "", 1);
    assert_eq!(shell.matches("<script").count(), 1);
    assert!(!shell.contains("<link") && !shell.contains("src=") && !shell.contains("href="));
    assert!(!js.contains("</script"), "script close must be escaped");
    assert!(!js.contains("process.env.NODE_ENV"));
    // appInfo from package.json reaches the mount call.
    assert!(js.contains("css-from-package-app") && js.contains("1.2.3"));
}

#[test]
fn resource_values_imported_from_other_modules_are_evaluated() {
    let ws = Workspace::new();
    let project = ws.project("imported-constant");
    let (report, _) = build_ok(&project);
    let dist = project.join("dist");
    assert_eq!(
        mask_ids(&read(&dist.join("widget/widget.json"))),
        r#"{
  "title": "Widget v2",
  "description": "Described in JSON",
  "mimeType": "text/html;profile=mcp-app",
  "tags": [
    "a",
    "b",
    "c"
  ],
  "_meta": {
    "ui": {
      "csp": {
        "connectDomains": [
          "https://api.example.com"
        ],
        "resourceDomains": [
          "https://cdn.example.com",
          "https://origin.example.com",
          "https://cdn.example.com/img"
        ]
      },
      "prefersBorder": true
    }
  },
  "name": "widget",
  "uri": "ui://widget-<id>"
}"#
    );
    // A function call and a package constant: evaluated by Node (sunpeak fails or writes null).
    assert_eq!(
        mask_ids(&read(&dist.join("computed/computed.json"))),
        r#"{
  "title": "Computed",
  "_meta": {
    "ui": {
      "domain": {
        "claude": "com-example-app.claudemcpcontent.com"
      },
      "csp": {
        "resourceDomains": [
          "https://lib.example.com"
        ]
      }
    }
  },
  "name": "computed",
  "uri": "ui://computed-<id>"
}"#
    );
    assert_eq!(report.evaluated_with_node, ["computed"]);
    assert!(!report.used_tailwind);
}

#[test]
fn json_imports_work_in_components_and_in_resource() {
    let ws = Workspace::new();
    let project = ws.project("json-import");
    build_ok(&project);
    let js = read(&project.join("dist/data/data.html"));
    assert!(script(&js).contains("hello from json"));
    assert!(script(&js).contains("42"));
    let meta: serde_json::Value =
        serde_json::from_str(&read(&project.join("dist/data/data.json"))).expect("json");
    assert_eq!(meta["description"], "hello from json");
}

#[test]
fn dynamic_import_is_inlined_into_the_iife() {
    let ws = Workspace::new();
    let project = ws.project("dynamic-import");
    build_ok(&project);
    let html = read(&project.join("dist/lazy/lazy.html"));
    let js = script(&html);
    assert!(
        !js.contains("import("),
        "a dynamic import was left in the bundle"
    );
    assert!(js.contains("loaded later"));
    assert_eq!(
        files(&project.join("dist")),
        ["lazy/lazy.html", "lazy/lazy.json"]
    );
}

#[test]
fn tailwind_runs_through_the_projects_own_compiler() {
    let ws = Workspace::new();
    let project = ws.project("tailwind");
    let (report, _) = build_ok(&project);
    assert!(report.used_tailwind);
    let css = injected_css(&read(&project.join("dist/styled/styled.html"))).expect("css");
    for expected in [
        ".p-4{padding:calc(var(--spacing) * 4)}",
        ".bg-brand{background-color:var(--color-brand)}",
        "--color-brand:#123456",
        ".underline{text-decoration-line:underline}",
        ".custom{--tw-font-weight:var(--font-weight-bold);font-weight:var(--font-weight-bold)}",
    ] {
        assert!(css.contains(expected), "missing {expected} in\n{css}");
    }
    for directive in ["@tailwind", "@apply", "@import", "@theme"] {
        assert!(!css.contains(directive), "{directive} left in the CSS");
    }
    assert!(css.ends_with("\n/*$vite$:1*/"));
}

#[test]
fn css_from_a_package_resolves_through_the_style_condition_in_import_order() {
    let ws = Workspace::new();
    let project = ws.project("css-from-package");
    let (report, _) = build_ok(&project);
    assert!(!report.used_tailwind);
    let css = injected_css(&read(&project.join("dist/card/card.html"))).expect("css");
    assert_eq!(
        css,
        ".demo-base{color:#abcdef}.demo-card{border:1px solid #123456;padding:8px}.app-local{color:#010203}.card-own{color:#040506}\n/*$vite$:1*/"
    );
}

#[test]
fn uri_id_follows_the_content() {
    let ws = Workspace::new();
    let project = ws.project("json-import");
    let uri = |report: &app_bundler::BuildReport| report.resources[0].uri.clone();
    let first = uri(&build_ok(&project).0);
    let again = uri(&build_ok(&project).0);
    assert_eq!(first, again, "same content, same URI");
    let file = project.join("src/resources/data/data.json");
    fs::write(&file, r#"{ "message": "changed", "answer": 42 }"#).expect("write");
    let changed = uri(&build_ok(&project).0);
    assert_ne!(first, changed, "changed content, new URI");
    assert!(changed.starts_with("ui://data-"));
}

#[test]
fn progress_events_cover_every_resource_and_tool() {
    let ws = Workspace::new();
    let project = ws.project("imported-constant");
    let (_, events) = build_ok(&project);
    assert_eq!(events[0], Event::ResourcesStarted { count: 2 });
    let started: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::ResourceStarted { index, count, key } => Some((*index, *count, key.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(started.len(), 2);
    assert!(started.contains(&(1, 2, "computed")) && started.contains(&(2, 2, "widget")));
    let built = events
        .iter()
        .filter(|e| matches!(e, Event::ResourceBuilt { .. }))
        .count();
    assert_eq!(built, 2);
    assert!(
        !events.contains(&Event::ServerCodeStarted),
        "no tools, no server"
    );
}

#[test]
fn a_project_with_only_tools_needs_no_template() {
    let ws = Workspace::new();
    let project = ws.project("alias");
    fs::remove_dir_all(project.join("src/resources")).expect("rm resources");
    fs::remove_file(project.join("src/index-resource.tsx")).expect("rm template");
    let (report, events) = build_ok(&project);
    assert!(report.resources.is_empty());
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::ResourcesStarted { .. }))
    );
    assert_eq!(
        files(&project.join("dist")),
        ["server.js", "tools/greet.js", "tools/no-exports.js"]
    );
}

#[test]
fn assets_are_inlined_and_vite_env_is_defined() {
    let ws = Workspace::new();
    let project = ws.project("json-import");
    let dir = project.join("src/resources/data");
    fs::write(
        dir.join("dot.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>",
    )
    .expect("write");
    fs::write(
        dir.join("data.tsx"),
        "import dot from './dot.svg';\nexport const resource = { title: 'Data' };\nexport function DataResource() { return <img src={dot} alt={import.meta.env.MODE + (import.meta.env.PROD ? '-prod' : '-dev')} />; }\n",
    )
    .expect("write");
    build_ok(&project);
    let html = read(&project.join("dist/data/data.html"));
    let js = script(&html);
    assert!(js.contains("data:image/svg+xml"), "svg not inlined");
    assert!(js.contains("production"));
    assert!(!js.contains("import.meta"), "import.meta left in an IIFE");
}

#[test]
fn local_css_urls_are_inlined_relative_to_their_file() {
    let ws = Workspace::new();
    let project = ws.project("css-from-package");
    let dir = project.join("src/resources/card");
    fs::create_dir_all(dir.join("img")).expect("mkdir");
    fs::write(dir.join("img/p.png"), b"\x89PNG\r\n\x1a\nfakepng").expect("write");
    fs::write(dir.join("img/more.css"), ".more{background:url(./p.png)}\n").expect("write");
    fs::write(
        dir.join("card.css"),
        "@import \"./img/more.css\";\n.card-own{background:url(\"img/p.png\")}\n.keep{background:url(/abs.png)}\n",
    )
    .expect("write");
    build_ok(&project);
    let css = injected_css(&read(&project.join("dist/card/card.html"))).expect("css");
    // Byte for byte what Vite 8 makes of the same files.
    assert!(
        css.ends_with(".more,.card-own{background:url(data:image/png;base64,iVBORw0KGgpmYWtlcG5n)}.keep{background:url(/abs.png)}\n/*$vite$:1*/"),
        "{css}"
    );
}

/// The environment the `vite-env` tests build with, in place of the test process's.
pub const VITE_ENV_PROCESS: [(&str, &str); 4] = [
    ("VITE_FROM_PROCESS", "from the process"),
    ("VITE_ONLY_IN_PROCESS", "only in the process"),
    ("NOT_VITE_PROCESS_SECRET", "process-secret-never-in-dist"),
    ("PATH", "/usr/bin"),
];

#[test]
fn vite_env_variables_come_from_env_files_and_the_environment() {
    let ws = Workspace::new();
    let project = ws.project("vite-env");
    let options = BuildOptions::new(&project)
        .threads(2)
        .process_env(VITE_ENV_PROCESS);
    if let (Err(e), _) = build_with(&options) {
        panic!("build failed:\n{e}");
    }
    let dist = project.join("dist");
    let html = read(&dist.join("env/env.html"));
    let js = script(&html);
    // The `import.meta.env` object, keys sorted as Vite 8 writes it, with every VITE_ value:
    // .env.production over .env.local over .env, the process over all files, `${API_HOST}`
    // expanded, a quoted value with a `#`, a `\n` in double quotes.
    let object = "{BASE_URL:`/`,DEV:!1,MODE:`production`,PROD:!0,SSR:!1,\
        VITE_API_URL:`https://api.example.com/v1`,\
        VITE_FROM_PROCESS:`from the process`,\
        VITE_GREETING:`hello from .env`,\
        VITE_LOCAL:`from .env.local`,\
        VITE_MULTILINE:`line one\nline two`,\
        VITE_ONLY_IN_PROCESS:`only in the process`,\
        VITE_OVERRIDDEN:`from .env.production`,\
        VITE_PROD_LOCAL:`from .env.production.local`,\
        VITE_QUOTED:`single # kept`}";
    assert!(js.contains(object), "import.meta.env object not in\n{js}");
    // `import.meta.env.VITE_X` members are replaced by their values.
    for (label, value) in [
        ("greeting", "hello from .env"),
        ("overridden", "from .env.production"),
        ("from process", "from the process"),
        ("expanded", "https://api.example.com/v1"),
    ] {
        let member = format!("`{label}: `,`{value}`");
        assert!(js.contains(&member), "missing {member}");
    }
    assert!(!js.contains("import.meta"), "import.meta left in an IIFE");
    // No other variable reaches the output: not the non-VITE_ ones of the files (even when a
    // VITE_ value was expanded from one), not those of the process, not another mode's file.
    for path in files(&dist) {
        let text = read(&dist.join(&path));
        for secret in [
            "s3cr3t-token-never-in-dist",
            "SECRET_TOKEN",
            "API_HOST",
            "process-secret-never-in-dist",
            "NOT_VITE_PROCESS_SECRET",
            "development-only-value",
            "VITE_DEV_ONLY:",
        ] {
            assert!(!text.contains(secret), "{secret} leaked into dist/{path}");
        }
    }
}

#[test]
fn without_env_files_import_meta_env_is_vites_builtin_object() {
    let ws = Workspace::new();
    let project = ws.project("vite-env");
    for name in [
        ".env",
        ".env.local",
        ".env.production",
        ".env.production.local",
    ] {
        fs::remove_file(project.join(name)).expect("rm env file");
    }
    // A directory where a file is expected is skipped, as Vite skips it.
    fs::create_dir(project.join(".env")).expect("mkdir .env");
    let options = BuildOptions::new(&project)
        .threads(2)
        .process_env([("HOME", "/root")]);
    if let (Err(e), _) = build_with(&options) {
        panic!("build failed:\n{e}");
    }
    let js = read(&project.join("dist/env/env.html"));
    assert!(js.contains("Object.keys({BASE_URL:`/`,DEV:!1,MODE:`production`,PROD:!0,SSR:!1})"));
    // Members of the object, so undefined at run time, as in Vite.
    assert!(js.contains("SSR:!1}.VITE_GREETING"));
    assert!(!js.contains("hello from .env"));
}

#[test]
fn import_suffixes_give_text_data_urls_and_css_strings() {
    let ws = Workspace::new();
    let project = ws.project("import-suffixes");
    build_ok(&project);
    let html = read(&project.join("dist/suffixes/suffixes.html"));
    let js = script(&html);
    // Each value as Vite 8 (library mode) writes it, byte for byte.
    for expected in [
        // ?raw: the text, `</script` escaped in the HTML.
        "`Plain text, with \"quotes\" and <\\/script> inside.\nSecond line.\n`",
        "`# Readme\n\nSome *markdown*.\n`",
        // ?url: base64 for a PNG, URL-encoded for an SVG; a plain import of the SVG is the same.
        "`data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==`",
        "`data:image/svg+xml,%3csvg%20xmlns='http://www.w3.org/2000/svg'%20width='2'%20height='2'%3e%3crect%20fill='%230a0'%20width='2'%20height='2'/%3e%3c/svg%3e`",
        // ?inline: compiled and minified (url() inlined), without Vite's chunk marker.
        "`.inline-probe{display:none}.from-inline{color:red;background:url(data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==)}`",
        // An unknown query is ignored.
        "helper imported with an unknown query",
    ] {
        assert!(js.contains(expected), "missing {expected} in\n{js}");
    }
    assert_eq!(
        js.matches("data:image/svg+xml,").count(),
        2,
        "?url and plain import of the SVG"
    );
    // The ?inline CSS is not injected: only the page's own CSS is.
    assert_eq!(
        injected_css(&html).as_deref(),
        Some(".app{margin:0}\n/*$vite$:1*/")
    );
}

#[test]
fn combined_suffixes_and_other_files_are_handled_as_vite_does() {
    let ws = Workspace::new();
    let project = ws.project("import-suffixes");
    fs::write(
        project.join("src/resources/suffixes/suffixes.tsx"),
        "import cssUrl from './probe.css?url';\nimport txtUrl from './notes.txt?url';\nimport both from './notes.txt?raw&url';\nimport pngInline from './pixel.png?inline';\nexport const resource = { title: 'S' };\nexport function SuffixesResource() { return <p>{cssUrl}|{txtUrl}|{both}|{pngInline}</p>; }\n",
    )
    .expect("write");
    build_ok(&project);
    let html = read(&project.join("dist/suffixes/suffixes.html"));
    let js = script(&html);
    for expected in [
        // Vite 8: base64 with the MIME type of the extension.
        "`data:text/plain;base64,UGxhaW4gdGV4dCwgd2l0aCAicXVvdGVzIiBhbmQgPC9zY3JpcHQ+IGluc2lkZS4KU2Vjb25kIGxpbmUuCg==`",
        // raw wins over url.
        "`Plain text, with \"quotes\" and <\\/script> inside.\nSecond line.\n`",
        // ?inline of an asset: the asset, inlined as always in library mode.
        "`data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==`",
        // ?url of CSS: the compiled CSS (Vite emits a separate file that sunpeak drops).
        "`data:text/css;base64,LmlubGluZS1wcm9iZXtkaXNwbGF5Om5vbmV9",
    ] {
        assert!(js.contains(expected), "missing {expected} in\n{js}");
    }
    assert_eq!(
        injected_css(&html).as_deref(),
        Some(".app{margin:0}\n/*$vite$:1*/")
    );
}
