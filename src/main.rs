//! The `routec` command line: arguments, reading files, rendering, writing, exit codes.
//!
//! Exit status: 0 when the input is clean (warnings allowed), 1 when it has errors,
//! 2 for usage or I/O errors. Diagnostics go to stderr (or stdout for `check --format
//! json|sarif`); YAML goes to stdout or, with `-o DIR`, into DIR, which is replaced as a
//! whole only once everything has been written beside it.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use routec::diagnostics::render::{self, Style};
use routec::{Analysis, Code, FsLoader, Severity};

#[derive(Parser)]
#[command(
    name = "routec",
    version,
    about = "Compile .route files to Istio YAML, catching routing mistakes at compile time"
)]
struct Cli {
    /// When to colour human diagnostics.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check and compile to YAML: to stdout, or one file per object in DIR.
    Build {
        /// Files or directories (searched for *.route); default: the current directory.
        paths: Vec<PathBuf>,
        /// Write one file per object into DIR, replacing it as a whole.
        #[arg(short, long, value_name = "DIR")]
        output: Option<PathBuf>,
        /// How to print diagnostics (on stderr).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Check only: print diagnostics, write nothing.
    Check {
        /// Files or directories (searched for *.route); default: the current directory.
        paths: Vec<PathBuf>,
        /// How to print diagnostics: human on stderr, json or sarif on stdout.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Show which rule a request would take, and why earlier rules did not.
    Trace {
        /// Files or directories (searched for *.route); default: the current directory.
        paths: Vec<PathBuf>,
        /// The host (or service name) the request is for.
        #[arg(long)]
        host: String,
        #[arg(long, default_value = "/")]
        path: String,
        #[arg(long, default_value = "GET")]
        method: String,
        /// A request header, `NAME=VALUE` (repeatable).
        #[arg(long = "header", value_name = "NAME=VALUE")]
        headers: Vec<String>,
        /// A query parameter, `NAME=VALUE` (repeatable).
        #[arg(long = "query", value_name = "NAME=VALUE")]
        query: Vec<String>,
        #[arg(long)]
        port: Option<u16>,
    },
    /// Format .route files in place in the one canonical layout.
    Fmt {
        /// Files or directories (searched for *.route); default: the current directory.
        paths: Vec<PathBuf>,
        /// Change nothing; list the files that would change and exit 1 if any would.
        #[arg(long)]
        check: bool,
    },
    /// Explain a diagnostic code or an Envoy response flag (UH, NR, ...); with neither,
    /// list them all.
    Explain {
        /// A code such as E0201, or a response flag such as UH.
        code: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Json,
    Sarif,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// mimalloc: glibc's allocator spent a quarter of a large build in malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EXIT_ERRORS: u8 = 1;
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let result = match cli.command {
        Command::Build {
            paths,
            output,
            format,
        } => build(&paths, output.as_deref(), format, color),
        Command::Check { paths, format } => check(&paths, format, color),
        Command::Fmt { paths, check } => fmt(&paths, check, color),
        Command::Trace {
            paths,
            host,
            path,
            method,
            headers,
            query,
            port,
        } => {
            let pairs = |list: Vec<String>| -> Result<Vec<(String, String)>, String> {
                list.into_iter()
                    .map(|item| {
                        item.split_once('=')
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .ok_or_else(|| format!("`{item}` is not NAME=VALUE"))
                    })
                    .collect()
            };
            match (pairs(headers), pairs(query)) {
                (Ok(headers), Ok(query)) => trace(
                    &paths,
                    &routec::trace::Request {
                        host,
                        path,
                        method,
                        headers,
                        query,
                        port,
                    },
                    color,
                ),
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        }
        Command::Explain { code } => explain(code.as_deref()),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("routec: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn analyze(paths: &[PathBuf]) -> Result<Analysis, String> {
    let roots = collect_roots(paths)?;
    if roots.is_empty() {
        return Err(format!(
            "no .route files in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    routec::analyze(&roots, &FsLoader)
        .map_err(|e| format!("cannot read {}: {}", e.path.display(), e.error))
}

/// Files as given; directories searched recursively for `*.route`, in sorted order.
fn collect_roots(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut roots = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            roots.extend(found);
        } else {
            roots.push(path.clone());
        }
    }
    Ok(roots)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if kind.is_dir() && !hidden && entry.file_name() != "target" {
            walk(&path, found)?;
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "route") {
            found.push(path);
        }
    }
    Ok(())
}

fn report(analysis: &Analysis, format: Format, color: bool, to_stdout: bool) {
    let diagnostics = &analysis.diagnostics;
    let text = match format {
        Format::Human => {
            let mut text = render::human(
                diagnostics,
                analysis.sources(),
                Style {
                    color,
                    ascii: false,
                },
            );
            let errors = diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            let warnings = diagnostics.len() - errors;
            if !diagnostics.is_empty() {
                text.push_str(&format!(
                    "routec: {} {}, {} {}\n",
                    errors,
                    plural(errors, "error"),
                    warnings,
                    plural(warnings, "warning")
                ));
            }
            text
        }
        Format::Json => render::json(diagnostics, analysis.sources()),
        Format::Sarif => render::sarif(diagnostics, analysis.sources()),
    };
    if to_stdout {
        print!("{text}");
    } else {
        eprint!("{text}");
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

fn check(paths: &[PathBuf], format: Format, color: bool) -> Result<ExitCode, String> {
    let analysis = analyze(paths)?;
    let machine = !matches!(format, Format::Human);
    report(&analysis, format, color, machine);
    Ok(exit_for(&analysis))
}

fn exit_for(analysis: &Analysis) -> ExitCode {
    if analysis.has_errors() {
        ExitCode::from(EXIT_ERRORS)
    } else {
        ExitCode::SUCCESS
    }
}

fn build(
    paths: &[PathBuf],
    output: Option<&Path>,
    format: Format,
    color: bool,
) -> Result<ExitCode, String> {
    let analysis = analyze(paths)?;
    report(&analysis, format, color, false);
    let Some(documents) = routec::emit(&analysis) else {
        return Ok(ExitCode::from(EXIT_ERRORS));
    };
    match output {
        None => {
            let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            routec::emit::write_stream(&documents, &mut stdout)
                .and_then(|()| stdout.flush())
                .map_err(|e| format!("cannot write to stdout: {e}"))?;
        }
        Some(dir) => write_dir(dir, &documents)?,
    }
    // The process ends here: freeing the model and the documents piece by piece would
    // only cost time (a fifth of a large build).
    std::mem::forget(documents);
    std::mem::forget(analysis);
    Ok(ExitCode::SUCCESS)
}

/// Writes every document into a fresh directory beside `dir`, then swaps it in.
fn write_dir(dir: &Path, documents: &[routec::Document]) -> Result<(), String> {
    if dir.exists() {
        refuse_foreign_files(dir)?;
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".routec-build-")
        .tempdir_in(&parent)
        .map_err(|e| format!("cannot create a directory in {}: {e}", parent.display()))?;
    for document in documents {
        let mut text = String::new();
        document.write_to(&mut text);
        let path = staging.path().join(document.file_name());
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let staging = staging.keep();
    if dir.exists() {
        let old = tempfile::Builder::new()
            .prefix(".routec-old-")
            .tempdir_in(&parent)
            .map_err(|e| format!("cannot create a directory in {}: {e}", parent.display()))?
            .keep();
        std::fs::remove_dir(&old).map_err(|e| e.to_string())?;
        std::fs::rename(dir, &old)
            .map_err(|e| format!("cannot move {} aside: {e}", dir.display()))?;
        std::fs::rename(&staging, dir)
            .map_err(|e| format!("cannot replace {}: {e}", dir.display()))?;
        std::fs::remove_dir_all(&old)
            .map_err(|e| format!("cannot remove {}: {e}", old.display()))?;
    } else {
        std::fs::rename(&staging, dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// `-o DIR` replaces DIR: only when it holds nothing but YAML that a build could have written.
fn refuse_foreign_files(dir: &Path) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path();
        let is_yaml = path.extension().is_some_and(|e| e == "yaml");
        if !entry.file_type().map(|t| t.is_file()).unwrap_or(false) || !is_yaml {
            return Err(format!(
                "refusing to replace {}: it holds {}, which routec did not write; choose an empty or new directory",
                dir.display(),
                path.display()
            ));
        }
    }
    Ok(())
}

fn trace(
    paths: &[PathBuf],
    request: &routec::trace::Request,
    color: bool,
) -> Result<ExitCode, String> {
    use routec::trace::Trace;
    let analysis = analyze(paths)?;
    if analysis.has_errors() {
        report(&analysis, Format::Human, color, false);
        return Ok(ExitCode::from(EXIT_ERRORS));
    }
    let sources = analysis.sources();
    let at = |span: routec::Span| {
        let file = sources.get(span.file);
        format!(
            "{}:{}",
            file.name,
            file.lines.line_of(span.start as usize) + 1
        )
    };
    match routec::trace::trace(&analysis.mesh, request) {
        Trace::UnknownHost => {
            println!(
                "no service, external service or exposed table answers for `{}`",
                request.host
            );
            Ok(ExitCode::from(EXIT_ERRORS))
        }
        Trace::DefaultRoute(service) => {
            println!(
                "`{}` ({}) has no route table: Istio's default route sends every request to {}",
                service.name,
                at(service.name_span),
                service.host
            );
            Ok(ExitCode::SUCCESS)
        }
        Trace::Routed {
            service,
            steps,
            taken,
        } => {
            println!("`{}` ({})", service.name, at(service.name_span));
            let rules = &service
                .routes
                .as_ref()
                .expect("a routed trace has a table")
                .rules;
            for step in &steps {
                let rule = &rules[step.rule];
                let head = if rule.catch_all {
                    "else".to_string()
                } else {
                    format!("when {}", sources.slice(rule.head_span))
                };
                if step.taken {
                    println!("  {}  {head}  takes the request", at(rule.span));
                } else {
                    println!("  {}  {head}  passes it over:", at(rule.span));
                    for reason in &step.reasons {
                        println!("      {reason}");
                    }
                }
            }
            let Some(rule) = taken else {
                println!("no rule matched: Envoy answers 404 with the response flag NR");
                return Ok(ExitCode::from(EXIT_ERRORS));
            };
            for d in &rule.destinations {
                let subset = d
                    .subset
                    .as_deref()
                    .map(|s| format!(" subset {s}"))
                    .unwrap_or_default();
                let port = d.port.map(|p| format!(" port {p}")).unwrap_or_default();
                let weight = match (&d.weight, rule.destinations.len()) {
                    (Some(w), n) if n > 1 => format!(" ({}%)", w.value),
                    _ => String::new(),
                };
                println!("  -> {}{subset}{port}{weight}", d.host);
            }
            if let Some(timeout) = &rule.timeout {
                println!("  timeout {}", timeout.value.human());
            }
            if let Some(retry) = &rule.retry {
                let r = &retry.value;
                let per_try = r
                    .per_try
                    .as_ref()
                    .map(|p| format!(" x {}", p.value.human()))
                    .unwrap_or_default();
                let on = r
                    .conditions
                    .as_ref()
                    .map(|c| {
                        format!(
                            " on {}",
                            c.iter()
                                .map(|c| c.value.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })
                    .unwrap_or_else(|| " on Istio's default conditions".to_string());
                println!("  retry {}{per_try}{on}", r.attempts);
            }
            for mirror in &rule.mirrors {
                let percent = mirror
                    .percent
                    .map(|p| format!(" ({p}%)"))
                    .unwrap_or_default();
                println!("  mirrored to {}{percent}", mirror.destination.host);
            }
            if !rule.faults.is_empty() {
                println!("  faults are injected on this rule");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn fmt(paths: &[PathBuf], check: bool, color: bool) -> Result<ExitCode, String> {
    let roots = collect_roots(paths)?;
    let mut failed = false;
    for path in &roots {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                eprintln!("routec: {} is not UTF-8; left as it is", path.display());
                failed = true;
                continue;
            }
        };
        match routec::format::format(&text) {
            Err(diagnostics) => {
                let mut sources = routec::SourceMap::new();
                sources.add(
                    routec::source::Origin::Path(path.clone()),
                    path.display().to_string(),
                    text,
                );
                eprint!(
                    "{}",
                    render::human(
                        &diagnostics,
                        &sources,
                        Style {
                            color,
                            ascii: false
                        }
                    )
                );
                eprintln!(
                    "routec: {} has syntax errors; left as it is",
                    path.display()
                );
                failed = true;
            }
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                if check {
                    println!("{}", path.display());
                    failed = true;
                } else {
                    write_atomically(path, &formatted)?;
                }
            }
        }
    }
    Ok(if failed {
        ExitCode::from(EXIT_ERRORS)
    } else {
        ExitCode::SUCCESS
    })
}

/// Replaces a file's content through a temporary file in the same directory.
fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(file.path(), meta.permissions());
    }
    file.persist(path)
        .map_err(|e| format!("cannot replace {}: {e}", path.display()))?;
    Ok(())
}

fn explain(code: Option<&str>) -> Result<ExitCode, String> {
    match code {
        None => {
            let mut codes = Code::ALL.to_vec();
            codes.sort_by_key(|c| &c.as_str()[1..]);
            for code in codes {
                println!("{}  {}", code.as_str(), code.summary());
            }
            println!();
            println!("Envoy response flags (routec explain FLAG):");
            for flag in routec::diagnostics::flags::FLAGS {
                println!("{:<5}  {}", flag.flag, flag.summary);
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(text) => match Code::parse(text) {
            Some(code) => {
                println!(
                    "{} ({}): {}\n",
                    code.as_str(),
                    code.severity().as_str(),
                    code.summary()
                );
                println!("{}", code.explanation());
                Ok(ExitCode::SUCCESS)
            }
            None => match routec::diagnostics::flags::find(text) {
                Some(flag) => {
                    println!("{} (Envoy response flag): {}\n", flag.flag, flag.summary);
                    println!("{}", flag.text);
                    Ok(ExitCode::SUCCESS)
                }
                None => Err(format!(
                    "unknown code or response flag `{text}`; `routec explain` lists them all"
                )),
            },
        },
    }
}
