//! A store wrapper that checks mutual exclusion as the pipeline sees it: a key (or a
//! subject) may be granted again only once its previous holder released it, completed it
//! (a subject), or let its lock lapse, and never after a confirmed completion (a key). Any
//! other grant is a lock given to a second live holder: the defect that lets an effect run
//! twice with nothing failing. Completions and releases refused as `LockLost` are counted too:
//! in these runs every such write is sent before its lock's lapse, so a refusal means the lock
//! was taken from a live holder.
//!
//! It is also where a chaos run kills invocations at the worst moments: an invocation run
//! inside [`KILL_AT`] dies at that point of its store calls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tidings::store::{
    Claim, ClaimOutcome, Completion, EpochMillis, LockOwner, Release, Store, StoreError,
};

/// Where an invocation dies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillPoint {
    /// After its claims landed, before it learns the answer: locks held, nothing run.
    AfterClaim,
    /// After its handlers ran, before their completions reach the store.
    BeforeCompletion,
    /// After its completions landed, before it answers: done, but redelivered.
    AfterCompletion,
    /// After its releases landed.
    AfterRelease,
}

impl KillPoint {
    /// Every point, to draw from.
    pub const ALL: [KillPoint; 4] = [
        KillPoint::AfterClaim,
        KillPoint::BeforeCompletion,
        KillPoint::AfterCompletion,
        KillPoint::AfterRelease,
    ];
}

/// A death planned for one invocation: where, and how the harness learns it happened.
#[derive(Debug, Clone)]
pub struct Kill {
    pub point: KillPoint,
    pub died: Arc<tokio::sync::Notify>,
}

tokio::task_local! {
    /// The death planned for the current invocation, if any.
    pub static KILL_AT: Option<Kill>;
}

/// When the current invocation is to die at `point`: tells the harness, which drops the
/// invocation at once, and hangs until it does.
async fn die_at(point: KillPoint) {
    let died = KILL_AT
        .try_with(|kill| {
            kill.as_ref()
                .filter(|kill| kill.point == point)
                .map(|kill| Arc::clone(&kill.died))
        })
        .ok()
        .flatten();
    if let Some(died) = died {
        died.notify_one();
        std::future::pending::<()>().await;
    }
}

/// One grant of a lock.
#[derive(Debug, Clone)]
struct Grant {
    owner: LockOwner,
    until: EpochMillis,
    /// A release or completion was sent (counted when sent: a write whose answer is lost
    /// may still have landed).
    ended: bool,
    /// The store confirmed its completion.
    confirmed: bool,
}

#[derive(Debug, Default)]
struct Seen {
    keys: HashMap<String, Vec<Grant>>,
    subjects: HashMap<String, Vec<Grant>>,
    violations: Vec<String>,
}

impl Seen {
    /// Records a grant of `name` at `now`, checking the grant before it.
    fn grant(
        &mut self,
        subject: bool,
        name: &str,
        owner: &LockOwner,
        now: EpochMillis,
        until: EpochMillis,
    ) {
        let grants = if subject {
            self.subjects.entry(name.to_owned()).or_default()
        } else {
            self.keys.entry(name.to_owned()).or_default()
        };
        let broken = grants.last().and_then(|previous| {
            if previous.owner == *owner {
                None
            } else if previous.confirmed && !subject {
                Some(format!(
                    "{name} granted to {owner} after {}'s completion was confirmed",
                    previous.owner
                ))
            } else if !previous.ended && previous.until >= now {
                Some(format!(
                    "{name} granted to {owner} at {now} while {} held it until {}",
                    previous.owner, previous.until
                ))
            } else {
                None
            }
        });
        grants.push(Grant {
            owner: owner.clone(),
            until,
            ended: false,
            confirmed: false,
        });
        if let Some(broken) = broken {
            self.violations.push(broken);
        }
    }

    fn end(&mut self, key: &str, subject: Option<&str>, owner: &LockOwner, confirmed: bool) {
        let mark = |grants: Option<&mut Vec<Grant>>| {
            if let Some(grant) =
                grants.and_then(|grants| grants.iter_mut().rev().find(|g| g.owner == *owner))
            {
                grant.ended = true;
                grant.confirmed |= confirmed;
            }
        };
        mark(self.keys.get_mut(key));
        if let Some(subject) = subject {
            mark(self.subjects.get_mut(subject));
        }
    }
}

/// Wraps a store, checking every grant it answers.
pub struct Witness<S> {
    inner: Arc<S>,
    seen: Mutex<Seen>,
}

impl<S: Store> Witness<S> {
    pub fn new(inner: Arc<S>) -> Self {
        Self {
            inner,
            seen: Mutex::default(),
        }
    }

    /// How many times the key ending in `#{event_id}` was granted.
    pub fn grants(&self, event_id: &str) -> usize {
        let suffix = format!("#{event_id}");
        self.seen
            .lock()
            .expect("witness")
            .keys
            .iter()
            .find(|(key, _)| key.ends_with(&suffix))
            .map_or(0, |(_, grants)| grants.len())
    }

    /// Every grant given to a second live holder, and every write refused as `LockLost`.
    pub fn violations(&self) -> Vec<String> {
        self.seen.lock().expect("witness").violations.clone()
    }
}

#[async_trait::async_trait]
impl<S: Store> Store for Witness<S> {
    async fn claim(
        &self,
        claims: &[Claim],
        now: EpochMillis,
    ) -> Vec<Result<ClaimOutcome, StoreError>> {
        let answers = self.inner.claim(claims, now).await;
        {
            let mut seen = self.seen.lock().expect("witness");
            for (claim, answer) in claims.iter().zip(&answers) {
                if let Ok(ClaimOutcome::Acquired) = answer {
                    let until = claim.lock_expires_at;
                    seen.grant(false, &claim.key, &claim.owner, now, until);
                    if let Some(ordering) = &claim.ordering {
                        seen.grant(true, &ordering.subject, &claim.owner, now, until);
                    }
                }
            }
        }
        die_at(KillPoint::AfterClaim).await;
        answers
    }

    async fn complete(&self, completions: &[Completion]) -> Vec<Result<(), StoreError>> {
        die_at(KillPoint::BeforeCompletion).await;
        {
            let mut seen = self.seen.lock().expect("witness");
            for c in completions {
                seen.end(&c.key, c.subject.as_deref(), &c.owner, false);
            }
        }
        let answers = self.inner.complete(completions).await;
        {
            let mut seen = self.seen.lock().expect("witness");
            for (c, answer) in completions.iter().zip(&answers) {
                match answer {
                    Ok(()) => seen.end(&c.key, c.subject.as_deref(), &c.owner, true),
                    Err(StoreError::LockLost(_)) => seen.violations.push(format!(
                        "completion of {} by {} refused: LockLost",
                        c.key, c.owner
                    )),
                    Err(_) => {}
                }
            }
        }
        die_at(KillPoint::AfterCompletion).await;
        answers
    }

    async fn release(&self, releases: &[Release]) -> Vec<Result<(), StoreError>> {
        {
            let mut seen = self.seen.lock().expect("witness");
            for r in releases {
                seen.end(&r.key, r.subject.as_deref(), &r.owner, false);
            }
        }
        let answers = self.inner.release(releases).await;
        {
            let mut seen = self.seen.lock().expect("witness");
            for (r, answer) in releases.iter().zip(&answers) {
                if let Err(StoreError::LockLost(_)) = answer {
                    seen.violations.push(format!(
                        "release of {} by {} refused: LockLost",
                        r.key, r.owner
                    ));
                }
            }
        }
        die_at(KillPoint::AfterRelease).await;
        answers
    }
}
