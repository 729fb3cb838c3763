//! Records of one batch that need not run themselves: later copies of an event follow its
//! first record, and under `latest_wins` older events of a subject follow the newest one in
//! the batch. A follower takes its outcome from its leader's once the batch has run.

use std::collections::HashMap;

use super::prepare::{FollowKind, Record, Stage};
use super::round::key_reused;
use crate::SubjectOrdering;
use crate::pipeline::outcome::{Outcome, ReasonCode};
use crate::store::{Claim, KeyHashing};

/// Makes later copies of an event, and (under `latest_wins`) older events of a subject that
/// a newer event of the same batch supersedes, follow that record instead of running.
pub(super) fn assign_leaders<E>(records: &mut [Record<E>], ordering: SubjectOrdering) {
    // The decisions are taken on the claims as they stand, borrowing their keys, and
    // applied afterwards.
    let mut decisions: Vec<(usize, Stage<E>)> = Vec::new();
    {
        let claims: Vec<(usize, &Claim)> = records
            .iter()
            .enumerate()
            .filter_map(|(i, record)| match &record.stage {
                Stage::Ready(ready) => Some((i, &ready.claim)),
                _ => None,
            })
            .collect();
        // Each key's first record, with its payload hash.
        let mut by_key: HashMap<&str, (usize, &str), KeyHashing> =
            HashMap::with_capacity_and_hasher(claims.len(), KeyHashing::default());
        let mut by_subject: HashMap<&str, (usize, u64), KeyHashing> = HashMap::default();
        let mut leading = Vec::with_capacity(claims.len());
        for &(i, claim) in &claims {
            if let Some(&(leader, hash)) = by_key.get(claim.key.as_str()) {
                // A key reused for other data within one batch is caught here, as the store
                // catches it across batches: such a record is no copy of the one it would
                // follow.
                let stage = if hash == claim.payload_hash {
                    Stage::Follows {
                        leader,
                        kind: FollowKind::SameKey,
                    }
                } else {
                    Stage::Done(key_reused(&claim.key))
                };
                decisions.push((i, stage));
                continue;
            }
            by_key.insert(&claim.key, (i, &claim.payload_hash));
            leading.push((i, claim));
            if ordering == SubjectOrdering::LatestWins
                && let Some(order) = &claim.ordering
            {
                by_subject
                    .entry(&order.subject)
                    .and_modify(|best| {
                        if order.sequence > best.1 {
                            *best = (i, order.sequence);
                        }
                    })
                    .or_insert((i, order.sequence));
            }
        }
        for (i, claim) in leading {
            let Some(order) = &claim.ordering else {
                continue;
            };
            let (leader, newest) = by_subject[order.subject.as_str()];
            if leader != i {
                decisions.push((
                    i,
                    Stage::Follows {
                        leader,
                        kind: FollowKind::Superseded {
                            sequence: order.sequence,
                            by: newest,
                        },
                    },
                ));
            }
        }
    }
    for (i, stage) in decisions {
        records[i].stage = stage;
    }
}

/// Gives every follower its outcome from its leader's.
///
/// A copy of an event follows the event's first record, which may itself follow a newer
/// event of its subject; a newer event never follows. Resolving in batch order therefore
/// finishes every leader before its followers: a copy comes after the record it follows,
/// and that record's own leader is done once the batch has run.
pub(super) fn resolve_followers<E>(records: &mut [Record<E>]) {
    for i in 0..records.len() {
        let Stage::Follows { leader, kind } = records[i].stage else {
            continue;
        };
        let Stage::Done(leader_outcome) = &records[leader].stage else {
            unreachable!("a leader is resolved before its followers");
        };
        let outcome = follower_outcome(leader_outcome, kind);
        records[i].stage = Stage::Done(outcome);
    }
}

/// The outcome of a record that followed a leader with `leader_outcome`.
fn follower_outcome(leader_outcome: &Outcome, kind: FollowKind) -> Outcome {
    match (leader_outcome, kind) {
        (Outcome::Retry(_), FollowKind::SameKey) => Outcome::retry(
            ReasonCode::BatchSibling,
            "another copy of this event in the same batch failed; retried with it",
        ),
        // A newer event that is retried, or was refused its claim for a reused key, may not
        // have moved the subject's mark: retry the older one with it.
        (Outcome::Retry(_), FollowKind::Superseded { .. }) => Outcome::retry(
            ReasonCode::BatchSibling,
            "a newer event of the same subject in this batch failed; retried with it",
        ),
        (Outcome::Rejected { reason, .. }, FollowKind::Superseded { .. })
            if reason.code == ReasonCode::KeyReused =>
        {
            Outcome::retry(
                ReasonCode::BatchSibling,
                "a newer event of the same subject in this batch was refused its claim; \
                 retried after it",
            )
        }
        (_, FollowKind::SameKey) => Outcome::Duplicate,
        (leader_outcome, FollowKind::Superseded { sequence, by }) => {
            let newest = match leader_outcome {
                Outcome::Stale { newest, .. } => (*newest).max(by),
                _ => by,
            };
            // A superseded record has a key of its own, so at the leader's very sequence it is
            // another event claiming the same version of the subject: a conflict, stale too.
            Outcome::Stale { sequence, newest }
        }
    }
}
