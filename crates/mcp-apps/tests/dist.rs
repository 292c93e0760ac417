//! Reading `package.json` and the resources of a `dist/` from disk.

use std::fs;
use std::path::{Path, PathBuf};

use mcp_apps::{DistError, PackageInfo, load_resources};

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "mcp-apps-dist-{tag}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
        ));
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

#[test]
fn resources_in_byte_order_with_defaults() {
    let tmp = TempDir::new("order");
    let dist = tmp.0.join("dist");
    write(
        &dist.join("review/review.json"),
        r#"{"title":"Review","description":"d","_meta":{"ui":{}},"name":"review","uri":"ui://review-x"}"#,
    );
    write(&dist.join("review/review.html"), "<html>r</html>");
    write(&dist.join("albums/albums.json"), "{}");
    write(&dist.join("albums/albums.html"), "<html>a</html>");
    // Incomplete, skipped.
    write(&dist.join("half/half.json"), "{}");
    // Reserved names, skipped.
    write(&dist.join("tools/tools.json"), "{}");
    write(&dist.join("tools/tools.html"), "");
    write(&dist.join("build-output/build-output.json"), "{}");
    write(&dist.join("build-output/build-output.html"), "");

    let resources = load_resources(&dist).unwrap();
    let names: Vec<&str> = resources.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["albums", "review"]);
    assert_eq!(resources[0].uri, "ui://albums");
    assert_eq!(resources[0].title, None);
    assert_eq!(resources[0].html, "<html>a</html>");
    assert_eq!(resources[1].uri, "ui://review-x");
    assert_eq!(resources[1].title.as_deref(), Some("Review"));
    assert_eq!(resources[1].description.as_deref(), Some("d"));
    assert_eq!(resources[1].meta, Some(serde_json::json!({"ui": {}})));
}

#[test]
fn missing_dist_and_bad_json_are_clear_errors() {
    let tmp = TempDir::new("errors");
    let err = load_resources(&tmp.0.join("dist")).unwrap_err();
    assert!(matches!(err, DistError::NoDist(_)));
    assert_eq!(
        err.to_string(),
        "No dist/ directory found. Run `sunpeak build` first."
    );

    let dist = tmp.0.join("dist");
    write(&dist.join("a/a.json"), "{\"name\": ");
    write(&dist.join("a/a.html"), "");
    let err = load_resources(&dist).unwrap_err().to_string();
    assert!(err.contains("a.json: invalid JSON"), "{err}");
    assert!(err.contains("line 1"), "{err}");

    write(&dist.join("a/a.json"), r#"{"uri": 5}"#);
    let err = load_resources(&dist).unwrap_err().to_string();
    assert!(err.ends_with("`uri` must be a string"), "{err}");
}

#[test]
fn package_json() {
    let tmp = TempDir::new("pkg");
    assert!(matches!(
        PackageInfo::read(&tmp.0),
        Err(DistError::NoPackageJson(_))
    ));
    write(
        &tmp.0.join("package.json"),
        r#"{"name":"app","version":"1.2.3","private":true}"#,
    );
    let pkg = PackageInfo::read(&tmp.0).unwrap();
    assert_eq!(pkg.name.as_deref(), Some("app"));
    assert_eq!(pkg.version.as_deref(), Some("1.2.3"));
    write(&tmp.0.join("package.json"), "[]");
    assert!(PackageInfo::read(&tmp.0).is_err());
}

#[test]
fn invalid_utf8_html_does_not_fail() {
    let tmp = TempDir::new("utf8");
    let dist = tmp.0.join("dist");
    write(&dist.join("a/a.json"), "{}");
    fs::write(dist.join("a/a.html"), b"<p>\xff</p>").unwrap();
    let resources = load_resources(&dist).unwrap();
    assert_eq!(resources[0].html, "<p>\u{fffd}</p>");
}
