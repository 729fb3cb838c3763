//! Compiles in the root certificates AWS service endpoints chain to, for the HTTPS client
//! of the AWS clients (features `dynamodb` and `publisher`): Amazon Root CA 1 to 4 and
//! Starfield Services Root Certificate Authority - G2, picked here from the Mozilla set of
//! `webpki-root-certs`. Picking them at build time leaves the other roots, about 150 KB,
//! out of every function's binary; a client parses only these five at start.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    #[cfg(any(feature = "dynamodb", feature = "publisher"))]
    amazon_roots::write();
}

#[cfg(any(feature = "dynamodb", feature = "publisher"))]
mod amazon_roots {
    use std::fmt::Write as _;
    use std::path::PathBuf;

    /// How many roots AWS endpoints chain to; a different count means the Mozilla set
    /// changed in a way the filter below must be reviewed for.
    const EXPECTED: usize = 5;

    /// Writes each root as a DER file in `OUT_DIR`, and `amazon_roots.rs`, which includes
    /// them as `AMAZON_ROOTS`.
    pub fn write() {
        let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
        let roots: Vec<&[u8]> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|root| root.as_ref())
            .filter(|der| is_amazon_root(der))
            .collect();
        assert_eq!(
            roots.len(),
            EXPECTED,
            "webpki-root-certs holds {} roots naming Amazon Root CA or Starfield Services \
             Root G2, not {EXPECTED}: review the roots AWS endpoints chain to",
            roots.len()
        );
        let mut source = String::from(
            "/// The roots AWS service endpoints chain to, DER-encoded (written by build.rs).\n\
             pub(crate) const AMAZON_ROOTS: [&[u8]; 5] = [\n",
        );
        for (i, der) in roots.iter().enumerate() {
            let file = format!("amazon-root-{i}.der");
            std::fs::write(out.join(&file), der).expect("write a root to OUT_DIR");
            writeln!(
                source,
                "    include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{file}\")),"
            )
            .expect("write to a string");
        }
        source.push_str("];\n");
        std::fs::write(out.join("amazon_roots.rs"), source).expect("write amazon_roots.rs");
    }

    /// Whether a root certificate's subject names Amazon Root CA (1 to 4) or Starfield
    /// Services Root Certificate Authority - G2.
    fn is_amazon_root(der: &[u8]) -> bool {
        let names = |needle: &[u8]| der.windows(needle.len()).any(|window| window == needle);
        names(b"Amazon Root CA") || names(b"Starfield Services Root Certificate Authority - G2")
    }
}
