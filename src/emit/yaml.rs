//! The only file that knows the YAML crate: serde-saphyr.
//!
//! serde-saphyr quotes every string a YAML 1.1 reader would take for something else
//! ("yes", "on", "12:30", "2001-12-14", "~", "0755"), writes fields in struct order and
//! sequences at their key's indentation, as Kubernetes documentation does. Long strings
//! stay on one line (no folded block scalars) so that diffs stay readable.

use serde::Serialize;

/// Serialises one object to YAML, ending in a newline.
pub fn to_string<T: Serialize>(value: &T) -> String {
    serde_saphyr::to_string_with_options(
        value,
        serde_saphyr::ser_options! { prefer_block_scalars: false },
    )
    .expect("the emitter's own structs always serialise: string keys, no non-finite floats")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn strings_a_yaml_1_1_reader_would_misread_are_quoted() {
        for word in [
            "true", "yes", "on", "off", "1.0", "0755", "~", "null", "12:30", "",
        ] {
            let mut map = BTreeMap::new();
            map.insert("k", word);
            let text = to_string(&map);
            assert!(
                text == format!("k: \"{word}\"\n") || text == format!("k: '{word}'\n"),
                "{word:?} came out as {text:?}"
            );
        }
    }

    #[test]
    fn plain_strings_stay_plain() {
        let mut map = BTreeMap::new();
        map.insert("k", "/api/v2/");
        assert_eq!(to_string(&map), "k: /api/v2/\n");
    }
}
