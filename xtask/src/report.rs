//! Named, timed steps and the closing summary of `cargo xtask test`.

use std::time::Instant;

use anyhow::Result;

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Passed,
    Failed,
    Skipped,
}

#[derive(Debug)]
struct Row {
    name: String,
    status: Status,
    secs: f64,
    note: String,
}

/// The steps run so far, in order, with their durations.
#[derive(Debug, Default)]
pub struct Report {
    rows: Vec<Row>,
}

impl Report {
    /// Runs one step: prints a banner, times it and records the outcome. `f` returns a short note
    /// for the summary (e.g. a test count). A failure is returned with the step's name attached.
    pub fn step(&mut self, name: &str, f: impl FnOnce() -> Result<String>) -> Result<()> {
        println!("\n==> [{name}]");
        let start = Instant::now();
        let result = f();
        let secs = start.elapsed().as_secs_f64();
        match result {
            Ok(note) => {
                println!("<== [{name}] ok in {secs:.1}s{}", prefixed(&note));
                self.rows.push(Row {
                    name: name.to_string(),
                    status: Status::Passed,
                    secs,
                    note,
                });
                Ok(())
            }
            Err(err) => {
                println!("<== [{name}] FAILED after {secs:.1}s");
                self.rows.push(Row {
                    name: name.to_string(),
                    status: Status::Failed,
                    secs,
                    note: String::new(),
                });
                Err(err.context(format!("step `{name}` failed")))
            }
        }
    }

    /// Records a step that was not run, with the reason.
    pub fn skip(&mut self, name: &str, why: &str) {
        println!("\n--- [{name}] skipped: {why}");
        self.rows.push(Row {
            name: name.to_string(),
            status: Status::Skipped,
            secs: 0.0,
            note: why.to_string(),
        });
    }

    /// Prints the summary table; its last line is `steps: N passed, M failed`.
    pub fn print_summary(&self, total_secs: f64) {
        let width = self.rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
        println!("\n==> summary");
        for row in &self.rows {
            let status = match row.status {
                Status::Passed => "ok  ",
                Status::Failed => "FAIL",
                Status::Skipped => "skip",
            };
            println!(
                "  {status}  {:<width$}  {:>7.1}s{}",
                row.name,
                row.secs,
                prefixed(&row.note)
            );
        }
        let count = |s| self.rows.iter().filter(|r| r.status == s).count();
        let skipped = count(Status::Skipped);
        println!("  total {total_secs:.1}s");
        let skipped = if skipped > 0 {
            format!(", {skipped} skipped")
        } else {
            String::new()
        };
        println!(
            "steps: {} passed, {} failed{skipped}",
            count(Status::Passed),
            count(Status::Failed)
        );
    }
}

fn prefixed(note: &str) -> String {
    if note.is_empty() {
        String::new()
    } else {
        format!("  ({note})")
    }
}
