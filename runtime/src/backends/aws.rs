//! The AWS SDK configuration shared by the store, the dead-letter queue and the publisher.

use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};

pub use crate::entry::config::{AwsSettings, TlsRoots};

/// The SDK configuration from the environment, as Lambda provides it (region, credentials;
/// `AWS_ENDPOINT_URL` points every client at a local AWS-API server), with tidings'
/// [`AwsSettings`] from `TIDINGS_AWS_TIMEOUT_MS` and `TIDINGS_TLS_ROOTS`.
///
/// Loading reads the environment only: the region from `AWS_REGION`, credentials on the
/// first call, so a cold start makes no network call here. Lambda always sets `AWS_REGION`;
/// a program elsewhere (a producer on a server, a script) sets it too, since a region in
/// `~/.aws/config` is not read.
///
/// # Panics
///
/// When `TIDINGS_AWS_TIMEOUT_MS` or `TIDINGS_TLS_ROOTS` is invalid, with a message naming the
/// variable and what it should be: a setting must not be replaced by a default silently. A
/// handler's function checks both at start, before its first poll ([`Config`]);
/// [`sdk_config_with`] takes settings already read.
///
/// [`Config`]: crate::lambda::Config
pub async fn sdk_config() -> SdkConfig {
    let settings = AwsSettings::from_env().unwrap_or_else(|invalid| panic!("{invalid}"));
    sdk_config_with(&settings).await
}

/// [`sdk_config`] with `settings` rather than those of the environment.
pub async fn sdk_config_with(settings: &AwsSettings) -> SdkConfig {
    let timeout = settings.attempt_timeout;
    // HTTPS through rustls on ring (see the `dynamodb` feature), trusting the roots compiled
    // into the binary rather than reading the system's certificate files at start.
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls_context(settings.tls_roots))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https)
        // The region comes from the environment only (Lambda always sets AWS_REGION): the
        // default chain would fall back to the instance metadata service, a network call.
        .region(EnvironmentVariableRegionProvider::new())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(timeout)
                .operation_timeout(timeout * 2)
                .build(),
        )
        .load()
        .await
}

/// A TLS context trusting `roots` (see [`TlsRoots`]).
///
/// Every root the store holds is parsed when a client's connector is built: the whole Mozilla
/// set, or the system's, cost a function about 3 ms of every cold start, the five Amazon roots
/// a few microseconds (`cargo bench -p tidings-tests --bench cold_start`).
fn tls_context(roots: TlsRoots) -> TlsContext {
    let store = match roots {
        TlsRoots::Amazon => AMAZON_ROOTS.iter().fold(
            TrustStore::empty().with_native_roots(false),
            |store, root| store.with_pem_certificate(pem(root)),
        ),
        TlsRoots::System => TrustStore::empty().with_native_roots(true),
    };
    TlsContext::builder()
        .with_trust_store(store)
        .build()
        .expect("a trust store of certificates is a valid TLS context")
}

// `AMAZON_ROOTS`, picked by build.rs.
include!(concat!(env!("OUT_DIR"), "/amazon_roots.rs"));

/// A DER certificate as PEM, the form the SDK's trust store takes.
fn pem(der: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut base64 = Vec::with_capacity(der.len().div_ceil(3) * 4);
    for chunk in der.chunks(3) {
        let bytes = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(bytes[0]) << 16) | (u32::from(bytes[1]) << 8) | u32::from(bytes[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                base64.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]);
            } else {
                base64.push(b'=');
            }
        }
    }
    let mut pem = b"-----BEGIN CERTIFICATE-----\n".to_vec();
    for line in base64.chunks(64) {
        pem.extend_from_slice(line);
        pem.push(b'\n');
    }
    pem.extend_from_slice(b"-----END CERTIFICATE-----\n");
    pem
}

#[cfg(test)]
mod tests {
    use super::{AMAZON_ROOTS, pem};

    #[test]
    fn the_amazon_roots_are_the_four_amazon_cas_and_starfield_services_g2() {
        let names = |der: &[u8], name: &str| {
            der.windows(name.len())
                .any(|window| window == name.as_bytes())
        };
        for n in 1..=4 {
            let name = format!("Amazon Root CA {n}");
            assert!(
                AMAZON_ROOTS.iter().any(|der| names(der, &name)),
                "{name} is compiled in"
            );
        }
        assert!(
            AMAZON_ROOTS
                .iter()
                .any(|der| names(der, "Starfield Services Root Certificate Authority - G2")),
            "Starfield Services Root G2 is compiled in"
        );
    }

    #[test]
    fn pem_is_base64_in_lines_of_64_between_the_markers() {
        let three = String::from_utf8(pem(b"Man is")).unwrap();
        assert_eq!(
            three,
            "-----BEGIN CERTIFICATE-----\nTWFuIGlz\n-----END CERTIFICATE-----\n"
        );
        let two = String::from_utf8(pem(b"Ma")).unwrap();
        assert!(two.contains("\nTWE=\n"), "{two}");
        let long = String::from_utf8(pem(&[0u8; 60])).unwrap();
        assert_eq!(long.lines().nth(1).unwrap().len(), 64);
    }
}
