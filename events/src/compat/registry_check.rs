//! [`check_registry`]: the compatibility check of every event type and version of a
//! registry against a published one.

use super::mode::{Mode, Policy};
use super::published::differences;
use super::rule::Rule;
use super::upcast::{Upcasts, check_upcasts};
use super::violation::Violation;
use crate::Registry;

/// Checks the `current` schemas against the `published` registry and returns every
/// violation, sorted by event type and version.
///
/// - A version in both must have the same data schema, annotations aside
///   ([`Rule::PublishedVersionModified`], once per difference); a published version must
///   still exist ([`Rule::PublishedVersionRemoved`]). These hold whatever the mode.
/// - A version only in `current`, of a type with published versions, is checked with
///   [`check_schema`](super::check_schema) against the latest published version below it,
///   or against every published version below it when the mode is transitive.
/// - A type with no published version has nothing to break.
///
/// This is the check by schemas alone, for registries without their code; with the code,
/// [`check_registry_with_upcasts`] checks versions that upcast by running their upcasters.
pub fn check_registry(
    published: &Registry,
    current: &Registry,
    mode: Mode,
    policy: Policy,
) -> Vec<Violation> {
    check(published, current, mode, policy, None)
}

/// [`check_registry`], with a new version that upcasts from older ones (`upcast_from`)
/// checked by its code instead of its schema: a consumer built with it upcasts older data
/// rather than reading it as the new type. Its upcast chain must reach every published
/// version below it ([`Rule::UpcastChainIncomplete`]), and every published example of those
/// versions, and a sample made from each of their schemas, must decode, upcast
/// ([`Rule::UpcasterFailed`]) and validate against the new schema
/// ([`Rule::UpcastOutputInvalid`]). Whether consumers that only know the older versions
/// are ready for the new one is a question of rollout, not of schemas: `check --consumers`.
pub fn check_registry_with_upcasts(
    published: &Registry,
    current: &Registry,
    mode: Mode,
    policy: Policy,
    upcasts: &dyn Upcasts,
) -> Vec<Violation> {
    check(published, current, mode, policy, Some(upcasts))
}

fn check(
    published: &Registry,
    current: &Registry,
    mode: Mode,
    policy: Policy,
    upcasts: Option<&dyn Upcasts>,
) -> Vec<Violation> {
    let mut violations = Vec::new();
    for (event_type, version, entry) in published.iter() {
        let fixed = |pointer: String, rule: Rule, detail: String| Violation {
            event_type: event_type.to_owned(),
            version,
            against_version: None,
            direction: None,
            pointer,
            rule,
            detail,
        };
        match current.get(event_type, version) {
            None => violations.push(fixed(
                String::new(),
                Rule::PublishedVersionRemoved,
                format!("version {version} is published but the current types do not define it"),
            )),
            Some(now) => {
                for (pointer, what) in differences(&entry.data_schema, &now.data_schema) {
                    violations.push(fixed(pointer, Rule::PublishedVersionModified, what));
                }
            }
        }
    }
    for (event_type, version, entry) in current.iter() {
        if published.get(event_type, version).is_some() {
            continue;
        }
        if let (Some(_), Some(code)) = (entry.upcast_from, upcasts) {
            violations.extend(check_upcasts(
                published, current, event_type, version, entry, code,
            ));
            continue;
        }
        let earlier: Vec<u32> = published
            .versions_of(event_type)
            .into_iter()
            .filter(|v| *v < version)
            .collect();
        let against: &[u32] = match (mode.is_transitive(), earlier.split_last()) {
            (true, _) => &earlier,
            (false, Some((latest, _))) => std::slice::from_ref(latest),
            (false, None) => &[],
        };
        for &old_version in against {
            let Some(old) = published.get(event_type, old_version) else {
                continue;
            };
            let found = super::check_schema(&old.data_schema, &entry.data_schema, mode, policy);
            violations.extend(found.into_iter().map(|v| Violation {
                event_type: event_type.to_owned(),
                version,
                against_version: Some(old_version),
                direction: Some(v.direction),
                pointer: v.pointer,
                rule: v.rule,
                detail: v.detail,
            }));
        }
    }
    // Stable: within one version, fixed rules first, then each checked version in order.
    violations.sort_by(|a, b| (&a.event_type, a.version).cmp(&(&b.event_type, b.version)));
    violations
}
