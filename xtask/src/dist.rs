//! `cargo xtask dist`: release archives of the `sunpeak` binary.
//!
//! For each target triple (the host's unless `--target` is given): `cargo build --profile dist`
//! (thin LTO, one codegen unit, stripped: `[profile.dist]` in the root `Cargo.toml`), then
//! `sunpeak-<version>-<triple>.tar.gz` with one folder of the same name holding `sunpeak`,
//! `README.md`, `LICENSE-MIT` and `LICENSE-APACHE`, and `SHA256SUMS` (the format of
//! `sha256sum -c`) over the archives of this version in the output folder.
//!
//! The archives are reproducible: entries in a fixed order, owner 0, the time of the commit
//! (or `SOURCE_DATE_EPOCH`) on every entry, a gzip header without a time. The same binary
//! gives the same archive bytes.
//!
//! `--check` then tests the host's archive as a user gets it: extracted with `tar` into a clean
//! temporary folder, its `sunpeak --version`, `sunpeak build` on the template app, and
//! `sunpeak start` answering `/health` and `tools/list`. `--bin` packages a binary that is
//! already built instead of building one: the CI test packages the release binary of the test
//! build that way (a `dist` build of the binary takes minutes; see docs/release.md).

use std::fs::{self, File};
use std::io::BufWriter;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use flate2::{Compression, GzBuilder};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::bench::load::{http_request, request_once};
use crate::{paths, proc};

/// The version of the workspace (every package, xtask included, inherits it).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The files next to the binary in every archive, from the workspace root.
const DOCS: [&str; 3] = ["README.md", "LICENSE-MIT", "LICENSE-APACHE"];

/// The binary's name in the archive.
fn binary_name() -> String {
    format!("sunpeak{}", std::env::consts::EXE_SUFFIX)
}

/// Flags of `cargo xtask dist`.
#[derive(Debug, clap::Args)]
pub struct DistArgs {
    /// Build for this target triple (repeatable) [default: the host's]. Each needs its standard
    /// library (`rustup target add <triple>`) and a linker for it.
    #[arg(long = "target", value_name = "TRIPLE")]
    targets: Vec<String>,
    /// The cargo profile to build with: `dist` is what ships; `release` builds faster.
    #[arg(long, default_value = "dist")]
    profile: String,
    /// Package this binary (built for the host) instead of building one.
    #[arg(long, value_name = "PATH", conflicts_with = "targets")]
    bin: Option<PathBuf>,
    /// Where the archives and SHA256SUMS go [default: archives/ in the cargo target dir].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Then extract the host's archive into a clean temporary folder and run its `sunpeak
    /// build` and `sunpeak start` on the template app.
    #[arg(long)]
    check: bool,
}

/// Runs `cargo xtask dist`.
pub fn run(args: DistArgs) -> Result<()> {
    let host = host_triple()?;
    let out = match &args.out {
        Some(out) => out.clone(),
        None => target_dir().join("archives"),
    };
    fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let out = out.canonicalize().unwrap_or(out);
    let mtime = source_date();

    let mut binaries: Vec<(String, PathBuf)> = Vec::new();
    if let Some(bin) = &args.bin {
        binaries.push((host.clone(), bin.clone()));
    } else if args.targets.is_empty() {
        binaries.push((host.clone(), build(&args.profile, None)?));
    } else {
        for triple in &args.targets {
            binaries.push((triple.clone(), build(&args.profile, Some(triple))?));
        }
    }

    let mut host_archive = None;
    for (triple, bin) in &binaries {
        let archive = package(bin, triple, &out, mtime)?;
        println!(
            "{}: {} (binary {})",
            archive.display(),
            size(&archive)?,
            size(bin)?
        );
        if *triple == host {
            host_archive = Some(archive);
        }
    }
    let sums = write_sums(&out)?;
    println!("{}:\n{}", out.join("SHA256SUMS").display(), sums.trim_end());

    if args.check {
        let archive = host_archive.with_context(|| {
            format!("--check runs the archive for this machine ({host}), which was not built")
        })?;
        check(&archive, &host)?;
    }
    Ok(())
}

/// `cargo build --profile <profile> -p sunpeak-cli --bin sunpeak [--target <triple>]`; returns
/// the executable cargo reports.
fn build(profile: &str, target: Option<&str>) -> Result<PathBuf> {
    let mut cmd = Command::new(paths::cargo());
    cmd.current_dir(paths::workspace_root()).args([
        "build",
        "--profile",
        profile,
        "-p",
        "sunpeak-cli",
        "--bin",
        "sunpeak",
        "--message-format=json-render-diagnostics",
    ]);
    if let Some(target) = target {
        cmd.args(["--target", target]);
    }
    println!("$ {}", proc::show(&cmd));
    let started = Instant::now();
    let out = cmd
        .stderr(Stdio::inherit())
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start `{}`", proc::show(&cmd)))?;
    if !out.status.success() {
        bail!("`{}` failed ({})", proc::show(&cmd), out.status);
    }
    println!(
        "built in {:.0} s (0 when it was up to date)",
        started.elapsed().as_secs_f64()
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact" && msg["target"]["name"] == "sunpeak")
        .find_map(|msg| msg["executable"].as_str().map(PathBuf::from))
        .with_context(|| {
            format!(
                "`{}` did not report the sunpeak executable",
                proc::show(&cmd)
            )
        })
}

/// `sunpeak-<version>-<triple>`: the archive's name without `.tar.gz`, and its folder.
pub fn archive_stem(triple: &str) -> String {
    format!("sunpeak-{VERSION}-{triple}")
}

/// Writes `<out>/<stem>.tar.gz` with the binary and [`DOCS`] and returns its path.
pub fn package(bin: &Path, triple: &str, out: &Path, mtime: u64) -> Result<PathBuf> {
    let stem = archive_stem(triple);
    let path = out.join(format!("{stem}.tar.gz"));
    let root = paths::workspace_root();
    let mut files: Vec<(String, Vec<u8>, u32)> = vec![(
        binary_name(),
        fs::read(bin).with_context(|| format!("reading {}", bin.display()))?,
        0o755,
    )];
    for doc in DOCS {
        let file = root.join(doc);
        let bytes = fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        files.push((doc.to_owned(), bytes, 0o644));
    }
    // Written next to the final name and renamed: no half-written archive under that name.
    let partial = out.join(format!(".{stem}.tar.gz.partial"));
    let file = File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let gzip = GzBuilder::new()
        .mtime(0)
        .write(BufWriter::new(file), Compression::default());
    let mut tar = tar::Builder::new(gzip);
    let mut dir = header(tar::EntryType::Directory, 0o755, 0, mtime);
    tar.append_data(&mut dir, format!("{stem}/"), std::io::empty())?;
    for (name, bytes, mode) in &files {
        let mut entry = header(tar::EntryType::Regular, *mode, bytes.len() as u64, mtime);
        tar.append_data(&mut entry, format!("{stem}/{name}"), bytes.as_slice())?;
    }
    let gzip = tar.into_inner()?;
    gzip.finish()?
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()?;
    fs::rename(&partial, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// A ustar header owned by root (0:0, no names) with a fixed time.
fn header(kind: tar::EntryType, mode: u32, size: u64, mtime: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(mtime);
    header.set_uid(0);
    header.set_gid(0);
    header
}

/// Writes `<out>/SHA256SUMS` for every archive of this version in `out`, sorted by name, and
/// returns its text.
pub fn write_sums(out: &Path) -> Result<String> {
    let prefix = format!("sunpeak-{VERSION}-");
    let mut names: Vec<String> = fs::read_dir(out)
        .with_context(|| format!("reading {}", out.display()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(&prefix) && n.ends_with(".tar.gz"))
        .collect();
    names.sort();
    let mut text = String::new();
    for name in names {
        let bytes = fs::read(out.join(&name))?;
        let digest = Sha256::digest(&bytes);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        // sha256sum's format: the digest, two spaces (text mode), the file name.
        text.push_str(&format!("{hex}  {name}\n"));
    }
    fs::write(out.join("SHA256SUMS"), &text)?;
    Ok(text)
}

/// The time on every archive entry: `SOURCE_DATE_EPOCH`, else the commit's time, else 0.
fn source_date() -> u64 {
    if let Some(epoch) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
    {
        return epoch;
    }
    Command::new("git")
        .args(["log", "-1", "--format=%ct"])
        .current_dir(paths::workspace_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(0)
}

/// The host's target triple, from `rustc -vV`.
fn host_triple() -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = succeeded(Command::new(rustc).arg("-vV"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_owned())
        .context("`rustc -vV` named no host triple")
}

/// `$CARGO_TARGET_DIR`, else `<workspace>/target`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => paths::workspace_root().join("target"),
    }
}

fn size(path: &Path) -> Result<String> {
    let bytes = fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    Ok(format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0)))
}

/// A temporary folder, removed when dropped unless the check failed (then it is kept and
/// named, for the logs).
struct Scratch {
    path: PathBuf,
    keep: bool,
}

impl Scratch {
    fn new() -> Result<Self> {
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let path =
            std::env::temp_dir().join(format!("sunpeak-dist-check-{stamp}-{}", std::process::id()));
        fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self { path, keep: true })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("check files kept in {}", self.path.display());
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Extracts `archive` with `tar` into a clean folder and runs the binary from there: its
/// `--version`, `sunpeak build` on a copy of the template app, and `sunpeak start` on the
/// result, which must answer `/health` and list the template's tools.
pub fn check(archive: &Path, triple: &str) -> Result<()> {
    println!("\ncheck: {}", archive.display());
    let mut scratch = Scratch::new()?;
    let work = scratch.path.clone();
    proc::run(
        Command::new("tar")
            .arg("-xzf")
            .arg(archive)
            .arg("-C")
            .arg(&work),
    )?;
    let folder = work.join(archive_stem(triple));
    let mut found: Vec<String> = fs::read_dir(&folder)
        .with_context(|| format!("the archive has no folder {}", archive_stem(triple)))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    found.sort();
    let mut expected: Vec<String> = DOCS.iter().map(|d| (*d).to_owned()).collect();
    expected.push(binary_name());
    expected.sort();
    ensure!(
        found == expected,
        "the archive holds {found:?}, expected {expected:?}"
    );
    let bin = folder.join(binary_name());

    let version = succeeded(Command::new(&bin).arg("--version"))?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    println!("{version}");
    ensure!(
        version.starts_with(&format!("sunpeak {VERSION}")),
        "`sunpeak --version` printed {version:?}, expected `sunpeak {VERSION} ...`"
    );

    let template = template()?;
    let app = work.join("app");
    proc::run(Command::new("cp").arg("-a").arg(&template).arg(&app))?;
    let started = Instant::now();
    proc::run(Command::new(&bin).arg("build").current_dir(&app))?;
    println!("sunpeak build: {:.1} s", started.elapsed().as_secs_f64());
    let tools = built_tools(&app.join("dist"))?;
    ensure!(!tools.is_empty(), "sunpeak build wrote no dist/tools/*.js");

    let port = proc::free_port()?;
    let mut cmd = Command::new(&bin);
    cmd.args(["start", "--host", "127.0.0.1", "--port", &port.to_string()])
        .current_dir(&app);
    let mut server = proc::Server::spawn("sunpeak start", cmd, &work.join("start.log"))?;
    server.wait_ready(port, Duration::from_secs(60))?;
    let listed = serve_checks(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .with_context(|| format!("sunpeak start; its log:\n{}", server.log_tail(40)))?;
    ensure!(
        listed == tools,
        "tools/list named {listed:?}, dist/tools has {tools:?}"
    );
    server.stop();
    println!(
        "check passed: --version, build, /health and tools/list ({} tools)",
        listed.len()
    );
    scratch.keep = false;
    Ok(())
}

/// The template app of the npm package, prepared (and cached) by
/// `tests/support/prepare-template.sh`; zod pinned as `cargo xtask bench` pins it.
fn template() -> Result<PathBuf> {
    let script = paths::workspace_root().join("tests/support/prepare-template.sh");
    let out = succeeded(
        Command::new("bash")
            .arg(&script)
            .env("TEMPLATE_ZOD", "4.4.3"),
    )?;
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// The output of `cmd`, which must exit 0 (else its stderr is in the error).
fn succeeded(cmd: &mut Command) -> Result<std::process::Output> {
    let out = proc::output(cmd)?;
    if !out.status.success() {
        bail!(
            "`{}` failed ({}):\n{}",
            proc::show(cmd),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out)
}

/// The names of `dist/tools/*.js`, sorted: the tools `sunpeak start` serves.
fn built_tools(dist: &Path) -> Result<Vec<String>> {
    let dir = dist.join("tools");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".js").map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

/// `GET /health` must be 200 with `"status":"ok"`; then a session lists the tools, whose names
/// are returned sorted.
fn serve_checks(addr: SocketAddr) -> Result<Vec<String>> {
    let (status, _, body) = request_once(addr, &http_request("GET", "/health", addr, &[], b""))?;
    let health: Value = serde_json::from_slice(&body).context("/health is not JSON")?;
    ensure!(
        status == 200 && health["status"] == "ok",
        "/health answered {status} {health}"
    );

    let initialize = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},
        "clientInfo":{"name":"xtask-dist-check","version":VERSION}}});
    let (status, headers, body) = request_once(addr, &mcp_post(addr, &initialize, None))?;
    ensure!(
        status == 200,
        "initialize: HTTP {status}: {}",
        String::from_utf8_lossy(&body)
    );
    let session = headers
        .iter()
        .find(|(name, _)| name == "mcp-session-id")
        .map(|(_, value)| value.clone());
    let initialized = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    request_once(addr, &mcp_post(addr, &initialized, session.as_deref()))?;
    let list = json!({"jsonrpc":"2.0","id":2,"method":"tools/list"});
    let (status, _, body) = request_once(addr, &mcp_post(addr, &list, session.as_deref()))?;
    let reply = reply_json(&body)?;
    ensure!(status == 200, "tools/list: HTTP {status}: {reply}");
    let mut names: Vec<String> = reply["result"]["tools"]
        .as_array()
        .with_context(|| format!("tools/list: no result.tools in {reply}"))?
        .iter()
        .filter_map(|tool| tool["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

fn mcp_post(addr: SocketAddr, body: &Value, session: Option<&str>) -> Vec<u8> {
    let mut headers = vec![
        ("Content-Type", "application/json".to_owned()),
        ("Accept", "application/json, text/event-stream".to_owned()),
        ("Connection", "close".to_owned()),
    ];
    if let Some(session) = session {
        headers.push(("Mcp-Session-Id", session.to_owned()));
        headers.push(("Mcp-Protocol-Version", "2025-11-25".to_owned()));
    }
    http_request("POST", "/mcp", addr, &headers, body.to_string().as_bytes())
}

/// A JSON body, or the first `data:` of an SSE body.
fn reply_json(body: &[u8]) -> Result<Value> {
    let text = String::from_utf8_lossy(body);
    if let Ok(value) = serde_json::from_str(&text) {
        return Ok(value);
    }
    let data = text
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(str::trim)
        .find(|data| !data.is_empty())
        .with_context(|| format!("the reply is neither JSON nor SSE: {text}"))?;
    Ok(serde_json::from_str(data)?)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// A scratch folder for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "xtask-dist-{name}-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        fs::create_dir_all(&dir).expect("mkdir");
        dir
    }

    /// The entries of a `.tar.gz`: (path, mode, owner, mtime, contents).
    fn entries(archive: &Path) -> Vec<(String, u32, u64, u64, Vec<u8>)> {
        let file = File::open(archive).expect("open archive");
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
        tar.entries()
            .expect("entries")
            .map(|entry| {
                let mut entry = entry.expect("entry");
                let header = entry.header().clone();
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).expect("read entry");
                (
                    entry.path().expect("path").to_string_lossy().into_owned(),
                    header.mode().expect("mode"),
                    header.uid().expect("uid"),
                    header.mtime().expect("mtime"),
                    bytes,
                )
            })
            .collect()
    }

    #[test]
    fn an_archive_holds_the_binary_and_the_docs_in_one_folder_and_is_reproducible() {
        let dir = scratch("archive");
        let bin = dir.join("fake-binary");
        fs::write(&bin, b"\x7fELF not really").expect("write");
        let (one, two) = (dir.join("one"), dir.join("two"));
        for out in [&one, &two] {
            fs::create_dir_all(out).expect("mkdir");
            package(&bin, "x86_64-unknown-linux-gnu", out, 1_700_000_000).expect("package");
        }
        let name = format!("sunpeak-{VERSION}-x86_64-unknown-linux-gnu.tar.gz");
        let (a, b) = (one.join(&name), two.join(&name));
        assert_eq!(fs::read(&a).expect("a"), fs::read(&b).expect("b"));

        let stem = archive_stem("x86_64-unknown-linux-gnu");
        let list = entries(&a);
        let paths: Vec<&str> = list.iter().map(|e| e.0.as_str()).collect();
        let bin_name = binary_name();
        assert_eq!(
            paths,
            [
                format!("{stem}/"),
                format!("{stem}/{bin_name}"),
                format!("{stem}/README.md"),
                format!("{stem}/LICENSE-MIT"),
                format!("{stem}/LICENSE-APACHE"),
            ]
        );
        assert_eq!(list[1].1, 0o755);
        assert_eq!(list[1].4, b"\x7fELF not really");
        assert_eq!(list[2].1, 0o644);
        let readme = fs::read(paths::workspace_root().join("README.md")).expect("README");
        assert_eq!(list[2].4, readme);
        assert!(list.iter().all(|e| e.2 == 0 && e.3 == 1_700_000_000));
        assert!(!one.join(format!(".{stem}.tar.gz.partial")).exists());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn sha256sums_lists_this_versions_archives_as_sha256sum_does() {
        let dir = scratch("sums");
        fs::write(dir.join(format!("sunpeak-{VERSION}-b.tar.gz")), b"abc").expect("write");
        fs::write(dir.join(format!("sunpeak-{VERSION}-a.tar.gz")), b"").expect("write");
        fs::write(dir.join("sunpeak-0.0.0-old-a.tar.gz"), b"old").expect("write");
        fs::write(dir.join("notes.txt"), b"x").expect("write");
        let text = write_sums(&dir).expect("sums");
        assert_eq!(
            text,
            format!(
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  sunpeak-{VERSION}-a.tar.gz\n\
                 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  sunpeak-{VERSION}-b.tar.gz\n"
            )
        );
        assert_eq!(
            fs::read_to_string(dir.join("SHA256SUMS")).expect("read"),
            text
        );
        let _ = fs::remove_dir_all(&dir);
    }

    /// What `cargo xtask dist --check` does, on the release binary the tests use (CI builds no
    /// `dist` profile: its LTO build of the binary takes minutes), packaged by the same code.
    #[test]
    fn the_archived_binary_builds_and_serves_the_template_from_a_clean_folder() {
        let bin = match std::env::var_os("SUNPEAK_BIN") {
            Some(bin) => PathBuf::from(bin),
            None => proc::cargo_build_bin("sunpeak-cli", "sunpeak", true).expect("build sunpeak"),
        };
        let out = scratch("check");
        let triple = host_triple().expect("host triple");
        let archive = package(&bin, &triple, &out, 0).expect("package");
        write_sums(&out).expect("sums");
        check(&archive, &triple).unwrap_or_else(|e| panic!("{e:#}"));
        let _ = fs::remove_dir_all(&out);
    }
}
