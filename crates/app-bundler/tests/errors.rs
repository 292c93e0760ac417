//! Every failure names the file, line and column where it has one, says what to do, and
//! leaves the previous `dist/` untouched.

mod support;

use std::fs;

use app_bundler::{BuildError, Target};
use support::{Workspace, build_err, build_ok, files, read};

#[test]
fn syntax_error_in_a_resource_points_at_the_token() {
    let ws = Workspace::new();
    let project = ws.project("error-syntax");
    let (err, message) = build_err(&project);
    assert!(
        matches!(err, BuildError::Bundle { target: Target::Resource(ref k), .. } if k == "broken")
    );
    assert_eq!(
        message,
        "Failed to build broken:\nsrc/resources/broken/broken.tsx:4:19: Unexpected token\n 4 |   return <p>{ 1 + }</p>;\n   |                   ^"
    );
}

#[test]
fn unresolved_import_names_the_import_and_the_fix() {
    let ws = Workspace::new();
    let project = ws.project("error-unresolved");
    let (_, message) = build_err(&project);
    assert_eq!(
        message,
        "Failed to build missing:\nsrc/resources/missing/missing.tsx:1:24: Could not resolve './helpers' in src/resources/missing/missing.tsx\n 1 | import { helper } from './helpers';\n   |                        ^\n  help: check the path and the file extension of the import"
    );
}

#[test]
fn unresolved_package_suggests_installing_it() {
    let ws = Workspace::new();
    let project = ws.project("json-import");
    fs::write(
        project.join("src/resources/data/data.tsx"),
        "import confetti from 'canvas-confetti-not-installed';\nexport const resource = { title: 'Data' };\nexport function DataResource() { return <p>{String(confetti)}</p>; }\n",
    )
    .expect("write");
    let (_, message) = build_err(&project);
    assert!(
        message.starts_with("Failed to build data:\nsrc/resources/data/data.tsx:1:22: Could not resolve 'canvas-confetti-not-installed'"),
        "{message}"
    );
    assert!(message.ends_with(
        "help: is the package installed? Run: npm install canvas-confetti-not-installed"
    ));
}

#[test]
fn missing_component_export_is_named() {
    let ws = Workspace::new();
    let project = ws.project("error-missing-export");
    let (_, message) = build_err(&project);
    assert_eq!(
        message,
        "No \"ThingResource\" export found in src/resources/thing/thing.tsx. The component of resource \"thing\" must be exported as: export function ThingResource() { ... }"
    );
}

#[test]
fn missing_export_of_an_imported_module_points_at_the_import() {
    let ws = Workspace::new();
    let project = ws.project("json-import");
    fs::write(
        project.join("src/resources/data/lib.ts"),
        "export const there = 1;\n",
    )
    .expect("write");
    fs::write(
        project.join("src/resources/data/data.tsx"),
        "import { notThere } from './lib';\nexport const resource = { title: 'Data' };\nexport function DataResource() { return <p>{notThere}</p>; }\n",
    )
    .expect("write");
    let (err, message) = build_err(&project);
    let BuildError::Bundle { diagnostics, .. } = &err else {
        panic!("unexpected error: {message}");
    };
    let loc = diagnostics[0].location.as_ref().expect("location");
    assert_eq!(
        loc.file,
        std::path::Path::new("src/resources/data/data.tsx")
    );
    assert_eq!((loc.line, loc.column), (1, 10));
    assert!(diagnostics[0].message.contains("notThere"), "{message}");
    assert_eq!(diagnostics[0].code, "MISSING_EXPORT");
}

#[test]
fn missing_resource_export_uses_sunpeaks_message() {
    let ws = Workspace::new();
    let project = ws.project("json-import");
    fs::write(
        project.join("src/resources/data/data.tsx"),
        "export function DataResource() { return <p>x</p>; }\n",
    )
    .expect("write");
    let (_, message) = build_err(&project);
    assert_eq!(
        message,
        "No \"resource\" export found in src/resources/data/data.tsx. Add: export const resource: ResourceConfig = { title: '...', ... };"
    );
}

#[test]
fn missing_placeholder_uses_sunpeaks_message() {
    let ws = Workspace::new();
    let project = ws.project("error-missing-placeholder");
    let (err, message) = build_err(&project);
    assert!(matches!(
        err,
        BuildError::MissingPlaceholder {
            placeholder: "// RESOURCE_MOUNT"
        }
    ));
    assert_eq!(
        message,
        "src/index-resource.tsx is missing \"// RESOURCE_MOUNT\" placeholder\n\nThe template file must include this comment where the resource mount should go.\nIf you have customized this file, ensure it has the required placeholders."
    );
}

#[test]
fn missing_template_is_reported_before_anything_is_built() {
    let ws = Workspace::new();
    let project = ws.project("json-import");
    fs::remove_file(project.join("src/index-resource.tsx")).expect("rm");
    let (err, message) = build_err(&project);
    assert!(matches!(err, BuildError::MissingEntryTemplate { .. }));
    assert!(message.starts_with("src/index-resource.tsx not found\nExpected location: "));
    assert!(
        message.ends_with(
            "If you have moved or renamed it, you may need to use a custom build script."
        )
    );
}

#[test]
fn missing_package_json() {
    let ws = Workspace::new();
    let project = ws.project("json-import");
    fs::remove_file(project.join("package.json")).expect("rm");
    let (err, _) = build_err(&project);
    assert!(matches!(err, BuildError::NoPackageJson { .. }));
}

#[test]
fn invalid_package_json_has_a_location() {
    let ws = Workspace::new();
    let project = ws.project("json-import");
    fs::write(project.join("package.json"), "{\n  \"name\": \"x\",\n}\n").expect("write");
    let (_, message) = build_err(&project);
    assert!(
        message.starts_with("package.json:3:1: invalid package.json: "),
        "{message}"
    );
}

#[test]
fn syntax_error_in_a_tool() {
    let ws = Workspace::new();
    let project = ws.project("alias");
    fs::write(
        project.join("src/tools/greet.ts"),
        "export const tool = { title: 'x' };\nexport default async function () {\n  return { content: [ };\n}\n",
    )
    .expect("write");
    let (err, message) = build_err(&project);
    assert!(matches!(err, BuildError::Bundle { target: Target::Tool(ref t), .. } if t == "greet"));
    assert!(
        message.starts_with("Failed to compile tool greet:\nsrc/tools/greet.ts:3:23: "),
        "{message}"
    );
    assert!(
        message.contains("\n 3 |   return { content: [ };\n"),
        "{message}"
    );
}

#[test]
fn css_syntax_error_has_a_location() {
    let ws = Workspace::new();
    let project = ws.project("css-from-package");
    fs::write(
        project.join("src/resources/card/card.css"),
        ".card-own { color: red; }\n.broken! { color: red; }\n",
    )
    .expect("write");
    let (_, message) = build_err(&project);
    assert_eq!(
        message,
        "Failed to build card: CSS error:\nsrc/resources/card/card.css:2:8: Unexpected token Delim('!')\n 2 | .broken! { color: red; }\n   |        ^"
    );
}

#[test]
fn tailwind_without_its_compiler_names_the_package_to_install() {
    let ws = Workspace::with_packages(&["react", "react-dom", "scheduler"]);
    let project = ws.project("tailwind");
    let (err, message) = build_err(&project);
    assert!(
        matches!(err, BuildError::MissingPackage { ref package, .. } if package == "@tailwindcss/node"),
        "{message}"
    );
    assert!(message.contains("src/styles/globals.css"), "{message}");
    assert!(
        message.ends_with("Run: npm install -D @tailwindcss/node"),
        "{message}"
    );
}

#[test]
fn failed_build_keeps_the_old_dist_and_leaves_nothing_behind() {
    let ws = Workspace::new();
    let project = ws.project("error-syntax");
    fs::create_dir_all(project.join("dist/old")).expect("mkdir");
    fs::write(project.join("dist/old/keep.html"), "old").expect("write");
    build_err(&project);
    assert_eq!(files(&project.join("dist")), ["old/keep.html"]);
    assert_eq!(read(&project.join("dist/old/keep.html")), "old");
    let leftovers: Vec<String> = fs::read_dir(&project)
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

#[test]
fn successful_build_replaces_the_old_dist() {
    let ws = Workspace::new();
    let project = ws.project("json-import");
    fs::create_dir_all(project.join("dist/stale")).expect("mkdir");
    fs::write(project.join("dist/stale/stale.html"), "stale").expect("write");
    build_ok(&project);
    assert_eq!(
        files(&project.join("dist")),
        ["data/data.html", "data/data.json"]
    );
    let leftovers = fs::read_dir(&project)
        .expect("ls")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().starts_with(".dist"))
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn computed_resource_that_throws_reports_the_exception() {
    let ws = Workspace::new();
    let project = ws.project("json-import");
    fs::write(
        project.join("src/resources/data/data.tsx"),
        "function boom(): string { throw new Error('no domain for you'); }\nexport const resource = { title: boom() };\nexport function DataResource() { return <p>x</p>; }\n",
    )
    .expect("write");
    let (err, message) = build_err(&project);
    assert!(matches!(err, BuildError::ResourceEval { .. }), "{message}");
    assert_eq!(
        message,
        "Failed to evaluate the \"resource\" export of src/resources/data/data.tsx: Error: no domain for you"
    );
}

#[test]
fn problems_in_the_entry_template_point_at_it() {
    let ws = Workspace::new();
    let project = ws.project("json-import");
    let template = project.join("src/index-resource.tsx");
    let text = read(&template).replace(
        "import '../src/styles/globals.css';",
        "import '../src/styles/globals.css';\nimport '../src/styles/nope.css';",
    );
    fs::write(&template, text).expect("write");
    let (_, message) = build_err(&project);
    assert!(
        message.starts_with(
            "Failed to build data:\nsrc/index-resource.tsx:2:8: Could not resolve '../src/styles/nope.css' in src/index-resource.tsx\n"
        ),
        "{message}"
    );
    assert!(
        message.contains("\n 2 | import '../src/styles/nope.css';\n"),
        "{message}"
    );
}

#[test]
fn unresolved_import_with_a_suffix_names_the_import() {
    let ws = Workspace::new();
    let project = ws.project("import-suffixes");
    fs::write(
        project.join("src/resources/suffixes/suffixes.tsx"),
        "export const resource = { title: 'S' };\nimport notes from './missing.txt?raw';\nexport function SuffixesResource() { return <p>{notes}</p>; }\n",
    )
    .expect("write");
    let (_, message) = build_err(&project);
    assert_eq!(
        message,
        "Failed to build suffixes:\nsrc/resources/suffixes/suffixes.tsx:2:19: Could not resolve './missing.txt?raw' in src/resources/suffixes/suffixes.tsx\n 2 | import notes from './missing.txt?raw';\n   |                   ^\n  help: check the path and the file extension of the import"
    );
}

#[test]
fn unsupported_vite_query_and_bad_inline_css_name_the_import() {
    let ws = Workspace::new();
    let project = ws.project("import-suffixes");
    let dir = project.join("src/resources/suffixes");
    fs::write(
        dir.join("suffixes.tsx"),
        "import W from './helper.ts?worker';\nexport const resource = { title: 'S' };\nexport function SuffixesResource() { return <p>{String(W)}</p>; }\n",
    )
    .expect("write");
    let (_, message) = build_err(&project);
    assert_eq!(
        message,
        "Failed to build suffixes:\nsrc/resources/suffixes/suffixes.tsx:1:15: Could not load src/resources/suffixes/helper.ts?worker (imported by src/resources/suffixes/suffixes.tsx) - Vite's ?worker imports are not supported by sunpeak build.\n 1 | import W from './helper.ts?worker';\n   |               ^"
    );

    fs::write(dir.join("bad.css"), ".a{color:red}\n.b{{{\n").expect("write");
    fs::write(
        dir.join("suffixes.tsx"),
        "import css from './bad.css?inline';\nexport const resource = { title: 'S' };\nexport function SuffixesResource() { return <p>{css}</p>; }\n",
    )
    .expect("write");
    let (_, message) = build_err(&project);
    assert!(
        message.starts_with("Failed to build suffixes:\nsrc/resources/suffixes/suffixes.tsx:1:17: Could not load src/resources/suffixes/bad.css?inline (imported by src/resources/suffixes/suffixes.tsx) - src/resources/suffixes/bad.css:2:"),
        "{message}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn an_env_file_that_cannot_be_read_fails_the_build_naming_it() {
    let ws = Workspace::new();
    let project = ws.project("vite-env");
    fs::create_dir_all(project.join("dist")).expect("mkdir dist");
    fs::write(project.join("dist/keep.txt"), "old").expect("write");
    // A file whose read fails even for root (tests may run as root, where permissions do not).
    fs::remove_file(project.join(".env.local")).expect("rm");
    std::os::unix::fs::symlink("/proc/self/mem", project.join(".env.local")).expect("symlink");
    let (err, message) = build_err(&project);
    assert!(matches!(err, BuildError::Io { .. }), "{err:?}");
    assert!(
        message.starts_with("Failed to read .env.local: "),
        "{message}"
    );
    assert_eq!(files(&project.join("dist")), ["keep.txt"]);
}
