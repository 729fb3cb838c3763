//! JSON pointers (RFC 6901) into schema documents, and the local `$ref`s that use them.

/// `pointer` extended by one reference token, escaped as RFC 6901 requires.
pub(super) fn child(pointer: &str, token: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + token.len() + 1);
    out.push_str(pointer);
    out.push('/');
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

/// `pointer` extended by an array index.
pub(super) fn index(pointer: &str, index: usize) -> String {
    format!("{pointer}/{index}")
}

/// The JSON pointer a `$ref` names when it points into the same document (`#` or
/// `#/$defs/Name`); `None` for references to other documents, which the check cannot follow.
pub(super) fn local_ref(reference: &str) -> Option<String> {
    let fragment = reference.strip_prefix('#')?;
    if !(fragment.is_empty() || fragment.starts_with('/')) {
        // A named anchor (`#name`) needs an index of `$anchor`s; schemars never writes one.
        return None;
    }
    percent_decode(fragment)
}

/// The last reference token of a pointer, unescaped: the definition name of
/// `/$defs/OrderLine`.
pub(super) fn last_token(pointer: &str) -> &str {
    pointer.rsplit('/').next().unwrap_or(pointer)
}

/// URI fragments percent-encode what is not allowed in them; pointers do not.
fn percent_decode(fragment: &str) -> Option<String> {
    let bytes = fragment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = fragment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_escapes_tilde_and_slash() {
        assert_eq!(child("/properties", "a/b~c"), "/properties/a~1b~0c");
    }

    #[test]
    fn local_refs_are_pointers_and_others_are_not() {
        assert_eq!(local_ref("#/$defs/Line").as_deref(), Some("/$defs/Line"));
        assert_eq!(local_ref("#").as_deref(), Some(""));
        assert_eq!(local_ref("#/$defs/A%20B").as_deref(), Some("/$defs/A B"));
        assert_eq!(local_ref("other.json#/x"), None);
        assert_eq!(local_ref("#anchor"), None);
    }
}
