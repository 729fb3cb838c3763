//! Compiles in the root certificates AWS service endpoints chain to, for the HTTPS client
//! of the AWS clients (features `dynamodb` and `publisher`): Amazon Root CA 1 to 4 and
//! Starfield Services Root Certificate Authority - G2, picked here from the Mozilla set of
//! `webpki-root-certs`. Picking them at build time leaves the other roots (about 110 KB of a
//! function's binary) out; a client parses only these at start.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    #[cfg(any(feature = "dynamodb", feature = "publisher"))]
    amazon_roots::write();
}

#[cfg(any(feature = "dynamodb", feature = "publisher"))]
mod amazon_roots {
    use std::fmt::Write as _;
    use std::path::PathBuf;

    /// The subjects of the roots AWS endpoints chain to. The four Amazon roots are required:
    /// without them no AWS call could be verified. Starfield Services G2 only cross-signs
    /// them for old clients, so a Mozilla set without it still builds, with a warning.
    const AMAZON: [&str; 4] = [
        "Amazon Root CA 1",
        "Amazon Root CA 2",
        "Amazon Root CA 3",
        "Amazon Root CA 4",
    ];
    const STARFIELD: &str = "Starfield Services Root Certificate Authority - G2";

    /// Writes each root as a DER file in `OUT_DIR`, and `amazon_roots.rs`, which includes
    /// them as `AMAZON_ROOTS`.
    pub fn write() {
        let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
        let all = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
        let find = |subject: &str| {
            all.iter()
                .map(|root| root.as_ref())
                .find(|der| names(der, subject))
        };
        let mut roots: Vec<&[u8]> = AMAZON
            .iter()
            .map(|subject| {
                find(subject).unwrap_or_else(|| {
                    panic!(
                        "webpki-root-certs has no `{subject}`, a root AWS endpoints chain to; \
                         pin a version of it that has"
                    )
                })
            })
            .collect();
        match find(STARFIELD) {
            Some(root) => roots.push(root),
            None => println!("cargo::warning=webpki-root-certs has no `{STARFIELD}`: left out"),
        }
        let mut source = format!(
            "/// The roots AWS service endpoints chain to, DER-encoded (written by build.rs).\n\
             pub(crate) const AMAZON_ROOTS: [&[u8]; {}] = [\n",
            roots.len()
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

    /// Whether the DER certificate `der` names `subject`. Root certificates are self-signed,
    /// so a root's name appears as both its issuer and its subject; no other root of the set
    /// carries another's name.
    fn names(der: &[u8], subject: &str) -> bool {
        der.windows(subject.len())
            .any(|window| window == subject.as_bytes())
    }
}
