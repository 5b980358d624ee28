//! The `routec` binary as a user runs it: exit codes, where output goes, `build -o DIR`,
//! `check --format json`, `explain`, determinism, and robustness against hostile input.
//!
//! Every test works in its own temporary directory. Exit status: 0 clean (warnings
//! allowed), 1 errors in the input, 2 usage or I/O errors. A run that exits 1 never
//! writes YAML: stdout stays empty and an existing output directory is left alone.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use routec::Code;

const CLEAN: &str = r#"namespace bookinfo

service reviews {
  subset v1, v2
  routes {
    when header x-qa-user == "true" -> v2
    else -> v1 90%, v2 10%
  }
}

service ratings {
  subset v1
  routes {
    else -> v1
  }
}
"#;

/// Compiles, with one warning (W0502).
const WARNING: &str = r#"namespace bookinfo

service reviews {
  subset v1, v2
  routes {
    when path ~= "/api/v2/.*" -> v2
    else -> v1
  }
}
"#;

/// One error (E0201).
const ERROR: &str = r#"namespace bookinfo

service reviews {
  subset v1
  routes {
    when header x-qa-user == "true" -> v3
    else -> v1
  }
}
"#;

fn routec(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_routec"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the routec binary runs")
}

fn code(output: &Output) -> i32 {
    output
        .status
        .code()
        .expect("routec exits, it is not killed")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("the test can write its input");
    path
}

/// Every file of a directory, by name, with its contents.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("a readable directory")
        .map(|e| {
            let path = e.expect("a readable entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = if path.is_file() {
                std::fs::read(&path).unwrap()
            } else {
                b"<dir>".to_vec()
            };
            (name, bytes)
        })
        .collect();
    files.sort();
    files
}

fn names(dir: &Path) -> Vec<String> {
    contents(dir).into_iter().map(|(n, _)| n).collect()
}

// ---------------------------------------------------------------------------------------
// Exit codes and streams

#[test]
fn a_clean_file_builds_with_exit_0() {
    let dir = temp_dir();
    write(dir.path(), "mesh.route", CLEAN);
    let out = routec(dir.path(), &["build", "mesh.route"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let yaml = stdout(&out);
    assert!(yaml.contains("kind: VirtualService"), "{yaml}");
    assert!(yaml.contains("kind: DestinationRule"), "{yaml}");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let out = routec(dir.path(), &["check", "mesh.route"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(out.stdout.is_empty());
}

#[test]
fn warnings_do_not_fail_a_build() {
    let dir = temp_dir();
    write(dir.path(), "mesh.route", WARNING);
    let out = routec(dir.path(), &["build", "mesh.route"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("W0502"), "{}", stderr(&out));
    assert!(stdout(&out).contains("kind: VirtualService"));
}

#[test]
fn errors_exit_1_and_build_prints_no_yaml() {
    let dir = temp_dir();
    write(dir.path(), "mesh.route", ERROR);
    let out = routec(dir.path(), &["build", "mesh.route"]);
    assert_eq!(code(&out), 1);
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    assert!(stderr(&out).contains("E0201"), "{}", stderr(&out));
    let out = routec(dir.path(), &["check", "mesh.route"]);
    assert_eq!(code(&out), 1);
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("E0201"));
}

#[test]
fn a_missing_path_exits_2() {
    let dir = temp_dir();
    for command in ["build", "check"] {
        let out = routec(dir.path(), &[command, "nowhere.route"]);
        assert_eq!(code(&out), 2, "{command}: {}", stderr(&out));
        assert!(out.stdout.is_empty());
        assert!(stderr(&out).contains("nowhere.route"), "{}", stderr(&out));
    }
}

#[test]
fn a_directory_without_route_files_exits_2() {
    let dir = temp_dir();
    write(dir.path(), "README.md", "nothing to compile\n");
    let out = routec(dir.path(), &["check"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}

#[test]
fn bad_usage_exits_2() {
    let dir = temp_dir();
    for args in [
        &["frobnicate"][..],
        &["build", "--no-such-flag"],
        &["check", "--format", "xml"],
        &[],
    ] {
        let out = routec(dir.path(), args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn a_directory_argument_compiles_every_route_file_in_it() {
    let dir = temp_dir();
    std::fs::create_dir(dir.path().join("mesh")).unwrap();
    write(dir.path(), "mesh/a.route", CLEAN);
    write(
        dir.path(),
        "mesh/b.route",
        "namespace commerce\nservice cart { subset v1 }\n",
    );
    let out = routec(dir.path(), &["build", "mesh"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let yaml = stdout(&out);
    assert!(yaml.contains("name: reviews") && yaml.contains("name: cart"));
}

// ---------------------------------------------------------------------------------------
// build -o DIR

#[test]
fn build_o_writes_one_file_per_object() {
    let dir = temp_dir();
    write(dir.path(), "mesh.route", CLEAN);
    let out = routec(dir.path(), &["build", "mesh.route", "-o", "out"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    assert_eq!(
        names(&dir.path().join("out")),
        [
            "bookinfo.ratings.destinationrule.yaml",
            "bookinfo.ratings.virtualservice.yaml",
            "bookinfo.reviews.destinationrule.yaml",
            "bookinfo.reviews.virtualservice.yaml",
        ]
    );
    let vs = std::fs::read_to_string(dir.path().join("out/bookinfo.reviews.virtualservice.yaml"))
        .unwrap();
    assert!(vs.starts_with("# Source: mesh.route:"), "{vs}");
    assert!(
        vs.contains("kind: VirtualService") && !vs.contains("---"),
        "{vs}"
    );
    // The files hold exactly what the stream holds.
    let stream = stdout(&routec(dir.path(), &["build", "mesh.route"]));
    for (name, bytes) in contents(&dir.path().join("out")) {
        let text = String::from_utf8(bytes).unwrap();
        assert!(stream.contains(&text), "{name} is not in the stream");
    }
    assert_eq!(names(dir.path()), ["mesh.route", "out"], "no staging left");
}

#[test]
fn build_o_replaces_a_directory_it_wrote_before() {
    let dir = temp_dir();
    write(dir.path(), "mesh.route", CLEAN);
    let out = routec(dir.path(), &["build", "mesh.route", "-o", "out"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    write(
        &dir.path().join("out"),
        "bookinfo.old.virtualservice.yaml",
        "stale\n",
    );
    write(dir.path(), "mesh.route", WARNING);
    let out = routec(dir.path(), &["build", "mesh.route", "-o", "out"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        names(&dir.path().join("out")),
        [
            "bookinfo.reviews.destinationrule.yaml",
            "bookinfo.reviews.virtualservice.yaml",
        ],
        "the old objects are gone"
    );
    assert_eq!(names(dir.path()), ["mesh.route", "out"], "no staging left");
}

#[test]
fn build_o_leaves_the_directory_alone_when_there_are_errors() {
    let dir = temp_dir();
    write(dir.path(), "mesh.route", CLEAN);
    assert_eq!(
        code(&routec(dir.path(), &["build", "mesh.route", "-o", "out"])),
        0
    );
    let before = contents(&dir.path().join("out"));
    write(dir.path(), "mesh.route", ERROR);
    let out = routec(dir.path(), &["build", "mesh.route", "-o", "out"]);
    assert_eq!(code(&out), 1);
    assert!(out.stdout.is_empty());
    assert_eq!(contents(&dir.path().join("out")), before);
    assert_eq!(names(dir.path()), ["mesh.route", "out"]);
    // Nor is a directory created for a program with errors.
    let out = routec(dir.path(), &["build", "mesh.route", "-o", "fresh"]);
    assert_eq!(code(&out), 1);
    assert!(!dir.path().join("fresh").exists());
}

#[test]
fn build_o_refuses_a_directory_holding_other_files() {
    let dir = temp_dir();
    write(dir.path(), "mesh.route", CLEAN);
    std::fs::create_dir(dir.path().join("out")).unwrap();
    write(&dir.path().join("out"), "notes.txt", "mine\n");
    write(&dir.path().join("out"), "old.yaml", "kind: Foo\n");
    let before = contents(&dir.path().join("out"));
    let out = routec(dir.path(), &["build", "mesh.route", "-o", "out"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("notes.txt"), "{}", stderr(&out));
    assert_eq!(contents(&dir.path().join("out")), before);
    assert_eq!(names(dir.path()), ["mesh.route", "out"]);
}

// ---------------------------------------------------------------------------------------
// check --format json

#[test]
fn check_json_is_an_array_of_located_diagnostics() {
    let dir = temp_dir();
    let mut text = ERROR.to_string();
    text.push_str(
        &WARNING
            .replace("namespace bookinfo", "")
            .replace("reviews", "ratings"),
    );
    write(dir.path(), "mesh.route", &text);
    let out = routec(dir.path(), &["check", "--format", "json", "mesh.route"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let value: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    let items = value.as_array().expect("a JSON array");
    let codes: Vec<&str> = items.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["E0201", "W0502"]);
    for item in items {
        for key in [
            "code",
            "severity",
            "message",
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "labels",
            "help",
        ] {
            assert!(item.get(key).is_some(), "no `{key}` in {item}");
        }
        assert_eq!(item["file"], "mesh.route");
        for key in ["line", "column", "end_line", "end_column"] {
            assert!(
                item[key].as_u64().is_some_and(|n| n >= 1),
                "{key} in {item}"
            );
        }
        let labels = item["labels"].as_array().expect("labels is an array");
        assert_eq!(
            labels.iter().filter(|l| l["primary"] == true).count(),
            1,
            "one primary label: {item}"
        );
    }
    let error = &items[0];
    assert_eq!(error["severity"], "error");
    assert_eq!(
        (error["line"].as_u64(), error["column"].as_u64()),
        (Some(6), Some(40))
    );
    assert_eq!(
        (error["end_line"].as_u64(), error["end_column"].as_u64()),
        (Some(6), Some(42))
    );
    assert_eq!(items[1]["severity"], "warning");
}

#[test]
fn check_json_of_a_clean_file_is_an_empty_array() {
    let dir = temp_dir();
    write(dir.path(), "mesh.route", CLEAN);
    let out = routec(dir.path(), &["check", "--format", "json", "mesh.route"]);
    assert_eq!(code(&out), 0);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value, serde_json::json!([]));
}

// ---------------------------------------------------------------------------------------
// explain

#[test]
fn explain_lists_every_code() {
    let dir = temp_dir();
    let out = routec(dir.path(), &["explain"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    for code in Code::ALL {
        assert!(
            text.lines()
                .any(|l| l.starts_with(code.as_str()) && l.contains(code.summary())),
            "{code} missing from:\n{text}"
        );
    }
}

#[test]
fn explain_prints_the_text_of_one_code() {
    let dir = temp_dir();
    for arg in ["E0201", "e0201"] {
        let out = routec(dir.path(), &["explain", arg]);
        assert_eq!(code(&out), 0);
        let text = stdout(&out);
        assert!(text.starts_with("E0201 (error): "), "{text}");
        assert!(text.contains(Code::UnknownSubset.explanation()), "{text}");
    }
}

#[test]
fn trace_shows_the_rule_a_request_takes_and_why_others_passed() {
    let dir = temp_dir();
    write(dir.path(), "mesh.route", WARNING);
    let args = |path: &'static str| {
        vec![
            "trace",
            "mesh.route",
            "--host",
            "reviews.bookinfo.svc.cluster.local",
            "--path",
            path,
        ]
    };
    let out = routec(dir.path(), &args("/api/v2/items"));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("when path ~= \"/api/v2/.*\"  takes the request"),
        "{text}"
    );
    assert!(
        text.contains("-> reviews.bookinfo.svc.cluster.local subset v2"),
        "{text}"
    );
    let other = stdout(&routec(dir.path(), &args("/home")));
    assert!(other.contains("passes it over:"), "{other}");
    assert!(other.contains("the request has \"/home\""), "{other}");
    assert!(other.contains("subset v1"), "{other}");
    let unknown = routec(dir.path(), &["trace", "mesh.route", "--host", "nobody"]);
    assert_eq!(code(&unknown), 1);
}

#[test]
fn explain_knows_envoy_response_flags() {
    let dir = temp_dir();
    let out = routec(dir.path(), &["explain", "nr"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(text.starts_with("NR (Envoy response flag): "), "{text}");
    assert!(text.contains("E0303"), "{text}");
    let list = stdout(&routec(dir.path(), &["explain"]));
    assert!(list.contains("\nUH "), "{list}");
}

#[test]
fn explain_of_an_unknown_code_exits_2() {
    let dir = temp_dir();
    let out = routec(dir.path(), &["explain", "E9999"]);
    assert_eq!(code(&out), 2);
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("E9999"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------
// Determinism

#[test]
fn two_builds_print_identical_bytes() {
    let dir = temp_dir();
    write(dir.path(), "a.route", CLEAN);
    write(
        dir.path(),
        "b.route",
        "import std/resilience\nnamespace commerce\nservice inventory {\n  accepts GET, HEAD\n  use idempotent-reads\n  use fail-fast\n}\n",
    );
    let first = routec(dir.path(), &["build", "."]);
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let second = routec(dir.path(), &["build", "."]);
    assert_eq!(first.stdout, second.stdout);
    let by_name = routec(dir.path(), &["build", "a.route", "b.route"]);
    assert_eq!(first.stdout, by_name.stdout);
}

// ---------------------------------------------------------------------------------------
// Robustness: no panic, exit 0 or 1, and never partial output.

/// Runs `check` and `build` on the bytes; both must end normally.
fn survives(name: &str, bytes: &[u8]) {
    let dir = temp_dir();
    write(dir.path(), "input.route", bytes);
    for command in ["check", "build"] {
        let out = routec(dir.path(), &[command, "input.route"]);
        let err = stderr(&out);
        let status = out.status.code();
        assert!(
            matches!(status, Some(0 | 1)),
            "{name}: `{command}` ended with {:?}:\n{}",
            out.status,
            tail(&err)
        );
        assert!(
            !err.contains("panicked") && !err.contains("overflow"),
            "{name}: `{command}`:\n{}",
            tail(&err)
        );
        if status == Some(1) {
            assert!(
                out.stdout.is_empty(),
                "{name}: `{command}` exited 1 with output"
            );
            assert!(
                !err.is_empty(),
                "{name}: `{command}` exited 1 saying nothing"
            );
        }
    }
}

fn tail(text: &str) -> &str {
    let start = text.len().saturating_sub(2000);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    &text[start..]
}

/// A fixed-seed xorshift64: the same "random" input on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn survives_an_empty_file() {
    survives("empty", b"");
    survives("blank", b"\n\n   \t\n");
    survives("comment only", b"// nothing here\n");
}

#[test]
fn survives_random_bytes() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for round in 0..4 {
        let bytes: Vec<u8> = (0..65_536).map(|_| rng.next() as u8).collect();
        survives(&format!("random bytes #{round}"), &bytes);
    }
}

#[test]
fn survives_random_ascii() {
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    for round in 0..4 {
        let bytes: Vec<u8> = (0..65_536)
            .map(|_| match rng.below(20) {
                0 => b'\n',
                1 => b' ',
                _ => 0x20 + rng.below(0x5F) as u8,
            })
            .collect();
        survives(&format!("random ASCII #{round}"), &bytes);
    }
}

/// Shuffled tokens of the language reach far deeper into the parser and the checks than
/// random bytes do.
#[test]
fn survives_random_token_soup() {
    const TOKENS: &[&str] = &[
        "namespace",
        "import",
        "service",
        "policy",
        "in",
        "host",
        "port",
        "subset",
        "accepts",
        "idempotency-key",
        "timeout",
        "retry",
        "x",
        "on",
        "off",
        "use",
        "routes",
        "when",
        "else",
        "and",
        "or",
        "header",
        "path",
        "method",
        "query",
        "present",
        "pool",
        "connections",
        "unlimited",
        "eject",
        "after",
        "consecutive",
        "every",
        "for",
        "max",
        "->",
        "==",
        "^=",
        "~=",
        "{",
        "}",
        "{",
        "}",
        ",",
        ":",
        ".",
        "/",
        "*",
        "reviews",
        "v1",
        "v2",
        "GET",
        "POST",
        "5xx",
        "reset",
        "3s",
        "1ms",
        "500us",
        "90%",
        "10%",
        "8080",
        "0",
        "\"/api\"",
        "\"(?=x)\"",
        "\"\"",
        "\"a",
        "std",
        "resilience",
        "\n",
        "\n",
    ];
    let mut rng = XorShift(0xDEAD_BEEF_CAFE_F00D);
    for round in 0..8 {
        let mut text = String::new();
        for _ in 0..20_000 {
            text.push_str(TOKENS[rng.below(TOKENS.len())]);
            text.push(' ');
        }
        survives(&format!("token soup #{round}"), text.as_bytes());
    }
}

#[test]
fn survives_invalid_utf8() {
    survives(
        "latin-1 in a string",
        b"service reviews {\n  host \"r\xe9views\"\n}\n",
    );
    survives("utf-16", b"\xff\xfes\x00e\x00r\x00v\x00i\x00c\x00e\x00");
    survives("bad byte first", b"\x80service a { }\n");
    survives("cut multi-byte character", b"service a { }\n// \xe2\x82");
}

#[test]
fn survives_100_000_nested_braces() {
    let mut text = b"service reviews ".to_vec();
    text.extend(std::iter::repeat_n(b'{', 100_000));
    survives("open braces", &text);
    text.extend(std::iter::repeat_n(b'}', 100_000));
    survives("balanced braces", &text);
}

#[test]
fn survives_100_000_nested_brackets() {
    let mut text = b"service reviews { subset v1 ".to_vec();
    text.extend(std::iter::repeat_n(b'[', 100_000));
    survives("open brackets", &text);
    text.extend(std::iter::repeat_n(b']', 100_000));
    text.extend(b" }\n");
    survives("balanced brackets", &text);
}

/// Rule bodies may hold route tables, so the syntax tree nests as deep as the input.
#[test]
fn survives_100_000_nested_rule_bodies() {
    let depth = 100_000;
    let text = format!(
        "service reviews {{\n  subset v1\n  {}{}\n}}\n",
        "routes { else -> v1 { ".repeat(depth),
        "} }".repeat(depth)
    );
    survives("nested rule bodies", text.as_bytes());
}

#[test]
fn survives_a_long_when_chain() {
    let rules: String = (0..2_000)
        .map(|i| format!("    when header x-tenant == \"tenant-{i}\" -> v2\n"))
        .collect();
    survives(
        "2,000 rules",
        format!(
            "service reviews {{\n  subset v1, v2\n  routes {{\n{rules}    else -> v1\n  }}\n}}\n"
        )
        .as_bytes(),
    );
    let and_chain = (0..5_000)
        .map(|i| format!("header x-h{i} == \"{i}\""))
        .collect::<Vec<_>>()
        .join(" and ");
    let or_chain = and_chain.replace(" and ", " or ");
    for (name, chain) in [("5,000 ands", and_chain), ("5,000 ors", or_chain)] {
        survives(
            name,
            format!("service reviews {{\n  subset v1, v2\n  routes {{\n    when {chain} -> v2\n    else -> v1\n  }}\n}}\n")
                .as_bytes(),
        );
    }
    let repeated = "    when header x-qa-user == \"true\" -> v2\n".repeat(2_000);
    survives(
        "2,000 identical rules",
        format!("service reviews {{\n  subset v1, v2\n  routes {{\n{repeated}    else -> v1\n  }}\n}}\n")
            .as_bytes(),
    );
}

/// A 5 MB program (about 18,000 services). 50 MB takes about 19 s with a debug build,
/// too slow here; see the report for the release timing.
#[test]
fn a_large_file_compiles() {
    let mut text = String::from("namespace commerce\n\n");
    let mut services = 0;
    while text.len() < 5_000_000 {
        text.push_str(&format!(
            r#"service svc-{services} {{
  accepts GET, HEAD
  subset v1, v2
  timeout 3s
  retry 2 x 1s on 5xx, reset
  routes {{
    when header x-qa-user == "true" and path ^= "/api/v2/" -> v2
    when query variant ~= "beta-[0-9]+" -> v2
    else -> v1 90%, v2 10%
  }}
}}

"#
        ));
        services += 1;
    }
    let dir = temp_dir();
    write(dir.path(), "big.route", &text);
    let started = std::time::Instant::now();
    let out = routec(dir.path(), &["build", "big.route"]);
    let took = started.elapsed();
    assert_eq!(code(&out), 0, "{}", tail(&stderr(&out)));
    let yaml = stdout(&out);
    assert_eq!(yaml.matches("kind: VirtualService").count(), services);
    assert!(
        took.as_secs() < 60,
        "5 MB took {took:?} to build, far more than expected (about 2 s in debug)"
    );
    // The same file with an error in its last service: nothing is printed.
    text.push_str("service broken { subset v1\n routes { else -> v9 } }\n");
    write(dir.path(), "big.route", &text);
    let out = routec(dir.path(), &["build", "big.route"]);
    assert_eq!(code(&out), 1);
    assert!(out.stdout.is_empty());
}
