//! Several resources bundled from one scan of their modules.
//!
//! Every resource of a sunpeak project imports React, react-dom and sunpeak. Bundled one by
//! one, each resource reads, parses, transforms and analyses those modules again: on the
//! template that is most of a small resource's scan time. Here rolldown scans the module graph
//! of all entries at once (each module once, in parallel), and then each resource is linked,
//! generated and minified on its own copy of the scanned modules, with only its own entry.
//!
//! A copy still holds the modules that only other resources import ("foreign" modules). The
//! copy is made to look like the scan of its resource alone: foreign modules lose their import
//! edges (so that nothing they import, wrap or merge leaks into the link stage), their ASTs are
//! not copied, and the importer lists of the resource's modules keep only its own modules. One
//! thing cannot be cut apart: which exports of a dynamically imported module are used is
//! recorded per module, not per importer, so a resource that dynamically imports a module that
//! a foreign module also imports dynamically is bundled on its own. The tests compare the
//! output with bundles of each resource alone, byte for byte.
//!
//! Anything unusual (a build error, an unresolved import, a panic inside rolldown) returns
//! `None`, and the caller bundles each resource on its own, which reports errors per resource.

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rolldown::{BundleFactory, BundleFactoryOptions};
use rolldown_common::{AstScopes, BundleMode, Module, ModuleIdx, ModuleTable, ScanMode};
use rolldown_plugin::__inner::SharedPluginable;

use super::{
    BrowserBundle, BrowserContext, CssCollector, ImportSuffixes, VirtualEntry, browser_options,
    bundle_browser, entry_chunk, unresolved_imports,
};

/// Bundles every `(entry id, entry code)` as [`bundle_browser`] does, scanning the modules
/// they share once; up to `parallel` resources are linked and generated at once, the largest
/// first. Returns the bundles in the order of `entries`, or `None` when the caller should
/// bundle each entry on its own (a build error, an unresolved import, a panic in rolldown).
pub(crate) async fn bundle_browser_shared(
    root: &Path,
    entries: Vec<(PathBuf, String)>,
    parallel: usize,
    context: &BrowserContext,
) -> Option<Vec<BrowserBundle>> {
    let started = Instant::now();
    let entries: Vec<(String, String)> = entries
        .into_iter()
        .map(|(id, code)| (id.to_string_lossy().into_owned(), code))
        .collect();
    let ids: Vec<String> = entries.iter().map(|(id, _)| id.clone()).collect();
    let css = Arc::new(CssCollector::default());
    let plugins: Vec<SharedPluginable> = vec![
        Arc::new(ImportSuffixes::new(context.inline_css.clone())),
        Arc::new(VirtualEntry::new(entries.iter().cloned())),
        css.clone(),
    ];
    let mut factory = BundleFactory::new(BundleFactoryOptions {
        bundler_options: browser_options(root, &ids, &context.env),
        plugins,
        session: None,
        disable_tracing_setup: true,
    })
    .ok()?;
    let mut scan = factory
        .create_bundle(BundleMode::FullBuild, None)
        .ok()?
        .scan_modules(ScanMode::Full)
        .await
        .ok()?;
    if !unresolved_imports(std::mem::take(&mut scan.warnings)).is_empty() {
        return None;
    }
    tracing::debug!(
        scan_ms = started.elapsed().as_millis() as u64,
        modules = scan.module_table.modules.len(),
        "scanned the modules of all resources"
    );

    // Modules every copy keeps the AST of: the runtime, and modules whose code rolldown
    // generates in the link stage (JSON, data URLs), which it does for all modules.
    let mut keep_ast: HashSet<ModuleIdx> = scan
        .module_table
        .modules
        .iter_enumerated()
        .filter(|(_, m)| m.as_normal().is_some_and(|m| m.meta.has_lazy_export()))
        .map(|(idx, _)| idx)
        .collect();
    keep_ast.insert(scan.runtime.id());

    let mut jobs = Vec::with_capacity(ids.len());
    for (index, id) in ids.iter().enumerate() {
        let entry = scan
            .entry_points
            .iter()
            .find(|e| e.kind.is_user_defined() && scan.module_table[e.idx].id().as_str() == id)?
            .idx;
        let reachable = reachable_from(&scan.module_table, entry);
        let table = &scan.module_table;
        let own = |m: &ModuleIdx| reachable.contains(m);
        let alone = reachable
            .iter()
            .filter_map(|idx| table[*idx].as_normal())
            .any(|m| !m.dynamic_importers_idx.iter().all(own));
        jobs.push(Job {
            index,
            entry,
            entry_id: id.clone(),
            weight: reachable
                .iter()
                .filter_map(|idx| table[*idx].as_normal())
                .map(|m| m.source.len())
                .sum(),
            ids: reachable
                .iter()
                .map(|idx| table[*idx].id().as_str().to_owned())
                .collect(),
            reachable,
            alone,
            bundle: factory.create_bundle(BundleMode::FullBuild, None).ok()?,
        });
    }
    // The largest first, so that it is not left running alone on one core at the end.
    jobs.sort_by_key(|j| std::cmp::Reverse(j.weight));
    let alone: Vec<usize> = jobs.iter().filter(|j| j.alone).map(|j| j.index).collect();
    jobs.retain(|j| !j.alone);

    let count = ids.len();
    // The queue and the scan under one lock: a job takes its copy as it leaves the queue, and
    // the last one takes the scan itself.
    let state = Arc::new(tokio::sync::Mutex::new((VecDeque::from(jobs), Some(scan))));
    let workers: Vec<_> = (0..parallel.clamp(1, count))
        .map(|_| {
            let (state, css, keep_ast) = (state.clone(), css.clone(), keep_ast.clone());
            // A thread of its own per worker. As a task on the runtime, a worker woken by the
            // other one (the lock) would wait in the waker's thread-local slot, which no other
            // thread takes from, until the waker's whole generate step is done: the workers
            // would take turns instead of running side by side.
            let runtime = tokio::runtime::Handle::current();
            // Written out here rather than in functions: rolldown does not export the type of
            // the scan result by name, so only code that infers it can use it.
            tokio::task::spawn_blocking(move || {
                runtime.block_on(async move {
                    let mut done = Vec::new();
                    loop {
                        let mut guard = state.lock().await;
                        let (queue, scan) = &mut *guard;
                        let Some(job) = queue.pop_front() else {
                            break;
                        };
                        let copy_started = Instant::now();
                        let mut copy = if queue.is_empty() {
                            scan.take()?
                        } else {
                            let scan = scan.as_mut()?;
                            // `make_copy` clones the ASTs (with their semantic ids; those of
                            // foreign modules are set aside meanwhile) and the symbols, but not
                            // their scopes, which rolldown's incremental builds put back after
                            // a build: we clone them.
                            let mut parked = Vec::new();
                            for (idx, ast) in scan.index_ecma_ast.iter_mut_enumerated() {
                                if !job.reachable.contains(&idx)
                                    && !keep_ast.contains(&idx)
                                    && let Some(ast) = ast.take()
                                {
                                    parked.push((idx, ast));
                                }
                            }
                            let mut copy = scan.make_copy();
                            for (idx, ast) in parked {
                                scan.index_ecma_ast[idx] = Some(ast);
                            }
                            for (idx, _) in scan.module_table.modules.iter_enumerated() {
                                if let (Some(from), Some(to)) =
                                    (&scan.symbol_ref_db[idx], copy.symbol_ref_db[idx].as_mut())
                                {
                                    to.ast_scopes = AstScopes::new(
                                        from.ast_scopes
                                            .scoping()
                                            .clone_in_with_semantic_ids_with_another_arena(),
                                    );
                                }
                            }
                            copy
                        };
                        drop(guard);
                        let copied = copy_started.elapsed();

                        let Job {
                            index,
                            entry,
                            entry_id,
                            reachable,
                            ids,
                            mut bundle,
                            ..
                        } = job;
                        copy.entry_points.retain(|e| {
                            if e.kind.is_user_defined() {
                                e.idx == entry
                            } else {
                                reachable.contains(&e.idx)
                            }
                        });
                        for e in &mut copy.entry_points {
                            e.related_stmt_infos
                                .retain(|(importer, ..)| reachable.contains(importer));
                        }
                        copy.user_defined_entry_modules.retain(|m| *m == entry);
                        isolate(&mut copy.module_table, &reachable, &ids);

                        let output = bundle.bundle_generate(copy).await.ok()?;
                        let code = entry_chunk(output.assets)?;
                        tracing::debug!(
                            index,
                            copy_ms = copied.as_millis() as u64,
                            generate_ms = (copy_started.elapsed() - copied).as_millis() as u64,
                            "generated a resource from the shared scan"
                        );
                        let css = css.in_order(&entry_id);
                        done.push((index, BrowserBundle { code, css }));
                    }
                    Some(done)
                })
            })
        })
        .collect();

    let mut bundles: Vec<Option<BrowserBundle>> = (0..count).map(|_| None).collect();
    for index in alone {
        let (id, code) = entries.get(index)?.clone();
        bundles[index] = Some(
            bundle_browser(root, Path::new(&id), code, context)
                .await
                .ok()?,
        );
    }
    for worker in workers {
        for (index, bundle) in worker.await.ok()?? {
            bundles[index] = Some(bundle);
        }
    }
    bundles.into_iter().collect()
}

/// One resource: its entry module, the modules it reaches (and their ids), and the bundle
/// that links and generates it.
struct Job {
    index: usize,
    entry: ModuleIdx,
    /// The id of `entry`.
    entry_id: String,
    reachable: HashSet<ModuleIdx>,
    ids: HashSet<String>,
    /// Total source size of its modules: the largest go first.
    weight: usize,
    /// Whether it must be bundled on its own (see the module documentation).
    alone: bool,
    bundle: rolldown::Bundle,
}

/// The modules `entry` imports, directly or not, by any kind of import: the modules a bundle
/// of that entry alone loads.
fn reachable_from(table: &ModuleTable, entry: ModuleIdx) -> HashSet<ModuleIdx> {
    let mut seen = HashSet::new();
    let mut stack = vec![entry];
    while let Some(idx) = stack.pop() {
        if !seen.insert(idx) {
            continue;
        }
        if let Some(module) = table[idx].as_normal() {
            stack.extend(
                module
                    .import_records
                    .iter()
                    .filter_map(|r| r.resolved_module),
            );
        }
    }
    seen
}

/// Makes a copy's module table look like the scan of `reachable` alone: foreign modules import
/// nothing (rolldown's link stage looks at every module's imports to decide how the imported
/// modules are wrapped and their namespaces merged), and the importer lists of the reachable
/// modules name only reachable modules.
fn isolate(table: &mut ModuleTable, reachable: &HashSet<ModuleIdx>, ids: &HashSet<String>) {
    for (idx, module) in table.modules.iter_mut_enumerated() {
        let Module::Normal(m) = module else {
            continue;
        };
        if reachable.contains(&idx) {
            m.importers.retain(|id| ids.contains(id.as_str()));
            m.importers_idx.retain(|i| reachable.contains(i));
            m.dynamic_importers.retain(|id| ids.contains(id.as_str()));
            m.dynamic_importers_idx.retain(|i| reachable.contains(i));
        } else {
            for record in m.import_records.iter_mut() {
                record.resolved_module = None;
            }
        }
    }
}
