//! Reproducible builds of a real app: the template that ships inside the npm package `sunpeak`
//! (four resources with React and sunpeak, one of them 2.6 MB of JS; seven tools; a server
//! entry), built ten times with the shared scan and several threads, must give the same bytes
//! in every file of `dist/` every time. A resource's `ui://` id is derived from its bytes: two
//! builds of one commit must serve the same ids.
//!
//! Needs Node.js and npm: the template and its dependencies are installed (once, cached under
//! `~/.cache/sunpeak-rs`) by `tests/support/prepare-template.sh`.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use app_bundler::{BuildOptions, Event};
use support::{files, repo_root};

/// The prepared template (read-only: it is shared by other tests).
fn template() -> PathBuf {
    let script = repo_root().join("tests/support/prepare-template.sh");
    let out = Command::new("bash")
        .arg(&script)
        .env("TEMPLATE_ZOD", "4.4.3")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// A copy of the template's sources with its `node_modules` linked, in a fresh folder.
fn copy_of(template: &Path, dest: &Path) {
    fs::create_dir_all(dest).expect("mkdir");
    for entry in fs::read_dir(template).expect("read template") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        let target = dest.join(&name);
        if name == "node_modules" {
            std::os::unix::fs::symlink(entry.path(), &target).expect("symlink node_modules");
        } else if name != "dist" && name != ".tmp" {
            let status = Command::new("cp")
                .arg("-R")
                .arg(entry.path())
                .arg(&target)
                .status()
                .expect("cp");
            assert!(status.success(), "cp -R {}", entry.path().display());
        }
    }
}

#[test]
fn ten_builds_of_the_template_give_the_same_bytes() {
    let scratch =
        std::env::temp_dir().join(format!("app-bundler-reproducible-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    let project = scratch.join("template");
    copy_of(&template(), &project);

    let runs = 10;
    let first = project.join("dist-1");
    for run in 1..=runs {
        let out = format!("dist-{run}");
        let report = app_bundler::build(
            &BuildOptions::new(&project).out_dir(&out).threads(4),
            &mut |_: Event| {},
        )
        .unwrap_or_else(|e| panic!("build {run} failed:\n{e}"));
        assert!(report.shared_scan, "the shared scan was not used");
        assert_eq!(report.resources.len(), 4, "the template has four resources");
        if run == 1 {
            continue;
        }
        let dist = project.join(&out);
        assert_eq!(files(&first), files(&dist));
        for file in files(&first) {
            let (a, b) = (first.join(&file), dist.join(&file));
            assert!(
                fs::read(&a).expect("read") == fs::read(&b).expect("read"),
                "{file} differs between build 1 and build {run}"
            );
        }
    }
    let _ = fs::remove_dir_all(&scratch);
}
