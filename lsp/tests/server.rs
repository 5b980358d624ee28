//! The server driven in process through tower's `Service`: every capability, the
//! diagnostics life cycle, and the inputs that must not bring it down.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{codes, position, Client};

/// Two errors after an é and an emoji on their line: columns differ in UTF-8,
/// UTF-16 and characters.
const BROKEN: &str = "// café ☕ routes
namespace shop

service reviews {
  subset stable, canary
  routes {
    when header x-user == \"é😀\" -> canery
    else -> stable 90%, canary 20%
  }
}
";

const FIXED: &str = "// café ☕ routes
namespace shop

service reviews {
  subset stable, canary
  routes {
    when header x-user == \"é😀\" -> canary
    else -> stable 90%, canary 10%
  }
}
";

/// A clean program for the queries.
const CLEAN: &str = "namespace shop

service reviews {
  subset v1, v2
  routes {
    when header x-user == \"é😀\" -> v2
    else -> v1 90%, v2 10%
  }
}
";

const URI: &str = "file:///virtual/shop.route";

fn at(needle: &str, text: &str) -> Value {
    position(text, needle)
}

/// The position of the `nth` (0-based) occurrence of `needle`, plus `skip` UTF-16 units.
fn nth(text: &str, needle: &str, nth: usize, skip: u32) -> Value {
    let offset = text.match_indices(needle).nth(nth).expect("occurrence").0;
    let line = text[..offset].matches('\n').count() as u32;
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let character: u32 = text[line_start..offset]
        .chars()
        .map(|c| c.len_utf16() as u32)
        .sum();
    json!({ "line": line, "character": character + skip })
}

fn doc(uri: &str, position: Value) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": position })
}

async fn client() -> Client {
    Client::start(None, json!({})).await.0
}

async fn opened(text: &str) -> Client {
    let mut client = client().await;
    client.open(URI, text, 1).await;
    client.diagnostics(URI, Some(1)).await;
    client
}

#[tokio::test]
async fn initialize_declares_every_capability_in_utf16() {
    let (_client, result) = Client::start(None, json!({})).await;
    let caps = &result["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync");
    assert_eq!(caps["textDocumentSync"]["openClose"], true);
    for capability in [
        "hoverProvider",
        "definitionProvider",
        "referencesProvider",
        "documentSymbolProvider",
        "workspaceSymbolProvider",
        "documentFormattingProvider",
    ] {
        assert_eq!(caps[capability], true, "{capability}");
    }
    assert_eq!(caps["renameProvider"]["prepareProvider"], true);
    assert!(caps["completionProvider"].is_object());
    assert_eq!(
        caps["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix"])
    );
    let legend = &caps["semanticTokensProvider"]["legend"]["tokenTypes"];
    assert_eq!(
        legend,
        &json!([
            "keyword",
            "class",
            "enumMember",
            "decorator",
            "property",
            "string",
            "number",
            "operator",
            "comment",
            "namespace"
        ])
    );
    assert_eq!(caps["semanticTokensProvider"]["full"], true);
    assert_eq!(result["serverInfo"]["name"], "routec-lsp");
}

#[tokio::test]
async fn diagnostics_on_open_have_codes_help_and_utf16_ranges_and_clear_when_fixed() {
    let mut client = client().await;
    client.open(URI, BROKEN, 1).await;
    let diagnostics = client.diagnostics(URI, Some(1)).await;
    assert_eq!(codes(&diagnostics), ["E0201", "E0301"]);

    let unknown = &diagnostics[0];
    // `canery` follows "é😀\" -> ": 34 characters, 35 UTF-16 units, 38 bytes into its line.
    assert_eq!(
        unknown["range"],
        json!({ "start": { "line": 6, "character": 35 }, "end": { "line": 6, "character": 41 } })
    );
    assert_eq!(unknown["severity"], 1);
    assert_eq!(unknown["source"], "routec");
    assert!(unknown.get("codeDescription").is_none());
    let message = unknown["message"].as_str().unwrap();
    assert!(
        message.starts_with("`reviews` has no subset `canery`"),
        "{message}"
    );
    assert!(
        message.contains("\nhelp: did you mean `canary`?"),
        "{message}"
    );
    assert!(
        message.contains("\nnote: `reviews` is routed by subset"),
        "{message}"
    );
    let related = &unknown["relatedInformation"][0];
    assert_eq!(related["location"]["uri"], URI);
    assert_eq!(
        related["location"]["range"]["start"],
        at("stable, canary", BROKEN)
    );
    assert_eq!(related["message"], "subsets of `reviews`");

    let split = &diagnostics[1];
    assert_eq!(split["range"]["start"], at("stable 90%", BROKEN));
    assert!(split["message"]
        .as_str()
        .unwrap()
        .contains("help: make them add up to 100%"));

    client.change(URI, FIXED, 2).await;
    assert_eq!(client.diagnostics(URI, Some(2)).await, Vec::<Value>::new());
}

#[tokio::test]
async fn incremental_changes_are_placed_by_utf16_columns() {
    let mut client = client().await;
    client.open(URI, BROKEN, 1).await;
    client.diagnostics(URI, Some(1)).await;
    let typo = at("canery", BROKEN);
    let weight = at("20%", BROKEN);
    client
        .notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": URI, "version": 2 },
                "contentChanges": [
                    { "range": { "start": typo, "end": { "line": 6, "character": 41 } }, "text": "canary" },
                    { "range": { "start": weight, "end": { "line": 7, "character": 32 } }, "text": "1" },
                ],
            }),
        )
        .await;
    assert_eq!(client.diagnostics(URI, Some(2)).await, Vec::<Value>::new());
    let edits = client
        .request(
            "textDocument/formatting",
            json!({ "textDocument": { "uri": URI }, "options": { "tabSize": 2, "insertSpaces": true } }),
        )
        .await
        .unwrap();
    assert_eq!(edits, json!([]), "the buffer is FIXED, which is formatted");
}

#[tokio::test]
async fn utf8_positions_when_the_client_offers_them() {
    let (mut client, result) = Client::start(
        None,
        json!({ "general": { "positionEncodings": ["utf-8", "utf-16"] } }),
    )
    .await;
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-8");
    client.open(URI, BROKEN, 1).await;
    let diagnostics = client.diagnostics(URI, Some(1)).await;
    assert_eq!(
        diagnostics[0]["range"]["start"],
        json!({ "line": 6, "character": 38 })
    );
}

#[tokio::test]
async fn a_stale_version_never_overwrites_a_newer_one() {
    let mut client = client().await;
    client.open(URI, BROKEN, 1).await;
    client.change(URI, FIXED, 3).await;
    // Arrives late, as reordered notifications might: ignored.
    client.change(URI, BROKEN, 2).await;
    assert!(client.diagnostics(URI, Some(3)).await.is_empty());
    // A request is a barrier: anything due has been decided by now.
    client
        .request("textDocument/hover", doc(URI, at("stable", FIXED)))
        .await
        .unwrap();
    for late in client.drain(Duration::from_millis(300)).await {
        let params = late.params().cloned().unwrap_or_default();
        assert!(
            late.method() != "textDocument/publishDiagnostics"
                || params["uri"] != URI
                || params["version"] == json!(3) && params["diagnostics"] == json!([]),
            "a stale publication after version 3: {params}"
        );
    }
}

#[tokio::test]
async fn a_conflict_between_two_files_shows_in_both() {
    let root = tempfile::tempdir().unwrap();
    let main = root.path().join("a-main.route");
    let canary = root.path().join("b-canary.route");
    let main_text =
        "namespace shop\n\nservice reviews {\n  host reviews.shop.example.com\n  subset v1\n  routes { else -> v1 }\n}\n";
    std::fs::write(&main, main_text).unwrap();
    std::fs::write(
        &canary,
        "namespace shop\n\nservice reviews-canary {\n  host reviews.shop.example.com\n  subset v2\n  routes { else -> v2 }\n}\n",
    )
    .unwrap();
    let (mut client, _) = Client::start(Some(root.path()), json!({})).await;
    let main_uri = support::uri(&main).to_string();
    let canary_uri = support::uri(&canary).to_string();
    client.open(&main_uri, main_text, 1).await;

    let in_main = client.diagnostics(&main_uri, Some(1)).await;
    assert_eq!(codes(&in_main), ["E0208"]);
    assert_eq!(in_main[0]["range"]["start"], at("reviews {", main_text));
    assert_eq!(
        in_main[0]["relatedInformation"][0]["location"]["uri"],
        canary_uri
    );
    // The closed file shows it too, where it is reported.
    let in_canary = client.diagnostics(&canary_uri, None).await;
    assert_eq!(codes(&in_canary), ["E0208"]);
    assert_eq!(in_canary[0]["range"]["start"]["line"], 2);

    let other_host = main_text.replace("reviews.shop", "ratings.shop");
    client.change(&main_uri, &other_host, 2).await;
    assert!(client.diagnostics(&main_uri, Some(2)).await.is_empty());
    assert!(client.diagnostics(&canary_uri, None).await.is_empty());
}

#[tokio::test]
async fn hover_on_a_subset_shows_its_labels() {
    let mut client = opened(CLEAN).await;
    let hover = client
        .request("textDocument/hover", doc(URI, nth(CLEAN, "v1", 1, 1)))
        .await
        .unwrap();
    let markdown = hover["contents"]["value"].as_str().unwrap_or_default();
    assert_eq!(hover["contents"]["kind"], "markdown", "{hover}");
    assert!(
        markdown.contains("version") && markdown.contains("v1"),
        "{markdown}"
    );
}

#[tokio::test]
async fn definition_of_a_destination_is_its_subset() {
    let mut client = opened(CLEAN).await;
    let definition = client
        .request("textDocument/definition", doc(URI, nth(CLEAN, "v1", 1, 0)))
        .await
        .unwrap();
    assert_eq!(definition["uri"], URI, "{definition}");
    assert_eq!(definition["range"]["start"], nth(CLEAN, "v1", 0, 0));
}

#[tokio::test]
async fn references_of_a_subset_include_every_route_to_it() {
    let mut client = opened(CLEAN).await;
    let mut params = doc(URI, nth(CLEAN, "v2", 0, 1));
    params["context"] = json!({ "includeDeclaration": true });
    let references = client
        .request("textDocument/references", params)
        .await
        .unwrap();
    let mut starts: Vec<Value> = references
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|l| l["range"]["start"].clone())
        .collect();
    starts.sort_by_key(|s| (s["line"].as_u64(), s["character"].as_u64()));
    assert_eq!(
        starts,
        vec![
            nth(CLEAN, "v2", 0, 0),
            nth(CLEAN, "v2", 1, 0),
            nth(CLEAN, "v2", 2, 0)
        ]
    );
}

#[tokio::test]
async fn rename_a_subset_everywhere() {
    let mut client = opened(CLEAN).await;
    let prepared = client
        .request(
            "textDocument/prepareRename",
            doc(URI, nth(CLEAN, "v1", 1, 1)),
        )
        .await
        .unwrap();
    assert_eq!(prepared["placeholder"], "v1", "{prepared}");
    assert_eq!(prepared["range"]["start"], nth(CLEAN, "v1", 1, 0));

    let mut params = doc(URI, nth(CLEAN, "v1", 1, 1));
    params["newName"] = json!("stable");
    let edit = client.request("textDocument/rename", params).await.unwrap();
    let edits = edit["changes"][URI].as_array().cloned().unwrap_or_default();
    let renamed = support::apply_edits(CLEAN, &edits);
    // The shorthand `subset v1` selected version=v1; the renamed subset keeps that.
    assert!(
        renamed.contains("subset stable { version: v1 }"),
        "{renamed}"
    );
    assert!(renamed.contains("else -> stable 90%, v2 10%"), "{renamed}");
    assert!(!renamed.contains("v1,"), "{renamed}");
    client.change(URI, &renamed, 2).await;
    assert_eq!(client.diagnostics(URI, Some(2)).await, Vec::<Value>::new());
}

#[tokio::test]
async fn a_rename_the_library_refuses_is_an_error_answer() {
    let mut client = opened(CLEAN).await;
    let mut params = doc(URI, nth(CLEAN, "v1", 1, 1));
    params["newName"] = json!("not a name!");
    let error = client
        .request("textDocument/rename", params)
        .await
        .expect_err("an invalid name is refused");
    assert_eq!(error["code"], -32803, "{error}");
}

#[tokio::test]
async fn completion_after_an_arrow_offers_the_subsets() {
    let mut client = opened(CLEAN).await;
    let mut params = doc(URI, nth(CLEAN, "v1", 1, 0));
    params["context"] = json!({ "triggerKind": 1 });
    let completion = client
        .request("textDocument/completion", params)
        .await
        .unwrap();
    let items = completion.as_array().cloned().unwrap_or_default();
    let labels: Vec<&str> = items.iter().filter_map(|i| i["label"].as_str()).collect();
    assert!(
        labels.contains(&"v1") && labels.contains(&"v2"),
        "{labels:?}"
    );
    let v2 = items.iter().find(|i| i["label"] == "v2").unwrap();
    assert_eq!(v2["kind"], 20, "subsets are enum members");
}

#[tokio::test]
async fn document_symbols_outline_services_and_subsets() {
    let mut client = opened(CLEAN).await;
    let symbols = client
        .request(
            "textDocument/documentSymbol",
            json!({ "textDocument": { "uri": URI } }),
        )
        .await
        .unwrap();
    let symbols = symbols.as_array().cloned().unwrap_or_default();
    let reviews = symbols
        .iter()
        .find(|s| s["name"] == "reviews")
        .unwrap_or_else(|| panic!("no `reviews` in {symbols:?}"));
    assert_eq!(reviews["kind"], 5, "services are classes");
    assert_eq!(reviews["selectionRange"]["start"], at("reviews", CLEAN));
    let children: Vec<&str> = reviews["children"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(
        children.contains(&"v1") && children.contains(&"v2"),
        "{children:?}"
    );
}

#[tokio::test]
async fn workspace_symbols_find_services_by_part_of_their_name() {
    let mut client = opened(CLEAN).await;
    let symbols = client
        .request("workspace/symbol", json!({ "query": "REVIEW" }))
        .await
        .unwrap();
    let symbols = symbols.as_array().cloned().unwrap_or_default();
    assert!(
        symbols
            .iter()
            .any(|s| s["name"] == "reviews" && s["location"]["uri"] == URI),
        "{symbols:?}"
    );
}

#[tokio::test]
async fn formatting_replaces_the_document_with_the_canonical_layout() {
    let messy =
        "namespace shop\nservice reviews {\n      subset v1,v2\n  routes { else -> v1 }\n}\n";
    let mut client = client().await;
    client.open(URI, messy, 1).await;
    let params = json!({
        "textDocument": { "uri": URI },
        "options": { "tabSize": 4, "insertSpaces": true },
    });
    let edits = client
        .request("textDocument/formatting", params.clone())
        .await
        .unwrap();
    let expected = routec::format::format(messy).unwrap();
    assert_eq!(
        edits,
        json!([{
            "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 5, "character": 0 } },
            "newText": expected,
        }])
    );

    client.change(URI, &expected, 2).await;
    let edits = client
        .request("textDocument/formatting", params.clone())
        .await
        .unwrap();
    assert_eq!(edits, json!([]), "already formatted");

    client.change(URI, "service {", 3).await;
    let edits = client
        .request("textDocument/formatting", params)
        .await
        .unwrap();
    assert_eq!(edits, json!([]), "a syntax error: no edits, no error");
}

#[tokio::test]
async fn quick_fixes_come_from_the_diagnostics_fixes() {
    let mut client = client().await;
    client.open(URI, BROKEN, 1).await;
    let diagnostics = client.diagnostics(URI, Some(1)).await;
    let split = diagnostics[1].clone();
    let actions = client
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": URI },
                "range": split["range"],
                "context": { "diagnostics": [split] },
            }),
        )
        .await
        .unwrap();
    let actions = actions.as_array().cloned().unwrap();
    assert_eq!(actions.len(), 1, "{actions:?}");
    let action = &actions[0];
    assert_eq!(action["kind"], "quickfix");
    assert_eq!(
        action["diagnostics"],
        json!([split]),
        "linked to the diagnostic"
    );
    let edits = action["edit"]["changes"][URI].as_array().unwrap();
    assert!(edits.iter().all(|e| e["range"]["start"]["line"] == 7));
    let fixed = support::apply_edits(BROKEN, edits);
    client.change(URI, &fixed, 2).await;
    assert_eq!(codes(&client.diagnostics(URI, Some(2)).await), ["E0201"]);

    // The unknown subset's fix, asked for by position only.
    let actions = client
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": URI },
                "range": { "start": at("canery", BROKEN), "end": at("canery", BROKEN) },
                "context": { "diagnostics": [] },
            }),
        )
        .await
        .unwrap();
    let titles: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["title"].as_str())
        .collect();
    assert_eq!(titles, ["change to `canary`"]);
}

#[tokio::test]
async fn semantic_tokens_cover_the_document() {
    let mut client = opened(CLEAN).await;
    let tokens = client
        .request(
            "textDocument/semanticTokens/full",
            json!({ "textDocument": { "uri": URI } }),
        )
        .await
        .unwrap();
    let data: Vec<u64> = tokens["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(data.len() % 5, 0);
    // `namespace` is a keyword (type 0) at 0:0, 9 long; `shop` a namespace (type 9).
    assert_eq!(
        data.get(..10),
        Some(&[0, 0, 9, 0, 0, 0, 10, 4, 9, 0][..]),
        "{data:?}"
    );
}

#[tokio::test]
async fn requests_for_a_closed_document_are_answered_empty() {
    let mut client = opened(CLEAN).await;
    let closed = "file:///virtual/never-opened.route";
    let hover = client
        .request(
            "textDocument/hover",
            doc(closed, json!({ "line": 0, "character": 0 })),
        )
        .await;
    assert_eq!(hover, Ok(Value::Null));
    for method in [
        "textDocument/documentSymbol",
        "textDocument/semanticTokens/full",
    ] {
        let answer = client
            .request(method, json!({ "textDocument": { "uri": closed } }))
            .await;
        assert_eq!(answer, Ok(Value::Null), "{method}");
    }
    let formatting = client
        .request(
            "textDocument/formatting",
            json!({ "textDocument": { "uri": closed }, "options": { "tabSize": 2, "insertSpaces": true } }),
        )
        .await;
    assert_eq!(formatting, Ok(Value::Null));

    // Closing clears the document's diagnostics.
    let elsewhere = BROKEN.replace("namespace shop", "namespace elsewhere");
    client.open(closed, &elsewhere, 1).await;
    assert_eq!(client.diagnostics(closed, Some(1)).await.len(), 2);
    client
        .notify(
            "textDocument/didClose",
            json!({ "textDocument": { "uri": closed } }),
        )
        .await;
    assert!(client.diagnostics(closed, None).await.is_empty());
    let hover = client
        .request("textDocument/hover", doc(closed, at("stable", BROKEN)))
        .await;
    assert_eq!(hover, Ok(Value::Null));
}

#[tokio::test]
async fn positions_outside_the_document_are_answered_empty() {
    let mut client = opened(CLEAN).await;
    for position in [
        json!({ "line": 10_000, "character": 0 }),
        json!({ "line": 4_294_967_295u64, "character": 4_294_967_295u64 }),
    ] {
        for method in [
            "textDocument/hover",
            "textDocument/definition",
            "textDocument/completion",
            "textDocument/prepareRename",
        ] {
            let answer = client.request(method, doc(URI, position.clone())).await;
            assert_eq!(answer, Ok(Value::Null), "{method} at {position}");
        }
    }
    // Past the end of a line means its end, as the protocol says: an answer, not an error.
    let answer = client
        .request(
            "textDocument/hover",
            doc(URI, json!({ "line": 0, "character": 1_000_000 })),
        )
        .await;
    assert!(answer.is_ok(), "{answer:?}");
    // Malformed parameters are refused with InvalidParams, and the server goes on.
    let answer = client
        .request("textDocument/hover", json!({ "textDocument": 7 }))
        .await;
    assert_eq!(answer.unwrap_err()["code"], -32602);
    let answer = client
        .request("textDocument/hover", doc(URI, at("v1", CLEAN)))
        .await;
    assert!(answer.is_ok());
}

/// Five megabytes of plausible garbage: keywords, braces, strings left open, é and 😀.
fn garbage(bytes: usize) -> String {
    let pieces = [
        "service", " ", "{", "}", "->", "\"", "é", "😀", "\n", "routes", "when", "%", "90", "3s",
        "==", "x", "retry", "//", "\\", "subset", ",", "v1", "@", "~=", "std/",
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut text = String::with_capacity(bytes + 16);
    while text.len() < bytes {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        text.push_str(pieces[(state % pieces.len() as u64) as usize]);
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_five_megabyte_garbage_document_is_survived() {
    let mut client = opened(CLEAN).await;
    let big = "file:///virtual/garbage.route";
    let text = garbage(5 * 1024 * 1024);
    let started = Instant::now();
    client.open(big, &text, 1).await;
    let diagnostics = client.diagnostics(big, Some(1)).await;
    let published = started.elapsed();
    assert!(!diagnostics.is_empty());
    assert!(diagnostics.len() <= 1000, "capped: {}", diagnostics.len());
    let started = Instant::now();
    for method in [
        "textDocument/hover",
        "textDocument/completion",
        "textDocument/definition",
    ] {
        let answer = client
            .request(method, doc(big, json!({ "line": 3, "character": 2 })))
            .await;
        assert!(answer.is_ok(), "{method}: {answer:?}");
    }
    for method in [
        "textDocument/semanticTokens/full",
        "textDocument/documentSymbol",
    ] {
        let answer = client
            .request(method, json!({ "textDocument": { "uri": big } }))
            .await;
        assert!(answer.is_ok(), "{method}: {answer:?}");
    }
    let formatting = client
        .request(
            "textDocument/formatting",
            json!({ "textDocument": { "uri": big }, "options": { "tabSize": 2, "insertSpaces": true } }),
        )
        .await;
    assert_eq!(formatting, Ok(json!([])));
    let queries = started.elapsed();
    eprintln!("5 MB garbage: diagnostics in {published:?}, six queries in {queries:?}");
    // And the small document is still served.
    let answer = client
        .request("textDocument/hover", doc(URI, at("v1", CLEAN)))
        .await;
    assert!(answer.is_ok());
}

#[tokio::test]
async fn unknown_methods_are_refused_and_the_server_goes_on() {
    let mut client = opened(CLEAN).await;
    let answer = client.request("routec/unknown", json!({})).await;
    assert_eq!(answer.unwrap_err()["code"], -32601);
    let answer = client.request("shutdown", Value::Null).await;
    assert_eq!(answer, Ok(Value::Null));
}
