//! End-to-end compile benchmark: generated `.route` source in memory → `routec::analyze`
//! (load, parse, check) → `routec::emit` → `routec::emit::stream`, the one YAML string
//! `routec build` writes.
//!
//! For N = 100, 1,000 and 10,000 services (each with two subsets, accepted methods, a
//! timeout, retries, a header rule and a 90/10 split), once as one file and once as ten
//! files of N/10 services, it prints a Markdown table of: the median wall time over
//! several runs and its split between analyze and emit (emit includes the stream), the
//! YAML size and throughput, nanoseconds and allocations per service (flat when cost is
//! linear in N), the peak heap of a compile and the part the `Analysis` keeps. At the
//! end it prints the process's peak RSS (VmHWM).
//!
//! Heap use comes from a counting global allocator around `System`. Its atomic updates
//! cost about a fifth of the compile time, so each size first runs one counted compile
//! (which is also the warm-up), with the peak reset to the live bytes at its start, then
//! the timed compiles with counting off. The generated input, made before the counted
//! run, is not counted: it stands for the file on disk. Drop time is not measured.
//!
//! Every run must compile without errors and yield 2×N documents (a DestinationRule and
//! a VirtualService per service), or the benchmark panics rather than time a failure.
//!
//! Run: `cargo bench --bench compile`; restrict N with `cargo bench --bench compile -- 10000`
//! (several sizes may be given; libtest-style flags such as `--bench` are ignored).
//! Target: N = 10,000 (about 10 MB of YAML) in under 100 ms and 100 MiB.

use std::alloc::{GlobalAlloc, Layout};
use std::collections::HashMap;
use std::hint::black_box;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use routec::FileLoader;

/// `System`, counting (while `COUNTING` is on) the allocations and the net bytes
/// allocated, with their high-water mark. The byte counters are signed and only their
/// differences within one counted run mean anything: blocks allocated before the run
/// may be freed during it.
struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static CURRENT: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    if COUNTING.load(Relaxed) {
        ALLOCATIONS.fetch_add(1, Relaxed);
        let bytes = bytes as isize;
        let now = CURRENT.fetch_add(bytes, Relaxed) + bytes;
        PEAK.fetch_max(now, Relaxed);
    }
}

fn shrank(bytes: usize) {
    if COUNTING.load(Relaxed) {
        CURRENT.fetch_sub(bytes as isize, Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to `System`; the counters only observe.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { mimalloc::MiMalloc.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        new
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

const SIZES: [usize; 3] = [100, 1_000, 10_000];
const TARGET_N: usize = 10_000;
const TARGET_TIME: Duration = Duration::from_millis(100);
const TARGET_HEAP: usize = 100 << 20;

/// Serves the generated files from memory, as the disk would: a fresh copy per read.
struct MemoryLoader(HashMap<PathBuf, String>);

impl FileLoader for MemoryLoader {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.0
            .get(path)
            .map(|text| text.as_bytes().to_vec())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, path.display().to_string()))
    }
}

/// `services` services spread evenly over `files` files, each file in namespace `bench`.
fn workload(services: usize, files: usize) -> (Vec<PathBuf>, MemoryLoader) {
    let per_file = services / files;
    assert_eq!(
        per_file * files,
        services,
        "N must split evenly over the files"
    );
    let mut roots = Vec::with_capacity(files);
    let mut texts = HashMap::with_capacity(files);
    for f in 0..files {
        let mut text = String::with_capacity(per_file * 260 + 32);
        text.push_str("namespace bench\n");
        for i in f * per_file..(f + 1) * per_file {
            text.push_str(&service(i));
        }
        let path = PathBuf::from(format!("bench/part-{f:02}.route"));
        roots.push(path.clone());
        texts.insert(path, text);
    }
    (roots, MemoryLoader(texts))
}

fn service(i: usize) -> String {
    format!(
        r#"
service svc-{i} {{
  subset v1, v2
  accepts GET, HEAD
  timeout 3s
  retry 2 x 1s on 5xx, reset, connect-failure
  routes {{
    when header x-canary == "true" -> v2
    else -> v1 90%, v2 10%
  }}
}}
"#
    )
}

/// One compile, timed; with its heap use when it was counted.
struct Run {
    analyze: Duration,
    emit: Duration,
    yaml_bytes: usize,
    heap: Option<HeapUse>,
}

struct HeapUse {
    /// The most the heap grew at any point of the compile.
    peak: usize,
    /// What the `Analysis` still holds once `analyze` returns.
    analysis: usize,
    allocations: usize,
}

impl Run {
    fn total(&self) -> Duration {
        self.analyze + self.emit
    }
}

fn compile_once(services: usize, roots: &[PathBuf], loader: &MemoryLoader, count: bool) -> Run {
    let allocations = ALLOCATIONS.load(Relaxed);
    let baseline = CURRENT.load(Relaxed);
    PEAK.store(baseline, Relaxed);
    COUNTING.store(count, Relaxed);

    let start = Instant::now();
    let analysis = routec::analyze(black_box(roots), loader).expect("every root is in memory");
    let analyzed = Instant::now();
    let after_analyze = CURRENT.load(Relaxed);
    let documents = routec::emit(&analysis);
    let yaml = documents.as_deref().map(routec::emit::stream);
    let emitted = Instant::now();

    COUNTING.store(false, Relaxed);
    let heap = count.then(|| HeapUse {
        peak: (PEAK.load(Relaxed) - baseline).max(0) as usize,
        analysis: (after_analyze - baseline).max(0) as usize,
        allocations: ALLOCATIONS.load(Relaxed) - allocations,
    });
    let errors: Vec<_> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(
        errors.is_empty(),
        "the generated program has errors: {errors:#?}"
    );
    let documents = documents.expect("a program without errors emits");
    assert_eq!(
        documents.len(),
        2 * services,
        "one DestinationRule and one VirtualService per service"
    );
    let yaml = black_box(yaml.expect("emitted documents stream"));
    Run {
        analyze: analyzed - start,
        emit: emitted - analyzed,
        yaml_bytes: yaml.len(),
        heap,
    }
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

/// Sizes given on the command line, or all of them; flags (`--bench`) are ignored.
fn sizes() -> Vec<usize> {
    let chosen: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .filter_map(|arg| arg.replace(['_', ','], "").parse().ok())
        .collect();
    if chosen.is_empty() {
        SIZES.to_vec()
    } else {
        chosen
    }
}

fn peak_rss() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line["VmHWM:".len()..].trim().to_string())
}

fn main() {
    println!(
        "| N | files | runs | median (ms) | analyze (ms) | emit (ms) | YAML (MB) | MB/s \
         | ns/service | allocs/service | peak heap (MiB) | held by Analysis (MiB) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut verdicts = Vec::new();
    for n in sizes() {
        for files in [1, 10] {
            if n % files != 0 || n == 0 {
                continue;
            }
            let (roots, loader) = workload(n, files);
            let runs = if n <= 1_000 { 7 } else { 5 };
            // Counted, untimed: also the warm-up (page faults, lazy statics).
            let heap = compile_once(n, &roots, &loader, true)
                .heap
                .expect("a counted run");
            let timed: Vec<Run> = (0..runs)
                .map(|_| compile_once(n, &roots, &loader, false))
                .collect();

            let total = median(timed.iter().map(Run::total).collect());
            let analyze = median(timed.iter().map(|r| r.analyze).collect());
            let emit = median(timed.iter().map(|r| r.emit).collect());
            let yaml_bytes = timed[0].yaml_bytes;
            println!(
                "| {n} | {files} | {runs} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} | {:.0} | {:.1} | {:.1} |",
                ms(total),
                ms(analyze),
                ms(emit),
                yaml_bytes as f64 / 1e6,
                yaml_bytes as f64 / 1e6 / total.as_secs_f64(),
                total.as_nanos() as f64 / n as f64,
                heap.allocations as f64 / n as f64,
                mib(heap.peak),
                mib(heap.analysis),
            );
            if n == TARGET_N {
                let pass = total < TARGET_TIME && heap.peak < TARGET_HEAP;
                verdicts.push(format!(
                    "N = {n}, {files} file(s): {:.1} ms, {:.1} MiB peak heap: {}",
                    ms(total),
                    mib(heap.peak),
                    if pass {
                        "meets the target (< 100 ms, < 100 MiB)"
                    } else {
                        "MISSES the target (< 100 ms, < 100 MiB)"
                    }
                ));
            }
        }
    }
    println!();
    for verdict in verdicts {
        println!("{verdict}");
    }
    match peak_rss() {
        Some(rss) => println!("peak RSS of the process (VmHWM): {rss}"),
        None => println!("peak RSS of the process: unavailable (no /proc/self/status)"),
    }
}
